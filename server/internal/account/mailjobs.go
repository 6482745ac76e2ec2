package account

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/seal"
)

// Account mail goes through the job queue, not a goroutine: a crash or a
// restart after the answer, or an SMTP server that is down, must not lose
// a verification or reset mail. The work that decides whether there is a
// mail at all (a sign-up, a reset request) is a job too, enqueued for
// every request alike, so the answer does the same work whether or not
// the address has an account.
//
// Job arguments hold addresses, names, password hashes and one-time
// links, so they are sealed (AES-256-GCM under a key derived from the
// KEK, bound to the job's kind): the jobs table holds nothing readable.
// Tokens keep their meaning: they are made and stored (hashed) when the
// request is handled, expire from then and work once.
const (
	JobMail   = "account-mail"   // one message, retried until SMTP takes it
	JobSignUp = "account-signup" // creates the account (or not) and queues its mail
	JobReset  = "account-reset"  // looks the address up and queues a reset link
)

// MailKinds are the job kinds the daemon runs on its own small lane of
// workers, so a long transcode never delays a password-reset mail.
var MailKinds = []string{JobMail, JobSignUp, JobReset}

// MailAttempts bounds the tries of one mail. With the mail lane's backoff
// (from 10 s, doubling, at most 10 min) they span about 40 minutes of SMTP
// outage; then the job is failed and logged.
const MailAttempts = 10

// sealedArgs is what the jobs table holds of an account job.
type sealedArgs struct {
	Sealed []byte `json:"sealed"`
}

// newJobBox derives the AEAD that seals account job arguments from the
// KEK, which every replica has.
func newJobBox(kek seal.Key) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, kek[:], nil, "framecast account job args v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive the job key: %w", err)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("job key: %w", err)
	}
	return cipher.NewGCM(b)
}

// enqueue seals v and queues a job of kind to act on it.
func (s *Service) enqueue(ctx context.Context, kind string, v any) error {
	return s.enqueueFor(ctx, kind, "", v)
}

// enqueueFor is enqueue for a job about the account userID: deleting the
// account deletes the job (see store.Job.UserID).
func (s *Service) enqueueFor(ctx context.Context, kind, userID string, v any) error {
	plain, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("queue %s job: %w", kind, err)
	}
	nonce := make([]byte, s.box.NonceSize())
	rand.Read(nonce)
	sealed := s.box.Seal(nonce, nonce, plain, []byte(kind))
	if _, err := s.jobs.Enqueue(ctx, jobs.Spec{Kind: kind, UserID: userID, Args: sealedArgs{sealed}, MaxAttempts: MailAttempts}); err != nil {
		return fmt.Errorf("queue %s job: %w", kind, err)
	}
	return nil
}

// openArgs unseals a job's arguments. A job that cannot be opened (another
// KEK, a tampered row) never will be: it fails at once.
func openArgs[T any](s *Service, j store.Job) (T, error) {
	var v T
	a, err := jobs.Args[sealedArgs](j)
	if err != nil {
		return v, err
	}
	n := s.box.NonceSize()
	if len(a.Sealed) < n {
		return v, jobs.Permanent(errors.New("sealed arguments too short"))
	}
	plain, err := s.box.Open(nil, a.Sealed[:n], a.Sealed[n:], []byte(j.Kind))
	if err != nil {
		return v, jobs.Permanent(fmt.Errorf("open the arguments (was the KEK changed?): %w", err))
	}
	if err := json.Unmarshal(plain, &v); err != nil {
		return v, jobs.Permanent(fmt.Errorf("arguments: %w", err))
	}
	return v, nil
}

// RegisterJobs registers the account mail job kinds; the daemon runs them
// on the lane of MailKinds.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Handle(JobMail, s.runMail)
	q.Handle(JobSignUp, s.runSignUp)
	q.Handle(JobReset, s.runReset)
}

// send queues m, as a job of m.UserID's account when it is set.
func (s *Service) send(ctx context.Context, m mail.Message) error {
	return s.enqueueFor(ctx, JobMail, m.UserID, m)
}

// notice queues m when what it reports has already happened (a password
// changed): a failure to queue is logged, not the caller's failure.
func (s *Service) notice(ctx context.Context, m mail.Message) {
	if err := s.send(ctx, m); err != nil {
		s.log.Error("queueing a mail failed", "kind", m.Kind, "err", err)
	}
}

func (s *Service) runMail(ctx context.Context, j store.Job) error {
	m, err := openArgs[mail.Message](s, j)
	if err != nil {
		return err
	}
	// Deleting the account deletes this job too; a worker that claimed it
	// just before must not send it after.
	if j.UserID != "" {
		if _, err := s.store.User(ctx, j.UserID); errors.Is(err, store.ErrNotFound) {
			s.log.Info("mail not sent: its account was deleted", "kind", m.Kind, "job_id", j.ID)
			return nil
		} else if err != nil {
			return err
		}
	}
	err = s.mail.Send(ctx, m)
	if err == nil {
		s.log.Debug("mail sent", "kind", m.Kind, "job_id", j.ID)
		return nil
	}
	// The error goes to the log and the jobs table: without the address
	// (SMTP errors name the recipient).
	clean := errors.New(strings.ReplaceAll(err.Error(), m.To, "<recipient>"))
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() >= 500 {
		return jobs.Permanent(clean) // the server refused this mail for good
	}
	return clean
}

// signUpArgs is a sign-up as the form gave it, checked and hashed.
type signUpArgs struct {
	User   store.User `json:"user"`
	Policy string     `json:"policy"`
	At     time.Time  `json:"at"`
}

func (s *Service) runSignUp(ctx context.Context, j store.Job) error {
	a, err := openArgs[signUpArgs](s, j)
	if err != nil {
		return err
	}
	err = s.register(ctx, a.User, a.Policy, a.At)
	if IsKind(err, KindRateLimited) {
		s.log.Info("sign-up mail not sent: too many for this account")
		return nil
	}
	return err
}

type resetArgs struct {
	EmailNorm string `json:"email_norm"`
}

func (s *Service) runReset(ctx context.Context, j store.Job) error {
	a, err := openArgs[resetArgs](s, j)
	if err != nil {
		return err
	}
	return s.reset(ctx, a.EmailNorm)
}
