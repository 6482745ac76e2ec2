package daemon

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"framecast.dev/server/internal/config"
)

// An OIDC provider in the test process: zitadel/oidc's example OpenID
// Provider (its op package with the example storage and login page), with
// our own users. It enforces PKCE (S256) and checks the client secret.

type opUsers map[string]*storage.User

func (u opUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u opUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u opUsers) ExampleClientID() string { return "service" }

type provider struct {
	Issuer, ClientID, Secret string
}

// startOP runs a provider that knows the given users and one web client
// whose redirect URIs are those of a Framecast server at base.
func startOP(t *testing.T, users opUsers, redirects ...string) provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/"
	p := provider{Issuer: issuer, ClientID: "framecast-test", Secret: "op-client-secret"}
	clients := map[string]*storage.Client{p.ClientID: storage.WebClient(p.ClientID, p.Secret, redirects...)}
	router := exampleop.SetupServer(issuer, storage.NewStorageWithClients(users, clients), nil, false)
	srv := &http.Server{Handler: router}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// reserve picks a loopback address for a Framecast server before it starts,
// so the provider can know its redirect URI.
func reserve(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func withProviders(google, microsoft *provider) func(*config.Config) {
	return func(c *config.Config) {
		if google != nil {
			c.Google = config.OIDCProvider{Issuer: google.Issuer, ClientID: google.ClientID, ClientSecret: google.Secret}
		}
		if microsoft != nil {
			c.Microsoft = config.OIDCProvider{Issuer: microsoft.Issuer, ClientID: microsoft.ClientID, ClientSecret: microsoft.Secret}
		}
	}
}

var authRequestRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// oidcSignIn runs the whole dance in b: our /auth/{provider}, the
// provider's authorize endpoint, its login page (username, password), its
// callback, and our callback. It returns our server's last answer.
func oidcSignIn(t *testing.T, b *browser, name, username, password string) answer {
	t.Helper()
	a := b.get("/auth/" + name)
	if a.Status != http.StatusSeeOther {
		t.Fatalf("/auth/%s: %d %s", name, a.Status, clip(a.Body))
	}
	for range 10 {
		switch {
		case a.Status == http.StatusOK && strings.Contains(a.Body, `name="password"`) && strings.Contains(a.Body, `/login/username`):
			m := authRequestRE.FindStringSubmatch(a.Body)
			if m == nil {
				t.Fatalf("provider login page without the request id:\n%s", a.Body)
			}
			opBase := b.lastOrigin
			form := url.Values{"id": {m[1]}, "username": {username}, "password": {password}}
			a = b.doAt(opBase, http.MethodPost, "/login/username", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
		case a.Status >= 300 && a.Status < 400:
			if strings.HasPrefix(a.Location, b.base) || strings.HasPrefix(a.Location, "/") && b.lastOrigin == b.base {
				loc := strings.TrimPrefix(a.Location, b.base)
				if strings.HasPrefix(loc, "/auth/"+name+"/callback") {
					return b.get(loc)
				}
				return a
			}
			a = b.follow(a.Location)
		default:
			return a
		}
	}
	t.Fatal("too many redirects in the OIDC dance")
	return answer{}
}

func TestOIDCSignIn(t *testing.T) {
	addr := reserve(t)
	base := "http://" + addr
	users := opUsers{
		"g1": {ID: "g1", Username: "ada", Password: "verysecure", FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com", EmailVerified: true},
		"g2": {ID: "g2", Username: "bob", Password: "verysecure", FirstName: "Bob", LastName: "B", Email: "bob@example.com", EmailVerified: true},
		"m1": {ID: "m1", Username: "carol", Password: "verysecure", FirstName: "Carol", LastName: "C", Email: "carol@example.com", EmailVerified: false},
		"m2": {ID: "m2", Username: "dan", Password: "verysecure", FirstName: "Dan", LastName: "D", Email: "dan@example.com", EmailVerified: false},
	}
	google := startOP(t, users, base+"/auth/google/callback")
	microsoft := startOP(t, users, base+"/auth/microsoft/callback")
	ts, smtp := startAccounts(t, nil, func(c *config.Config) { c.Listen, c.BaseURL = addr, base }, withProviders(&google, &microsoft))

	// The sign-in page offers both; the authorization request asks for
	// the minimal scopes with PKCE S256.
	b := newBrowser(t, ts.URL)
	want(t, b.get("/signin"), http.StatusOK, `href="/auth/google"`, "Sign in with Google", "Sign in with Microsoft")
	start := b.get("/auth/google?next=/devices")
	q := mustURL(start.Location).Query()
	if q.Get("scope") != "openid email profile" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 ||
		q.Get("state") == "" || q.Get("nonce") == "" || q.Get("redirect_uri") != base+"/auth/google/callback" {
		t.Fatalf("authorization request %s", start.Location)
	}

	// First sign-in makes a confirmed account without a password.
	a := oidcSignIn(t, b, "google", "ada", "verysecure")
	wantRedirect(t, a, "/library")
	ada, err := ts.d.store.UserByEmail(t.Context(), "ada@example.com")
	if err != nil || !ada.Verified() || ada.PasswordHash != "" || ada.Name != "Ada Lovelace" {
		t.Fatalf("account %+v, %v", ada, err)
	}
	want(t, b.get("/profile"), http.StatusOK, "Ada Lovelace", "google")
	// Signing in again finds the same account.
	b2 := newBrowser(t, ts.URL)
	wantRedirect(t, oidcSignIn(t, b2, "google", "ada", "verysecure"), "/library")
	if ids, _ := ts.d.store.Identities(t.Context(), ada.ID); len(ids) != 1 {
		t.Fatalf("identities %+v", ids)
	}

	// An existing password account is linked when the provider vouches
	// for the address.
	bob := signUp(t, ts, smtp, "Bob", "bob@example.com")
	b3 := newBrowser(t, ts.URL)
	wantRedirect(t, oidcSignIn(t, b3, "google", "bob", "verysecure"), "/library")
	if u, _ := ts.d.store.UserByEmail(t.Context(), "bob@example.com"); u.ID != bob.ID || u.PasswordHash == "" {
		t.Fatalf("bob after linking: %+v", u)
	}
	// ... but not when it does not (Microsoft sends no email_verified).
	signUp(t, ts, smtp, "Carol", "carol@example.com")
	want(t, oidcSignIn(t, newBrowser(t, ts.URL), "microsoft", "carol", "verysecure"), http.StatusConflict, "Sign in with your password")
	// A new address the provider does not vouch for gets an account and a
	// confirmation mail.
	wantRedirect(t, oidcSignIn(t, newBrowser(t, ts.URL), "microsoft", "dan", "verysecure"), "/library")
	smtp.WaitFor(t, "dan@example.com", "Confirm your e-mail address")

	// The callback only works in the browser that started the flow, once.
	thief := newBrowser(t, ts.URL)
	victim := newBrowser(t, ts.URL)
	a = victim.get("/auth/google")
	state := mustURL(a.Location).Query().Get("state")
	want(t, thief.get("/auth/google/callback?state="+url.QueryEscape(state)+"&code=x"), http.StatusForbidden)
	want(t, victim.get("/auth/google/callback?state="+url.QueryEscape(state)+"&code=x"), http.StatusUnauthorized, "expired or was already used")
	// A provider that says no.
	a = victim.get("/auth/google")
	state = mustURL(a.Location).Query().Get("state")
	want(t, victim.get("/auth/google/callback?state="+url.QueryEscape(state)+"&error=access_denied"), http.StatusUnauthorized, "did not sign you in")
	want(t, victim.get("/auth/nope"), http.StatusNotFound)
	if strings.Contains(ts.logs.String(), google.Secret) {
		t.Fatal("the client secret reached the log")
	}
}
