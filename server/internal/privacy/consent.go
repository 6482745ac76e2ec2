package privacy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/store"
)

// NoticePeriod is the least time between publishing a policy version
// and its taking effect: users are told (mail and banner) that long
// ahead.
const NoticePeriod = 28 * 24 * time.Hour

const jobPolicyNotice = "privacy-policy-notice"

// More audit actions.
const (
	ActionConsentGiven     = "consent-given"
	ActionConsentWithdrawn = "consent-withdrawn"
)

// initialPolicy is the version every installation starts with.
var initialPolicy = store.PolicyVersion{
	Version: "1", Major: true, Summary: "The first version of the privacy policy.",
	Body: `Framecast keeps what you give it (your name, address, phone, company, photo,
videos and their settings), when and from which network (never your full IP
address) you sign in, the apps you sign in, and, as each video's owner
chooses, what viewers' visits recorded. It uses them only to run the service
for you. You can download all of it, correct it, restrict its use, and delete
it with your account at any time from the Privacy page; deleted data is gone
from the database and the file store at once. Usage history is kept two
years, support conversations six months after an account is deleted.`,
	PublishedAt: time.Unix(0, 0).UTC(), EffectiveAt: time.Unix(0, 0).UTC(),
}

// Policies lists every published version, by effective time; an empty
// installation gets the initial one.
func (s *Service) Policies(ctx context.Context) ([]store.PolicyVersion, error) {
	ps, err := s.store.PolicyVersions(ctx)
	if err != nil || len(ps) > 0 {
		return ps, err
	}
	if err := s.store.CreatePolicyVersion(ctx, initialPolicy); err != nil && !errors.Is(err, store.ErrConflict) {
		return nil, err
	}
	return s.store.PolicyVersions(ctx)
}

// PolicyState is what a page needs to know about the policy.
type PolicyState struct {
	Current  store.PolicyVersion  // in effect now
	Upcoming *store.PolicyVersion // published, not yet in effect
}

// Policy returns the version in effect and the next one, if any.
func (s *Service) Policy(ctx context.Context) (PolicyState, error) {
	ps, err := s.Policies(ctx)
	if err != nil {
		return PolicyState{}, err
	}
	now := s.now()
	var st PolicyState
	for i, p := range ps {
		if !p.EffectiveAt.After(now) {
			st.Current = p
		} else if st.Upcoming == nil {
			st.Upcoming = &ps[i]
		}
	}
	return st, nil
}

// NeedsConsent reports the version u must accept before going on: the
// latest major version in effect, when u has not accepted it or a later
// one.
func (s *Service) NeedsConsent(ctx context.Context, u store.User) (store.PolicyVersion, bool, error) {
	ps, err := s.Policies(ctx)
	if err != nil {
		return store.PolicyVersion{}, false, err
	}
	now := s.now()
	var major *store.PolicyVersion
	effective := map[string]time.Time{}
	for i, p := range ps {
		effective[p.Version] = p.EffectiveAt
		if p.Major && !p.EffectiveAt.After(now) {
			major = &ps[i]
		}
	}
	if major == nil {
		return store.PolicyVersion{}, false, nil
	}
	cs, err := s.store.Consents(ctx, u.ID)
	if err != nil {
		return store.PolicyVersion{}, false, err
	}
	for _, c := range cs {
		if !effective[c.Version].Before(major.EffectiveAt) {
			return store.PolicyVersion{}, false, nil
		}
	}
	return *major, true, nil
}

// Consents lists u's consents, newest first.
func (s *Service) Consents(ctx context.Context, u store.User) ([]store.Consent, error) {
	return s.store.Consents(ctx, u.ID)
}

// Accept records u's consent to a published version.
func (s *Service) Accept(ctx context.Context, u store.User, version string) error {
	ps, err := s.Policies(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Version == version {
			if err := s.store.AddConsent(ctx, store.Consent{UserID: u.ID, Version: version, At: s.now().UTC()}); err != nil {
				return err
			}
			s.audit(ctx, u.ID, ActionConsentGiven, fmt.Sprintf("You accepted version %s of the privacy policy.", version))
			return nil
		}
	}
	return fail(KindInvalid, "There is no version %q of the privacy policy.", version)
}

// recordSignUp records the consent given by signing up: to the version
// the form showed, or the current one.
func (s *Service) recordSignUp(ctx context.Context, u store.User, version string, at time.Time) error {
	st, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	if version == "" {
		version = st.Current.Version
	}
	if err := s.store.AddConsent(ctx, store.Consent{UserID: u.ID, Version: version, At: at}); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// A form from before a version was withdrawn: the current one.
		version = st.Current.Version
		if err := s.store.AddConsent(ctx, store.Consent{UserID: u.ID, Version: version, At: at}); err != nil {
			return err
		}
	}
	s.audit(ctx, u.ID, ActionConsentGiven, fmt.Sprintf("You accepted version %s of the privacy policy by signing up.", version))
	return nil
}

// Withdraw withdraws u's consent, which deletes the account: without
// consent there is nothing Framecast may keep. confirm and shared are as
// for account deletion.
func (s *Service) Withdraw(ctx context.Context, u store.User, confirm, shared string) error {
	if err := s.accounts.DeleteAccount(ctx, u, confirm, shared); err != nil {
		return err
	}
	s.log.Info("consent withdrawn; account deleted", "user_id", u.ID)
	return nil
}

// IsAdmin reports whether u administers this server (FRAMECAST_ADMIN_EMAILS).
func (s *Service) IsAdmin(u store.User) bool {
	if !u.Verified() {
		return false
	}
	for _, a := range s.admins {
		if strings.EqualFold(a, u.EmailNorm) {
			return true
		}
	}
	return false
}

