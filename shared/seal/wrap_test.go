package seal

import (
	"errors"
	"testing"
)

func TestWrapRoundTrip(t *testing.T) {
	kek, dek := NewKey(), NewKey()
	wrapped, err := WrapKey(kek, dek, "recording 1")
	if err != nil {
		t.Fatal(err)
	}
	if len(wrapped) != WrappedSize {
		t.Fatalf("wrapped key is %d bytes, want %d", len(wrapped), WrappedSize)
	}
	got, err := UnwrapKey(kek, wrapped, "recording 1")
	if err != nil || got != dek {
		t.Fatalf("UnwrapKey: %v", err)
	}
	again, _ := WrapKey(kek, dek, "recording 1")
	if string(again) == string(wrapped) {
		t.Fatal("two wraps of the same key are identical: the nonce is not random")
	}
}

func TestUnwrapRefuses(t *testing.T) {
	kek, dek := NewKey(), NewKey()
	wrapped, err := WrapKey(kek, dek, "recording 1")
	if err != nil {
		t.Fatal(err)
	}
	otherKEK := kek
	otherKEK[0] ^= 1
	if _, err := UnwrapKey(otherKEK, wrapped, "recording 1"); !errors.Is(err, ErrTampered) {
		t.Errorf("wrong kek: %v, want ErrTampered", err)
	}
	if _, err := UnwrapKey(kek, wrapped, "recording 2"); !errors.Is(err, ErrTampered) {
		t.Errorf("wrong purpose: %v, want ErrTampered", err)
	}
	for i := range wrapped {
		b := []byte(string(wrapped))
		b[i] ^= 0x80
		want := ErrTampered
		if i == 0 {
			want = ErrVersion
		}
		if _, err := UnwrapKey(kek, b, "recording 1"); !errors.Is(err, want) {
			t.Errorf("flip byte %d: %v, want %v", i, err, want)
		}
	}
	if _, err := UnwrapKey(kek, wrapped[:len(wrapped)-1], "recording 1"); !errors.Is(err, ErrFormat) {
		t.Errorf("short: %v, want ErrFormat", err)
	}
	if _, err := WrapKey(kek, dek, ""); err == nil {
		t.Error("WrapKey with no purpose succeeded")
	}
}
