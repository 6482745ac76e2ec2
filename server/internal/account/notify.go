package account

import (
	"context"
	"time"

	"framecast.dev/server/internal/mail"
)

// Notify queues m on the account mail queue, for other parts of the
// server (the first-view mail of viewer analytics, videos sent by
// e-mail). A failure to queue is logged.
func (s *Service) Notify(m mail.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.notice(ctx, m)
}
