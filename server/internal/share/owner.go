package share

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// The owner's side: listing libraries, editing a video's share settings,
// rotating its link, deleting it, trimming it and retrying its failed
// jobs. Only a video's owner edits it; members of its workspace see it
// in the workspace library and watch it through its link.

// Limits of what an owner types.
const (
	MaxDescriptionLen = 5000
	MaxButtonLabelLen = 40
	MaxButtonURLLen   = 2000
	MaxButtons        = 3
	MinPasswordLen    = 4
	MaxPasswordLen    = 200
)

var errNoVideo = fail(KindNotFound, "There is no such video among yours.")

// OwnedVideo returns a video the user owns; others' and missing ones are
// the same "not found".
func (s *Service) OwnedVideo(ctx context.Context, u store.User, id string) (store.Video, error) {
	if !media.ValidID(id) {
		return store.Video{}, errNoVideo
	}
	v, err := s.store.Video(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && (v.OwnerID == "" || v.OwnerID != u.ID) {
		return store.Video{}, errNoVideo
	}
	return v, err
}

// Item is a video in a library listing.
type Item struct {
	Video     store.Video
	Title     string
	Duration  string
	Seconds   float64
	Thumbnail bool // a thumbnail exists
	Mine      bool
	ShareURL  string
	Failed    int // failed jobs
	// Upload is how the owner's upload of a file stands, while it is not
	// a ready video yet (nil otherwise): "uploading… 40 %", "processing…
	// 70 %", "failed"; Problem says why it failed. The dashboard follows
	// it live from UploadURL.
	Upload *UploadStatus
}

// UploadStatus is an import in progress or failed, as the library shows it.
type UploadStatus struct {
	URL      string
	State    store.ImportState
	Playable bool // viewers can watch it already
	Status   string
	Problem  string
}

// ImportStatus words an import's state as the library shows it (the
// dashboard's script words its live updates the same way).
func ImportStatus(v store.Video, im store.Import) UploadStatus {
	u := UploadStatus{URL: "/uploads/" + v.ID, State: im.State, Playable: v.Playable()}
	switch im.State {
	case store.ImportReceiving:
		pct := 0
		if im.Length > 0 {
			pct = int(im.Received * 100 / im.Length)
		}
		u.Status = fmt.Sprintf("uploading… %d %%", pct)
	case store.ImportProcessing:
		u.Status = fmt.Sprintf("processing… %d %%", int(im.Progress*100))
		if v.Playable() {
			u.Status = "plays already · " + u.Status
		}
	case store.ImportFailed:
		u.Status, u.Problem = "failed", im.Message
	}
	return u
}

// Library is one library of the listing.
type Library struct {
	WorkspaceID string
	Name        string
	Items       []Item
}

// Sort orders of a listing.
var Sorts = []string{"newest", "oldest", "title", "longest"}

// Listing filters and sorts libraries (as account.Libraries returns
// them) by a search query on title and description.
func (s *Service) Listing(ctx context.Context, u store.User, libs []Library, query, sortBy string) ([]Library, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	failed, err := s.store.FailedJobs(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	nFailed := map[string]int{}
	for _, j := range failed {
		nFailed[j.VideoID]++
	}
	out := make([]Library, 0, len(libs))
	for _, l := range libs {
		var items []Item
		for _, it := range l.Items {
			v := it.Video
			if q != "" && !strings.Contains(strings.ToLower(v.Title+"\n"+v.Description), q) {
				continue
			}
			it.Title = DisplayTitle(v)
			it.Seconds = v.ProbedDuration
			if it.Seconds <= 0 {
				it.Seconds = v.Duration()
			}
			it.Duration = clock(it.Seconds)
			it.Mine = v.OwnerID == u.ID
			it.ShareURL = s.baseURL + "/v/" + v.Slug
			it.Failed = nFailed[v.ID]
			if v.State != store.StateReady && it.Mine {
				im, err := s.store.Import(ctx, v.ID)
				switch {
				case err == nil && im.State != store.ImportDone:
					st := ImportStatus(v, im)
					it.Upload = &st
				case err != nil && !errors.Is(err, store.ErrNotFound):
					return nil, err
				}
			}
			if v.State == store.StateReady {
				if _, err := s.store.Asset(ctx, v.ID, store.AssetThumbnail); err == nil {
					it.Thumbnail = true
				} else if !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
			}
			items = append(items, it)
		}
		sortItems(items, sortBy)
		l.Items = items
		out = append(out, l)
	}
	return out, nil
}

func sortItems(items []Item, by string) {
	slices.SortStableFunc(items, func(a, b Item) int {
		switch by {
		case "oldest":
			return a.Video.CreatedAt.Compare(b.Video.CreatedAt)
		case "title":
			return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
		case "longest":
			switch {
			case a.Seconds > b.Seconds:
				return -1
			case a.Seconds < b.Seconds:
				return 1
			}
			return 0
		}
		return b.Video.CreatedAt.Compare(a.Video.CreatedAt)
	})
}

// SettingsInput is the video form as typed.
type SettingsInput struct {
	Title       string
	Description string
	// DefaultButtons: use the workspace's buttons; else Buttons.
	DefaultButtons bool
	Buttons        []store.CTAButton
	Privacy        string
	Password       string // "" keeps the current one
	ExpiresAt      string // "" for never; 2006-01-02 or 2006-01-02T15:04 (UTC)
	Downloads      bool
}

func cleanText(field, label, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", &Error{Kind: KindInvalid, Field: field, Message: "The " + label + " is not valid text."}
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if utf8.RuneCountInString(s) > max {
		return "", &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf("The %s is longer than %d characters.", label, max)}
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
			return "", &Error{Kind: KindInvalid, Field: field, Message: "The " + label + " contains characters that cannot be shown."}
		}
	}
	return s, nil
}

