package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"framecast.dev/server/internal/store"
)

// limit is a fixed-window rate limit kept in the store, so every replica
// counts against the same numbers.
type limit struct {
	name   string
	max    int
	window time.Duration
}

// The limits. Keys are hashed (addresses and IPs stay out of the table).
var (
	limitSignInEmail = limit{"signin-email", 10, 15 * time.Minute}
	limitSignInIP    = limit{"signin-ip", 50, 15 * time.Minute}
	limitSignUpIP    = limit{"signup-ip", 10, time.Hour}
	limitResetEmail  = limit{"reset-email", 5, time.Hour}
	limitResetIP     = limit{"reset-ip", 20, time.Hour}
	limitVerifyUser  = limit{"verify-user", 5, time.Hour}
	limitDeviceIP    = limit{"device-ip", 30, time.Hour}
	limitUserCode    = limit{"usercode-user", 20, 10 * time.Minute}
	limitInviteUser  = limit{"invite-user", 50, time.Hour}
	limitOIDCIP      = limit{"oidc-ip", 30, 15 * time.Minute}
)

// limitKey is the stored key of l's counter for key.
func limitKey(l limit, key string) string {
	h := sha256.Sum256([]byte(key))
	return l.name + ":" + hex.EncodeToString(h[:16])
}

// UserLimitKeys are the stored keys of the counters kept about u (by
// address or id), for account deletion and its test.
func UserLimitKeys(u store.User) []string {
	return []string{limitKey(limitSignInEmail, u.EmailNorm), limitKey(limitResetEmail, u.EmailNorm),
		limitKey(limitVerifyUser, u.ID), limitKey(limitUserCode, u.ID), limitKey(limitInviteUser, u.ID)}
}

// allow counts one attempt against l for key and fails with
// KindRateLimited once there were more than l.max in the window.
func (s *Service) allow(ctx context.Context, l limit, key string) error {
	now := s.now()
	start := now.Truncate(l.window)
	n, err := s.store.HitRateLimit(ctx, limitKey(l, key), start, start.Add(l.window))
	if err != nil {
		return err
	}
	if rand.IntN(64) == 0 {
		if err := s.store.PurgeExpired(ctx, now); err != nil {
			s.log.Warn("purging expired rows failed", "err", err)
		}
	}
	if n > l.max {
		return &Error{Kind: KindRateLimited, RetryAfter: start.Add(l.window).Sub(now).Round(time.Second),
			Message: "Too many attempts. Wait a few minutes and try again."}
	}
	return nil
}
