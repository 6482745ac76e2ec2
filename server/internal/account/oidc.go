package account

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

// Sign-in with OIDC providers (Google, Microsoft): authorization code flow
// with PKCE (S256), state and nonce, scopes openid email profile only. The
// flow in progress is kept in the store (any replica may receive the
// callback) and bound to the browser that started it.

// ProviderConfig configures one OIDC provider.
type ProviderConfig struct {
	Name         string // in URLs: /auth/{name}
	Label        string // on buttons: "Sign in with {label}"
	Issuer       string
	ClientID     string
	ClientSecret string
}

const loginFlowTTL = 10 * time.Minute

// ProviderInfo is what sign-in pages show.
type ProviderInfo struct{ Name, Label string }

// Providers lists the configured providers.
func (s *Service) Providers() []ProviderInfo {
	out := make([]ProviderInfo, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, ProviderInfo{Name: n, Label: s.providers[n].cfg.Label})
	}
	return out
}

type provider struct {
	cfg      ProviderConfig
	redirect string

	mu       sync.Mutex
	ready    bool
	op       *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	// tenantIssuer is the issuer template ("…/{tenantid}/v2.0") of
	// Microsoft's multi-tenant endpoints, whose tokens name the tenant.
	tenantIssuer string
}

func newProvider(c ProviderConfig, baseURL string) *provider {
	return &provider{cfg: c, redirect: baseURL + "/auth/" + c.Name + "/callback"}
}

// multiTenant returns the issuer template of Microsoft's common,
// organizations and consumers endpoints, or "".
func multiTenant(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil || u.Host != "login.microsoftonline.com" {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) == 2 && parts[1] == "v2.0" && (parts[0] == "common" || parts[0] == "organizations" || parts[0] == "consumers") {
		return "https://login.microsoftonline.com/{tenantid}/v2.0"
	}
	return ""
}

// init discovers the provider the first time it is used.
func (p *provider) init(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready {
		return nil
	}
	dctx := ctx
	p.tenantIssuer = multiTenant(p.cfg.Issuer)
	if p.tenantIssuer != "" {
		dctx = oidc.InsecureIssuerURLContext(ctx, p.tenantIssuer)
	}
	op, err := oidc.NewProvider(dctx, p.cfg.Issuer)
	if err != nil {
		return fmt.Errorf("discover %s at %s: %w", p.cfg.Name, p.cfg.Issuer, err)
	}
	p.oauth = oauth2.Config{
		ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: op.Endpoint(),
		RedirectURL: p.redirect, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
	p.verifier = op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, SkipIssuerCheck: p.tenantIssuer != ""})
	p.op = op
	p.ready = true
	return nil
}