// PublishInput is a new policy version.
type PublishInput struct {
	Version     string
	Major       bool
	Summary     string
	Body        string
	EffectiveAt time.Time
}

// Publish publishes a new version of the policy, effective at least
// NoticePeriod from now, and mails every user about it.
func (s *Service) Publish(ctx context.Context, admin store.User, in PublishInput) error {
	if !s.IsAdmin(admin) {
		return fail(KindNotFound, "There is nothing at this address.")
	}
	in.Version, in.Summary, in.Body = strings.TrimSpace(in.Version), strings.TrimSpace(in.Summary), strings.TrimSpace(in.Body)
	if in.Version == "" || len(in.Version) > 20 || strings.ContainsFunc(in.Version, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-')
	}) {
		return fail(KindInvalid, "Name the version with up to 20 letters, digits, dots and dashes, such as 2 or 2.1.")
	}
	if in.Summary == "" || len(in.Summary) > 500 {
		return fail(KindInvalid, "Say in up to 500 characters what changes.")
	}
	if in.Body == "" || len(in.Body) > 100_000 {
		return fail(KindInvalid, "Give the policy's text (up to 100,000 characters).")
	}
	now := s.now().UTC()
	if earliest := now.Add(NoticePeriod); in.EffectiveAt.Before(earliest) {
		return fail(KindInvalid, "A new version takes effect four weeks after it is published at the earliest: on %s or later.", earliest.Format("2006-01-02 15:04 MST"))
	}
	st, err := s.Policy(ctx)
	if err != nil {
		return err
	}
	if st.Upcoming != nil && !in.EffectiveAt.After(st.Upcoming.EffectiveAt) {
		return fail(KindConflict, "Version %s takes effect on %s; a newer one must take effect after it.", st.Upcoming.Version, st.Upcoming.EffectiveAt.Format("2006-01-02"))
	}
	p := store.PolicyVersion{Version: in.Version, Major: in.Major, Summary: in.Summary, Body: in.Body, PublishedAt: now, EffectiveAt: in.EffectiveAt.UTC()}
	if err := s.store.CreatePolicyVersion(ctx, p); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fail(KindConflict, "Version %s exists already; choose another name.", p.Version)
		}
		return err
	}
	if _, err := s.jobs.Enqueue(ctx, jobs.Spec{Kind: jobPolicyNotice, Args: noticeArgs{p.Version}, MaxAttempts: 10}); err != nil {
		return err
	}
	s.log.Info("privacy policy version published", "version", p.Version, "major", p.Major, "effective_at", p.EffectiveAt)
	return nil
}

type noticeArgs struct {
	Version string `json:"version"`
}

// runPolicyNotice mails every user about a new version, in batches,
// marking each one mailed so a retried job mails only the rest.
func (s *Service) runPolicyNotice(ctx context.Context, j store.Job) error {
	args, err := jobs.Args[noticeArgs](j)
	if err != nil {
		return err
	}
	var p *store.PolicyVersion
	ps, err := s.Policies(ctx)
	if err != nil {
		return err
	}
	for i := range ps {
		if ps[i].Version == args.Version {
			p = &ps[i]
		}
	}
	if p == nil {
		return jobs.Permanent(fmt.Errorf("policy version %q is gone", args.Version))
	}
	sent := 0
	for {
		us, err := s.store.UsersToNotify(ctx, p.Version, 100)
		if err != nil {
			return err
		}
		if len(us) == 0 {
			break
		}
		for _, u := range us {
			m := policyMail(u.Email, u.Name, *p, s.baseURL+"/privacy/policy")
			send := true
			if !p.Major {
				// A minor change needs nothing from anyone: an
				// informational mail, which users may turn off.
				if send, err = s.MayMailOptional(ctx, u.ID); err != nil {
					return err
				}
				m.Unsubscribe = s.UnsubscribeURL(u.ID)
			}
			if send {
				if err := s.mail.Send(ctx, m); err != nil {
					return fmt.Errorf("policy notice: %w", err)
				}
			}
			if err := s.store.MarkNotified(ctx, u.ID, p.Version, s.now().UTC()); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			sent++
		}
	}
	s.log.Info("policy notices sent", "version", p.Version, "mails", sent)
	return nil
}

func policyMail(to, name string, p store.PolicyVersion, link string) mail.Message {
	again := "You do not need to do anything: it applies from that day."
	why := "You get this mail because you want Framecast's informational mail."
	if p.Major {
		again = "It is a major change: you will be asked to accept it the next time you sign in after that day. If you do not accept it, you can delete your account and data."
		why = "You get this mail because you have a Framecast account; it is a legal\nnotice, sent to every account."
	}
	return mail.Message{To: to, Kind: "policy-notice", Subject: "Framecast's privacy policy changes on " + p.EffectiveAt.Format("2 January 2006"), Text: fmt.Sprintf(
		`Hello %s,

Framecast's privacy policy changes on %s (version %s):

%s

%s Read it here:

%s

%s
`, name, p.EffectiveAt.Format("2 January 2006"), p.Version, p.Summary, again, link, why)}
}

// Banner is the line signed-in pages show about the policy: an upcoming
// version, until it takes effect. "" when there is nothing to say.
func (s *Service) Banner(ctx context.Context) string {
	st, err := s.Policy(ctx)
	if err != nil || st.Upcoming == nil {
		return ""
	}
	return fmt.Sprintf("Our privacy policy changes on %s: %s", st.Upcoming.EffectiveAt.Format("2 January 2006"), st.Upcoming.Summary)
}