func cleanButtons(in []store.CTAButton) ([]store.CTAButton, error) {
	out := []store.CTAButton{}
	for i, b := range in {
		field := fmt.Sprintf("button%d", i+1)
		label, err := cleanText(field+"_label", "button label", b.Label, MaxButtonLabelLen)
		if err != nil {
			return nil, err
		}
		link := strings.TrimSpace(b.URL)
		if label == "" && link == "" {
			continue
		}
		if strings.Contains(label, "\n") {
			return nil, &Error{Kind: KindInvalid, Field: field + "_label", Message: "A button label is one line."}
		}
		u, err := url.Parse(link)
		if label == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(link) > MaxButtonURLLen {
			return nil, &Error{Kind: KindInvalid, Field: field + "_url",
				Message: fmt.Sprintf("Button %d needs a label and a web address starting with https://.", i+1)}
		}
		out = append(out, store.CTAButton{Label: label, URL: link})
	}
	if len(out) > MaxButtons {
		return nil, &Error{Kind: KindInvalid, Field: "button1_label", Message: fmt.Sprintf("At most %d buttons.", MaxButtons)}
	}
	return out, nil
}

// UpdateSettings checks and saves the owner's share settings.
func (s *Service) UpdateSettings(ctx context.Context, u store.User, id string, in SettingsInput) (store.Video, error) {
	v, err := s.OwnedVideo(ctx, u, id)
	if err != nil {
		return store.Video{}, err
	}
	out := store.VideoSettings{PasswordHash: v.PasswordHash, Downloads: in.Downloads}
	if out.Title, err = cleanText("title", "title", in.Title, api.MaxTitleLen); err != nil {
		return store.Video{}, err
	}
	if strings.Contains(out.Title, "\n") {
		return store.Video{}, &Error{Kind: KindInvalid, Field: "title", Message: "The title is one line."}
	}
	if out.Description, err = cleanText("description", "description", in.Description, MaxDescriptionLen); err != nil {
		return store.Video{}, err
	}
	if !in.DefaultButtons {
		if out.CTAButtons, err = cleanButtons(in.Buttons); err != nil {
			return store.Video{}, err
		}
	}
	out.Privacy = store.Privacy(in.Privacy)
	if !out.Privacy.Valid() {
		return store.Video{}, &Error{Kind: KindInvalid, Field: "privacy", Message: "Choose who may watch."}
	}
	if in.Password != "" {
		if n := utf8.RuneCountInString(in.Password); n < MinPasswordLen || n > MaxPasswordLen {
			return store.Video{}, &Error{Kind: KindInvalid, Field: "password",
				Message: fmt.Sprintf("The password needs %d to %d characters.", MinPasswordLen, MaxPasswordLen)}
		}
		if out.PasswordHash, err = HashPassword(ctx, in.Password); err != nil {
			return store.Video{}, err
		}
	}
	if out.Privacy == store.PrivacyPassword && out.PasswordHash == "" {
		return store.Video{}, &Error{Kind: KindInvalid, Field: "password", Message: "Choose a password for the link."}
	}
	if out.Privacy != store.PrivacyPassword {
		out.PasswordHash = "" // a later switch back asks for a new one
	}
	if e := strings.TrimSpace(in.ExpiresAt); e != "" {
		t, err := time.Parse("2006-01-02T15:04", e)
		if err != nil {
			t, err = time.Parse("2006-01-02", e)
			t = t.Add(24*time.Hour - time.Second) // the end of that day
		}
		if err != nil {
			return store.Video{}, &Error{Kind: KindInvalid, Field: "expires", Message: "The expiry date is not a date."}
		}
		out.ExpiresAt = t.UTC()
	}
	s.cache.forget(v.ID)
	v, err = s.store.UpdateVideoSettings(ctx, v.ID, out)
	if err != nil {
		return store.Video{}, err
	}
	s.log.Info("share settings saved", "video_id", v.ID, "privacy", string(v.Privacy), "downloads", v.Downloads, "expires", !v.ExpiresAt.IsZero())
	return v, nil
}

