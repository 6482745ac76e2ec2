package api

import (
	"encoding/json"
	"testing"
)

func TestParseSegmentIndex(t *testing.T) {
	good := map[string]SegmentIndex{"0": 0, "7": 7, "123": 123, "999999": MaxSegmentIndex, "init": InitSegment}
	for s, want := range good {
		got, err := ParseSegmentIndex(s)
		if err != nil || got != want {
			t.Errorf("ParseSegmentIndex(%q) = %v, %v; want %v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), s)
		}
	}
	for _, s := range []string{"", "-1", "+1", "01", "1000000", "1e3", "0x1", " 1", "1 ", "INIT", "..", "%2e", "١"} {
		if _, err := ParseSegmentIndex(s); err == nil {
			t.Errorf("ParseSegmentIndex(%q) succeeded", s)
		}
	}
}

func TestSealIndex(t *testing.T) {
	if InitSegment.SealIndex() != 0xFFFFFFFF || SegmentIndex(5).SealIndex() != 5 {
		t.Fatal("seal index mapping changed: it is part of the wire format")
	}
}

func TestPaths(t *testing.T) {
	if got := SegmentPath("abc", InitSegment); got != "/api/v1/videos/abc/segments/init" {
		t.Fatal(got)
	}
	if got := SegmentPath("abc", 12); got != "/api/v1/videos/abc/segments/12" {
		t.Fatal(got)
	}
	if got := FinalizePath("abc"); got != "/api/v1/videos/abc/finalize" {
		t.Fatal(got)
	}
}

func TestErrorShape(t *testing.T) {
	b, err := json.Marshal(ErrorResponse{Error: Error{Status: 409, Code: CodeSHA256Conflict, Message: "m"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"error":{"code":"sha256_conflict","message":"m"}}` {
		t.Fatal(string(b))
	}
}

func TestDataKeyIsBase64(t *testing.T) {
	b, _ := json.Marshal(FinalizeRequest{SegmentCount: 1, SegmentDurations: []float64{2}, DataKey: make([]byte, 32)})
	want := `{"segment_count":1,"init":false,"segment_durations":[2],"data_key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}`
	if string(b) != want {
		t.Fatalf("got %s", b)
	}
}