func (s *Service) provider(name string) (*provider, error) {
	p, ok := s.providers[name]
	if !ok {
		return nil, fail(KindNotFound, "Sign-in with %q is not set up on this server.", truncate(name, 32))
	}
	return p, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// StartOIDC begins a sign-in with a provider and returns the URL to send
// the browser to. browser is a secret the browser holds (its CSRF cookie);
// the callback must present the same.
func (s *Service) StartOIDC(ctx context.Context, name, browser, next string, cl Client) (string, error) {
	p, err := s.provider(name)
	if err != nil {
		return "", err
	}
	if !validSecret(browser) {
		return "", fail(KindForbidden, "Your browser did not send its form token; reload the page and try again.")
	}
	if err := s.allow(ctx, limitOIDCIP, cl.IP); err != nil {
		return "", err
	}
	if err := p.init(ctx); err != nil {
		s.log.Error("OIDC provider unavailable", "provider", name, "err", err)
		return "", fail(KindConflict, "Sign-in with %s is not available right now. Try again later.", p.cfg.Label)
	}
	state, nonce, verifier := secrets.NewToken(), secrets.NewToken(), oauth2.GenerateVerifier()
	now := s.now().UTC()
	err = s.store.CreateLoginFlow(ctx, store.LoginFlow{StateHash: secrets.Hash(state), Provider: name, BrowserHash: secrets.Hash(browser),
		Verifier: verifier, Nonce: nonce, Next: SafeNext(next), CreatedAt: now, ExpiresAt: now.Add(loginFlowTTL)})
	if err != nil {
		return "", err
	}
	return p.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// OIDCCallback is what the provider sent back to the redirect URL.
type OIDCCallback struct {
	State, Code, Error string
	Browser            string // the browser's secret, as for StartOIDC
}

// OIDCResult is a finished sign-in.
type OIDCResult struct {
	Session string // the new session's secret
	User    store.User
	Next    string
	Created bool // a new account was made
}

type idClaims struct {
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
	Name          string `json:"name"`
	TenantID      string `json:"tid"`
}

// FinishOIDC completes a sign-in: checks state, browser and nonce,
// exchanges the code with the PKCE verifier, verifies the ID token and
// signs the user in, creating the account on first sign-in. An existing
// account with the same address is linked only when the provider says the
// address is verified; otherwise the person must sign in with their
// password.
func (s *Service) FinishOIDC(ctx context.Context, name string, cb OIDCCallback, cl Client) (OIDCResult, error) {
	p, err := s.provider(name)
	if err != nil {
		return OIDCResult{}, err
	}
	expired := fail(KindUnauthorized, "This sign-in expired or was already used. Try again.")
	if !validSecret(cb.State) {
		return OIDCResult{}, expired
	}
	flow, err := s.store.ConsumeLoginFlow(ctx, secrets.Hash(cb.State), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return OIDCResult{}, expired
	}
	if err != nil {
		return OIDCResult{}, err
	}
	if flow.Provider != name || !validSecret(cb.Browser) ||
		subtle.ConstantTimeCompare([]byte(flow.BrowserHash), []byte(secrets.Hash(cb.Browser))) != 1 {
		return OIDCResult{}, fail(KindForbidden, "This sign-in was started in another browser. Start it again here.")
	}
	if cb.Error != "" {
		return OIDCResult{}, fail(KindUnauthorized, "%s did not sign you in (%s).", p.cfg.Label, truncate(cb.Error, 64))
	}
	if cb.Code == "" || len(cb.Code) > 4096 {
		return OIDCResult{}, expired
	}
	if err := p.init(ctx); err != nil {
		return OIDCResult{}, err
	}
	tok, err := p.oauth.Exchange(ctx, cb.Code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return OIDCResult{}, &Error{Kind: KindUnauthorized, Message: p.cfg.Label + " did not confirm the sign-in. Try again.", Err: err}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return OIDCResult{}, &Error{Kind: KindUnauthorized, Message: p.cfg.Label + " sent no ID token.", Err: errors.New("no id_token")}
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		return OIDCResult{}, &Error{Kind: KindUnauthorized, Message: p.cfg.Label + " sent an ID token that does not verify.", Err: err}
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return OIDCResult{}, fmt.Errorf("oidc claims: %w", err)
	}
	if p.tenantIssuer != "" && (c.TenantID == "" || idt.Issuer != strings.ReplaceAll(p.tenantIssuer, "{tenantid}", c.TenantID)) {
		return OIDCResult{}, &Error{Kind: KindUnauthorized, Message: p.cfg.Label + " sent an ID token of an unexpected issuer.", Err: errors.New(idt.Issuer)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return OIDCResult{}, &Error{Kind: KindUnauthorized, Message: "The sign-in answer does not belong to this sign-in. Try again.", Err: errors.New("nonce mismatch")}
	}
	if c.Email == "" {
		// Some providers put the profile only in the UserInfo answer.
		info, err := p.op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return OIDCResult{}, &Error{Kind: KindUnauthorized, Message: p.cfg.Label + " did not share your profile. Try again.", Err: err}
		}
		if info.Subject != idt.Subject {
			return OIDCResult{}, &Error{Kind: KindUnauthorized, Message: p.cfg.Label + " sent a profile of another account.", Err: errors.New("userinfo subject mismatch")}
		}
		var extra struct {
			Name string `json:"name"`
		}
		if err := info.Claims(&extra); err != nil {
			return OIDCResult{}, fmt.Errorf("oidc userinfo claims: %w", err)
		}
		verified := info.EmailVerified
		c.Email, c.EmailVerified, c.Name = info.Email, &verified, extra.Name
	}
	u, created, err := s.oidcUser(ctx, name, p.cfg.Label, idt.Subject, c)
	if err != nil {
		return OIDCResult{}, err
	}
	sess, err := s.NewSession(ctx, u.ID, cl)
	if err != nil {
		return OIDCResult{}, err
	}
	s.recordSignIn(ctx, u.ID, name, cl)
	return OIDCResult{Session: sess, User: u, Next: flow.Next, Created: created}, nil
}

// oidcUser finds or makes the account for a provider's subject.
func (s *Service) oidcUser(ctx context.Context, provider, label, subject string, c idClaims) (store.User, bool, error) {
	if subject == "" || len(subject) > 255 {
		return store.User{}, false, fail(KindUnauthorized, "%s sent no usable account id.", label)
	}
	id, err := s.store.Identity(ctx, provider, subject)
	if err == nil {
		u, err := s.store.User(ctx, id.UserID)
		return u, false, err
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.User{}, false, err
	}
	norm, err := normalizeEmail(c.Email)
	if err != nil {
		return store.User{}, false, fail(KindUnauthorized, "%s did not share a usable e-mail address; Framecast needs one.", label)
	}
	email, _ := cleanText("email", "e-mail address", c.Email, MaxEmailLen, true)
	verified := c.EmailVerified != nil && *c.EmailVerified
	now := s.now().UTC()
	u, err := s.store.UserByEmail(ctx, norm)
	created := false
	switch {
	case err == nil && !verified:
		return store.User{}, false, fail(KindConflict, "An account with the address %s exists. Sign in with your password; %s did not confirm that the address is yours.", email, label)
	case err == nil:
		if !u.Verified() {
			// The account was never confirmed, so whoever made it did not
			// prove the address; the provider did. Their password goes.
			u.PasswordHash, u.EmailVerifiedAt, u.UpdatedAt = "", now, now
			if err := s.store.UpdateUser(ctx, u); err != nil {
				return store.User{}, false, err
			}
		}
	case errors.Is(err, store.ErrNotFound):
		name, nerr := cleanName(c.Name)
		if nerr != nil {
			name = email[:strings.IndexByte(email, '@')]
		}
		u = store.User{ID: secrets.NewID(), Email: email, EmailNorm: norm, Name: name, CreatedAt: now, UpdatedAt: now}
		if verified {
			u.EmailVerifiedAt = now
		}
		if err := s.store.CreateUser(ctx, u); err != nil {
			return store.User{}, false, err
		}
		created = true
		s.signedUp(ctx, u, "", now)
		if !verified {
			if err := s.sendVerification(ctx, u, u.Email, false); err != nil {
				s.log.Warn("verification mail after OIDC sign-up failed", "user_id", u.ID, "err", err)
			}
		}
	default:
		return store.User{}, false, err
	}
	if err := s.store.CreateIdentity(ctx, store.Identity{Provider: provider, Subject: subject, UserID: u.ID, Email: email, CreatedAt: now}); err != nil {
		return store.User{}, false, err
	}
	return u, created, nil
}
