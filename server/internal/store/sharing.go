package store

import (
	"context"
	"time"
)

// Privacy says who may watch a video through its link.
type Privacy string

const (
	// PrivacyPublic: anyone with the link.
	PrivacyPublic Privacy = "public"
	// PrivacyWorkspace: signed-in members of the video's workspace (the
	// owner alone for a video in a personal library).
	PrivacyWorkspace Privacy = "workspace"
	// PrivacyPassword: anyone with the link and the password.
	PrivacyPassword Privacy = "password"
)

// Valid reports whether p is one of the privacy levels.
func (p Privacy) Valid() bool {
	return p == PrivacyPublic || p == PrivacyWorkspace || p == PrivacyPassword
}

// VideoSettings is what the owner edits about a video's share page.
type VideoSettings struct {
	Title       string
	Description string
	// CTAButtons: nil for the workspace's default, empty for none.
	CTAButtons   []CTAButton
	Privacy      Privacy
	PasswordHash string    // argon2id PHC string; required for PrivacyPassword
	ExpiresAt    time.Time // zero: the link never expires
	Downloads    bool
}

// Kinds of derived files.
const (
	AssetThumbnail = "thumbnail"
	AssetGIF       = "gif"
	AssetMP4       = "mp4"
)

// Asset is a file derived from a video by a processing job, sealed in the
// blob store under the video's data key.
type Asset struct {
	VideoID     string
	Kind        string
	BlobKey     string
	SealIndex   uint32 // the seal segment index it is sealed under
	Size        int64  // plaintext bytes
	SealedSize  int64
	ContentType string
	Width       int
	Height      int
	Duration    float64 // seconds, for moving pictures
	CreatedAt   time.Time
}

// SharePage is everything a video's share page shows, read at once.
type SharePage struct {
	Video     Video
	OwnerName string
	// The workspace the video is in; zero for a personal video.
	WorkspaceName    string
	WorkspaceLogoKey string
	WorkspaceCTA     []CTAButton
	Assets           []Asset
}

// Asset returns the page's asset of a kind.
func (p SharePage) Asset(kind string) (Asset, bool) {
	for _, a := range p.Assets {
		if a.Kind == kind {
			return a, true
		}
	}
	return Asset{}, false
}

// Sharing is the part of Store behind share pages and processing results.
type Sharing interface {
	// SharePage reads a video by slug with its owner's name, its
	// workspace's name, logo and default buttons, and its assets.
	SharePage(ctx context.Context, slug string) (SharePage, error)
	// UpdateVideoSettings replaces the owner-edited settings.
	UpdateVideoSettings(ctx context.Context, id string, s VideoSettings) (Video, error)
	// RotateSlug gives a video a new slug; the old one stops naming it.
	// ErrConflict if the new slug is taken.
	RotateSlug(ctx context.Context, id, slug string) (Video, error)
	// SetProbedDuration records the duration processing measured.
	SetProbedDuration(ctx context.Context, id string, seconds float64) error
	// PutAsset records a derived file, replacing the one of the same kind;
	// it returns the replaced one (zero BlobKey when there was none) so
	// its blob can be removed.
	PutAsset(ctx context.Context, a Asset) (replaced Asset, err error)
	// Asset returns a video's asset of one kind, or ErrNotFound.
	Asset(ctx context.Context, videoID, kind string) (Asset, error)
	// Assets lists a video's assets by kind.
	Assets(ctx context.Context, videoID string) ([]Asset, error)
	// DeleteAsset forgets a video's asset of a kind and returns it.
	DeleteAsset(ctx context.Context, videoID, kind string) (Asset, error)
}
