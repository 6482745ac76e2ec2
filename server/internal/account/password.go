package account

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/alexedwards/argon2id"
)

// passwordParams follow OWASP's argon2id recommendation (19 MiB, 2
// passes, 1 lane): about 50 ms on a server core.
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// hashing bounds concurrent argon2id runs, so a burst of sign-ins cannot
// take all memory (each run holds 19 MiB).
var hashing = make(chan struct{}, 2*runtime.NumCPU())

// dummyHash is compared against when there is no account (or no
// password), so the answer takes as long as for a real account.
var dummyHash = sync.OnceValue(func() string {
	h, err := argon2id.CreateHash("framecast dummy password", passwordParams)
	if err != nil {
		panic(err)
	}
	return h
})

func hashPassword(ctx context.Context, pw string) (string, error) {
	if err := acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-hashing }()
	h, err := argon2id.CreateHash(pw, passwordParams)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// passwordMatches compares pw with hash; an empty hash (no password set)
// never matches but costs the same.
func passwordMatches(ctx context.Context, pw, hash string) (bool, error) {
	if err := acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-hashing }()
	real := hash != ""
	if !real {
		hash = dummyHash()
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	if err != nil {
		return false, fmt.Errorf("compare password: %w", err)
	}
	return ok && real, nil
}

func acquire(ctx context.Context) error {
	select {
	case hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
}
