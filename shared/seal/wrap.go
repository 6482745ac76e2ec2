package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

const (
	wrapVersion = 1
	// WrappedSize is the length of a wrapped key.
	WrappedSize = 1 + nonceSize + len(Key{}) + TagSize
	wrapLabel   = "framecast seal v1 wrapped key\x00"
)

// WrapKey seals the data key dek under the key-encryption key kek. purpose
// says what dek is for (for example "recording 3f2a..."); UnwrapKey must be
// given the same purpose, so a wrapped key copied elsewhere does not open.
func WrapKey(kek, dek Key, purpose string) ([]byte, error) {
	var nonce [nonceSize]byte
	rand.Read(nonce[:])
	return wrapKey(kek, dek, purpose, nonce)
}

func wrapKey(kek, dek Key, purpose string, nonce [nonceSize]byte) ([]byte, error) {
	aead, err := wrapAEAD(kek, purpose)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, WrappedSize)
	out = append(out, wrapVersion)
	out = append(out, nonce[:]...)
	return aead.Seal(out, nonce[:], dek[:], []byte(wrapLabel+purpose)), nil
}

// UnwrapKey opens a key wrapped by WrapKey. A wrong kek, a wrong purpose and
// a changed byte all give ErrTampered.
func UnwrapKey(kek Key, wrapped []byte, purpose string) (Key, error) {
	var dek Key
	if len(wrapped) != WrappedSize {
		return dek, fmt.Errorf("wrapped key is %d bytes, want %d: %w", len(wrapped), WrappedSize, ErrFormat)
	}
	if wrapped[0] != wrapVersion {
		return dek, fmt.Errorf("wrapped key version %d (this build reads %d): %w", wrapped[0], wrapVersion, ErrVersion)
	}
	aead, err := wrapAEAD(kek, purpose)
	if err != nil {
		return dek, err
	}
	nonce, sealed := wrapped[1:1+nonceSize], wrapped[1+nonceSize:]
	plain, err := aead.Open(dek[:0], nonce, sealed, []byte(wrapLabel+purpose))
	if err != nil {
		return Key{}, fmt.Errorf("unwrap key for %q: %w", purpose, ErrTampered)
	}
	if len(plain) != len(dek) {
		return Key{}, fmt.Errorf("unwrapped key is %d bytes: %w", len(plain), ErrFormat)
	}
	return dek, nil
}

func wrapAEAD(kek Key, purpose string) (cipher.AEAD, error) {
	if purpose == "" {
		return nil, errors.New("seal: a wrapped key needs a purpose")
	}
	block, err := aes.NewCipher(kek[:])
	if err != nil {
		return nil, fmt.Errorf("wrap cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