// Rotate gives the video a new link; the old one stops working at once.
func (s *Service) Rotate(ctx context.Context, u store.User, id string) (store.Video, error) {
	v, err := s.OwnedVideo(ctx, u, id)
	if err != nil {
		return store.Video{}, err
	}
	for range 3 {
		nv, err := s.store.RotateSlug(ctx, v.ID, secrets.Random(20))
		s.cache.forget(v.ID)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Video{}, err
		}
		s.log.Info("share link rotated", "video_id", v.ID)
		return nv, nil
	}
	return store.Video{}, fmt.Errorf("rotate link of %s: no free slug", v.ID)
}

// Delete removes a video, its blobs included.
func (s *Service) Delete(ctx context.Context, u store.User, id string) error {
	v, err := s.OwnedVideo(ctx, u, id)
	if err != nil {
		return err
	}
	defer s.cache.forget(v.ID)
	return s.media.DeleteVideo(ctx, v.ID)
}

// Jobs lists a video's processing jobs.
func (s *Service) Jobs(ctx context.Context, u store.User, id string) ([]store.Job, error) {
	v, err := s.OwnedVideo(ctx, u, id)
	if err != nil {
		return nil, err
	}
	return s.store.VideoJobs(ctx, v.ID)
}

// FailedJobs lists the failed jobs of the user's videos.
func (s *Service) FailedJobs(ctx context.Context, u store.User) ([]store.Job, error) {
	return s.store.FailedJobs(ctx, u.ID)
}

// RetryJob queues a failed job of one of the user's videos again.
func (s *Service) RetryJob(ctx context.Context, u store.User, jobID string) (store.Job, error) {
	notFound := fail(KindNotFound, "There is no such failed job.")
	j, err := s.store.Job(ctx, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Job{}, notFound
	}
	if err != nil {
		return store.Job{}, err
	}
	if _, err := s.OwnedVideo(ctx, u, j.VideoID); err != nil {
		return store.Job{}, notFound
	}
	if s.jobs == nil {
		return store.Job{}, errors.New("share: no job queue")
	}
	j, err = s.jobs.Retry(ctx, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Job{}, notFound
	}
	if errors.Is(err, store.ErrConflict) {
		return store.Job{}, fail(KindInvalid, "The same work is already queued.")
	}
	return j, err
}

// LibraryVideo returns a video the user may see in a library: their own,
// or one in a workspace they belong to.
func (s *Service) LibraryVideo(ctx context.Context, u store.User, id string) (store.Video, error) {
	if !media.ValidID(id) {
		return store.Video{}, errNoVideo
	}
	v, err := s.store.Video(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Video{}, errNoVideo
	}
	if err != nil {
		return store.Video{}, err
	}
	ok, err := s.isMember(ctx, v, &u)
	if err != nil {
		return store.Video{}, err
	}
	if !ok {
		return store.Video{}, errNoVideo
	}
	return v, nil
}

// Trim queues a trim of the owner's video to [start, end) seconds of the
// original recording.
func (s *Service) Trim(ctx context.Context, u store.User, id string, start, end float64) error {
	v, err := s.OwnedVideo(ctx, u, id)
	if err != nil {
		return err
	}
	if v.State != store.StateReady {
		return &Error{Kind: KindInvalid, Field: "start", Message: "The video is still uploading."}
	}
	err = s.media.RequestTrim(ctx, v, start, end)
	var me *media.Error
	if errors.As(err, &me) && me.Kind == media.KindInvalid {
		return &Error{Kind: KindInvalid, Field: "start", Message: me.Message}
	}
	if err == nil {
		s.log.Info("trim requested", "video_id", v.ID, "start", start, "end", end)
	}
	return err
}

// Untrim goes back to the whole recording.
func (s *Service) Untrim(ctx context.Context, u store.User, id string) error {
	v, err := s.OwnedVideo(ctx, u, id)
	if err != nil {
		return err
	}
	defer s.cache.forget(v.ID)
	return s.media.Untrim(ctx, v)
}

// CurrentTrim is the video's trim, or nil.
func (s *Service) CurrentTrim(ctx context.Context, v store.Video) (*store.Trim, error) {
	t, err := s.media.Trim(ctx, v)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &t, nil
}
