package store

import (
	"context"
	"time"
)

// User is an account. Secrets never appear here in the clear: the password
// is an argon2id hash.
type User struct {
	ID              string
	Email           string // as typed; EmailNorm (lower case) is unique
	EmailNorm       string
	Name            string
	Phone           string
	Company         string
	PasswordHash    string    // "" when the account has no password (OIDC only)
	EmailVerifiedAt time.Time // zero while unverified
	PhotoKey        string    // blob key; "" when there is no photo
	PhotoType       string    // its content type
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Verified reports whether the user proved they read mail at Email.
func (u User) Verified() bool { return !u.EmailVerifiedAt.IsZero() }

// Session is a signed-in browser. TokenHash is the SHA-256 of the cookie.
type Session struct {
	TokenHash  string
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string // truncated
	UserAgent  string
}

// Purposes of one-time user tokens.
const (
	TokenVerify = "verify" // confirms the e-mail address it was sent to
	TokenReset  = "reset"  // sets a new password
)

// UserToken is a single-use link sent by mail.
type UserToken struct {
	TokenHash string
	UserID    string
	Purpose   string
	Email     string // the address the link was sent to
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// SignIn is one successful sign-in, kept as the user's history.
type SignIn struct {
	ID        string
	UserID    string
	At        time.Time
	Method    string // "password", an OIDC provider's name, "device"
	IP        string // truncated
	UserAgent string
}

// Identity links an account at an OIDC provider to a user.
type Identity struct {
	Provider  string
	Subject   string
	UserID    string
	Email     string
	CreatedAt time.Time
}

// LoginFlow is an OIDC sign-in in progress.
type LoginFlow struct {
	StateHash   string
	Provider    string
	BrowserHash string
	Verifier    string // PKCE code verifier
	Nonce       string
	Next        string // local path to go to afterwards
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Device-code states.
const (
	DeviceCodePending  = "pending"
	DeviceCodeApproved = "approved"
	DeviceCodeDenied   = "denied"
	DeviceCodeRedeemed = "redeemed"
)

// DeviceCode is a desktop sign-in in progress.
type DeviceCode struct {
	CodeHash     string // SHA-256 of the device_code the app polls with
	UserCode     string // normalised: 8 letters, no dash
	ClientName   string
	Status       string
	UserID       string // who approved or denied
	Interval     time.Duration
	LastPolledAt time.Time
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Device is a signed-in desktop app holding a device token.
type Device struct {
	ID         string
	UserID     string
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Workspace roles, from most to least powerful.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// CTAButton is a call-to-action button shown on share pages.
type CTAButton struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// Workspace is a company's shared space.
type Workspace struct {
	ID         string
	Name       string
	LogoKey    string
	LogoType   string
	CTAButtons []CTAButton
	CreatedAt  time.Time
}

// Member is a user's membership of a workspace, with the user's and the
// workspace's names for listings.
type Member struct {
	WorkspaceID   string
	WorkspaceName string
	UserID        string
	UserName      string
	UserEmail     string
	Role          string
	CreatedAt     time.Time
}

// Invitation asks someone, by e-mail, to join a workspace.
type Invitation struct {
	ID          string
	WorkspaceID string
	Email       string
	EmailNorm   string
	Role        string
	TokenHash   string
	InvitedBy   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	AcceptedAt  time.Time
	AcceptedBy  string
}

// Accounts is the part of Store that holds users, their sign-ins, devices
// and workspaces.
type Accounts interface {
	// CreateUser inserts u; ErrConflict when EmailNorm is taken.
	CreateUser(ctx context.Context, u User) error
	User(ctx context.Context, id string) (User, error)
	UserByEmail(ctx context.Context, emailNorm string) (User, error)
	// UpdateUser writes every field but ID and CreatedAt; ErrConflict
	// when the new EmailNorm is taken.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser removes the user and, by cascade, their sessions, tokens,
	// identities, devices, memberships and video rows, and the jobs about
	// them (queued, running, done or failed: a mail to them is never sent).
	DeleteUser(ctx context.Context, id string) error

	CreateSession(ctx context.Context, s Session) error
	// Session returns an unexpired session, or ErrNotFound.
	Session(ctx context.Context, tokenHash string, now time.Time) (Session, error)
	TouchSession(ctx context.Context, tokenHash string, lastSeen, expires time.Time) error
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions signs the user out everywhere except keep ("" for
	// everywhere).
	DeleteUserSessions(ctx context.Context, userID, keep string) error

	CreateUserToken(ctx context.Context, t UserToken) error
	// ConsumeUserToken marks an unused, unexpired token of the purpose
	// used and returns it; ErrNotFound otherwise. Only one caller wins.
	ConsumeUserToken(ctx context.Context, tokenHash, purpose string, now time.Time) (UserToken, error)
	// DeleteUserTokens drops the user's tokens of a purpose.
	DeleteUserTokens(ctx context.Context, userID, purpose string) error

	// HitRateLimit counts one event for key in the window starting at
	// windowStart and returns the count so far, this one included.
	// Counters expire at expires.
	HitRateLimit(ctx context.Context, key string, windowStart, expires time.Time) (int, error)
	// PurgeExpired drops expired sessions, rate-limit windows, login
	// flows and device codes.
	PurgeExpired(ctx context.Context, now time.Time) error

	RecordSignIn(ctx context.Context, si SignIn) error
	// SignIns returns the user's latest sign-ins, newest first.
	SignIns(ctx context.Context, userID string, limit int) ([]SignIn, error)

	CreateIdentity(ctx context.Context, id Identity) error
	Identity(ctx context.Context, provider, subject string) (Identity, error)
	Identities(ctx context.Context, userID string) ([]Identity, error)

	CreateLoginFlow(ctx context.Context, f LoginFlow) error
	// ConsumeLoginFlow deletes and returns an unexpired flow.
	ConsumeLoginFlow(ctx context.Context, stateHash string, now time.Time) (LoginFlow, error)

	// CreateDeviceCode inserts d; ErrConflict if its user code is in use.
	CreateDeviceCode(ctx context.Context, d DeviceCode) error
	DeviceCodeByUserCode(ctx context.Context, userCode string, now time.Time) (DeviceCode, error)
	DeviceCode(ctx context.Context, codeHash string) (DeviceCode, error)
	// DecideDeviceCode approves or denies a pending, unexpired code;
	// ErrNotFound when there is none.
	DecideDeviceCode(ctx context.Context, userCode, userID string, approve bool, now time.Time) error
	// PollDeviceCode records a poll and the interval to ask for next.
	PollDeviceCode(ctx context.Context, codeHash string, polled time.Time, interval time.Duration) error
	// RedeemDeviceCode turns an approved code into dev, once: the code
	// becomes redeemed and the device is inserted in one transaction.
	// ErrNotFound when the code is not (or no longer) approved.
	RedeemDeviceCode(ctx context.Context, codeHash string, dev Device) error

	DeviceByToken(ctx context.Context, tokenHash string) (Device, error)
	Devices(ctx context.Context, userID string) ([]Device, error)
	TouchDevice(ctx context.Context, id string, used time.Time) error
	// DeleteDevice revokes one of the user's devices; ErrNotFound if the
	// user has no such device.
	DeleteDevice(ctx context.Context, userID, id string) error

	// CreateWorkspace inserts w with owner as its owner.
	CreateWorkspace(ctx context.Context, w Workspace, ownerID string) error
	Workspace(ctx context.Context, id string) (Workspace, error)
	UpdateWorkspace(ctx context.Context, w Workspace) error
	DeleteWorkspace(ctx context.Context, id string) error
	// Memberships lists the workspaces a user belongs to, by name.
	Memberships(ctx context.Context, userID string) ([]Member, error)
	// Member returns one membership, or ErrNotFound.
	Member(ctx context.Context, workspaceID, userID string) (Member, error)
	// Members lists a workspace's members, owners first.
	Members(ctx context.Context, workspaceID string) ([]Member, error)
	SetMemberRole(ctx context.Context, workspaceID, userID, role string) error
	// RemoveMember removes a membership; the member's videos in the
	// workspace library go back to their personal library.
	RemoveMember(ctx context.Context, workspaceID, userID string) error

	CreateInvitation(ctx context.Context, inv Invitation) error
	// Invitations lists a workspace's open (unaccepted) invitations.
	Invitations(ctx context.Context, workspaceID string) ([]Invitation, error)
	InvitationByToken(ctx context.Context, tokenHash string) (Invitation, error)
	// AcceptInvitation marks an open, unexpired invitation accepted by
	// userID and makes them a member with its role (keeping a higher role
	// they already have), in one transaction. ErrNotFound otherwise.
	AcceptInvitation(ctx context.Context, tokenHash, userID string, now time.Time) (Invitation, error)
	DeleteInvitation(ctx context.Context, workspaceID, id string) error

	// LibraryVideos lists a user's personal library (workspaceID "") or a
	// workspace's shared library (ownerID ignored), newest first.
	LibraryVideos(ctx context.Context, ownerID, workspaceID string) ([]Video, error)
	// VideosOwnedBy lists every video the user owns, in any library.
	VideosOwnedBy(ctx context.Context, ownerID string) ([]Video, error)
	// MoveVideo puts a video in a workspace's library, or its owner's
	// personal library when workspaceID is "".
	MoveVideo(ctx context.Context, id, workspaceID string) error
	// DeleteVideo removes a video and its segment rows.
	DeleteVideo(ctx context.Context, id string) error
}
