package account

import (
	"strings"
	"testing"

	"framecast.dev/server/internal/store"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Ada@Example.COM": "ada@example.com", "  ada@example.com ": "ada@example.com", "o'brien+x@example.com": "o'brien+x@example.com",
		"owner@localhost": "owner@localhost", "Zoe\u0301@example.com": "zoé@example.com",
	} {
		if got, err := normalizeEmail(in); err != nil || got != want {
			t.Errorf("normalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ada", "ada@", "@example.com", "Ada <ada@example.com>", "ada@example", "a b@example.com",
		"ada@example.com\x00", strings.Repeat("a", 250) + "@example.com", "' OR '1'='1", "ada@example.com, eve@example.com"} {
		if got, err := normalizeEmail(bad); err == nil {
			t.Errorf("normalizeEmail(%q) = %q, want an error", bad, got)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/library": "/library", "/device?code=BCDF-GHJK": "/device?code=BCDF-GHJK",
		"": "", "library": "", "//evil.example/x": "", "/\\evil.example": "", "https://evil.example/": "",
		"/ok\r\nSet-Cookie: x": "", "javascript:alert(1)": "",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUserCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := newUserCode()
		if len(c) != 8 || strings.Trim(c, userCodeAlphabet) != "" {
			t.Fatalf("user code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 990 {
		t.Fatalf("only %d different codes in 1000", len(seen))
	}
	for in, want := range map[string]string{"bcdf-ghjk": "BCDFGHJK", "BCDF GHJK": "BCDFGHJK", "BCDFGHJK": "BCDFGHJK",
		"BCDF-GHJ": "", "BCDF-GHJKL": "", "ABCD-EFGH": "", "BCDF-GHJ1": "", "../../x": ""} {
		if got := NormalizeUserCode(in); got != want {
			t.Errorf("NormalizeUserCode(%q) = %q, want %q", in, got, want)
		}
	}
	if FormatUserCode("BCDFGHJK") != "BCDF-GHJK" {
		t.Fatal("FormatUserCode")
	}
}

func TestTruncateIP(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.77": "192.0.2.0", "2001:db8:1234:5678::1": "2001:db8:1234::", "nonsense": ""} {
		if got := TruncateIP(in); got != want {
			t.Errorf("TruncateIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCleanButtons(t *testing.T) {
	got, err := cleanButtons([]store.CTAButton{{Label: " Book ", URL: " https://acme.example/book "}, {}, {Label: "Site", URL: "http://acme.example"}})
	if err != nil || len(got) != 2 || got[0] != (store.CTAButton{Label: "Book", URL: "https://acme.example/book"}) {
		t.Fatalf("cleanButtons = %+v, %v", got, err)
	}
	for _, bad := range [][]store.CTAButton{
		{{Label: "x", URL: "javascript:alert(1)"}}, {{Label: "x", URL: "data:text/html,hi"}}, {{Label: "x", URL: "//evil.example"}},
		{{Label: "x", URL: "https://user:pw@evil.example"}}, {{URL: "https://x.example"}}, {{Label: "x", URL: "https://x.example/\"><script>"}},
		{{Label: "1", URL: "https://a.example"}, {Label: "2", URL: "https://a.example"}, {Label: "3", URL: "https://a.example"}, {Label: "4", URL: "https://a.example"}},
	} {
		if _, err := cleanButtons(bad); err == nil {
			t.Errorf("cleanButtons(%+v) accepted", bad)
		}
	}
}

func TestPasswords(t *testing.T) {
	ctx := t.Context()
	h, err := hashPassword(ctx, "correct horse battery")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q, %v", h, err)
	}
	if ok, _ := passwordMatches(ctx, "correct horse battery", h); !ok {
		t.Fatal("the password does not match its hash")
	}
	if ok, _ := passwordMatches(ctx, "wrong", h); ok {
		t.Fatal("a wrong password matches")
	}
	if ok, _ := passwordMatches(ctx, "framecast dummy password", ""); ok {
		t.Fatal("an account without a password matched")
	}
	for _, bad := range []string{"short", strings.Repeat("x", MaxPasswordLen+1), "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6"} {
		if checkPassword("password", bad) == nil {
			t.Errorf("checkPassword accepted %q", bad)
		}
	}
}
