package privacy

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/seal"
)

const jobExport = "privacy-export"

// maxExportsPerDay bounds the exports one user asks for in 24 hours.
const maxExportsPerDay = 3

type exportArgs struct {
	ExportID string `json:"export_id"`
}

func exportPrefix(userID string) string { return "exports/" + userID + "/" }

// Tables about videos that are the server's own machinery, not data
// about anyone: left out of the analytics file.
var internalVideoTables = []string{"segments", "uploads", "jobs", "video_assets", "video_trims"}

// RequestExport starts building a ZIP of everything stored about u; a
// link is mailed when it is ready.
func (s *Service) RequestExport(ctx context.Context, u store.User) (store.Export, error) {
	return s.requestExport(ctx, u, "")
}

// RequestWorkspaceExport starts building a ZIP of a workspace (its
// settings, members, library with analytics and the videos as MP4); only
// its owners may.
func (s *Service) RequestWorkspaceExport(ctx context.Context, u store.User, wsID string) (store.Export, error) {
	if _, err := s.accounts.RequireRole(ctx, u, wsID, store.RoleOwner); err != nil {
		return store.Export{}, err
	}
	return s.requestExport(ctx, u, wsID)
}

func (s *Service) requestExport(ctx context.Context, u store.User, wsID string) (store.Export, error) {
	es, err := s.store.Exports(ctx, u.ID)
	if err != nil {
		return store.Export{}, err
	}
	today := 0
	for _, e := range es {
		if e.State == store.ExportPending && e.WorkspaceID == wsID {
			return store.Export{}, fail(KindConflict, "An export is being prepared already; you will get an e-mail when it is ready.")
		}
		if s.now().Sub(e.CreatedAt) < 24*time.Hour {
			today++
		}
	}
	// Each export copies every video: a few a day is plenty.
	if today >= maxExportsPerDay {
		return store.Export{}, fail(KindConflict, "You asked for %d exports in the last 24 hours; use the links we mailed, or ask again tomorrow.", today)
	}
	e := store.Export{ID: secrets.NewID(), UserID: u.ID, WorkspaceID: wsID, State: store.ExportPending, CreatedAt: s.now().UTC()}
	if err := s.store.CreateExport(ctx, e); err != nil {
		return store.Export{}, err
	}
	// Logged before the job can run, so the export holds its own request.
	if wsID == "" {
		s.audit(ctx, u.ID, ActionExportRequested, "You asked for a copy of your data.")
	} else {
		w, _ := s.store.Workspace(ctx, wsID)
		s.audit(ctx, u.ID, ActionWorkspaceExported, fmt.Sprintf("You asked for a copy of the workspace %q.", w.Name))
	}
	if _, err := s.jobs.Enqueue(ctx, jobs.Spec{Kind: jobExport, Args: exportArgs{e.ID}, MaxAttempts: 3}); err != nil {
		return store.Export{}, err
	}
	s.log.Info("export requested", "export_id", e.ID, "user_id", u.ID, "workspace", wsID != "")
	return e, nil
}

// Exports lists the user's exports, newest first.
func (s *Service) Exports(ctx context.Context, u store.User) ([]store.Export, error) {
	return s.store.Exports(ctx, u.ID)
}

// runExport builds, seals and stores the ZIP, then mails its link. A
// retry after the file was stored only mails again (with a new link).
func (s *Service) runExport(ctx context.Context, j store.Job) (err error) {
	args, err := jobs.Args[exportArgs](j)
	if err != nil {
		return err
	}
	e, err := s.store.Export(ctx, args.ExportID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the user was deleted meanwhile
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil && !jobs.IsPermanent(err) && j.Attempts < j.MaxAttempts {
			return
		}
		if err != nil {
			e.State = store.ExportFailed
			if uerr := s.store.UpdateExport(context.WithoutCancel(ctx), e); uerr != nil {
				s.log.Error("marking an export failed", "export_id", e.ID, "err", uerr)
			}
		}
	}()
	u, err := s.store.User(ctx, e.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if e.State != store.ExportReady {
		if err := s.buildExport(ctx, u, &e); err != nil {
			return fmt.Errorf("export %s: %w", e.ID, err)
		}
	}
	token := secrets.NewToken()
	e.TokenHash = secrets.Hash(token)
	e.State = store.ExportReady
	if err := s.store.UpdateExport(ctx, e); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			_ = s.blobs.Delete(context.WithoutCancel(ctx), e.BlobKey)
			return nil
		}
		return err
	}
	what := "your Framecast data"
	if e.WorkspaceID != "" {
		w, err := s.store.Workspace(ctx, e.WorkspaceID)
		if err != nil {
			return err
		}
		what = fmt.Sprintf("the Framecast workspace %q", w.Name)
	}
	if err := s.mail.Send(ctx, exportReadyMail(u.Email, u.Name, what, s.baseURL+"/privacy/exports/"+token, e.ExpiresAt)); err != nil {
		return err
	}
	s.audit(ctx, u.ID, ActionExportReady, fmt.Sprintf("A copy of %s was ready; its link works until %s.", what, e.ExpiresAt.Format("2006-01-02 15:04 MST")))
	s.log.Info("export ready", "export_id", e.ID, "bytes", e.Size)
	return nil
}

func exportReadyMail(to, name, what, link string, expires time.Time) mail.Message {
	return mail.Message{To: to, Kind: "export-ready", Subject: "Your Framecast data export is ready", Text: fmt.Sprintf(
		`Hello %s,

the copy of %s you asked for is ready. Download it here (sign in
as yourself first if asked):

%s

The link and the file are deleted on %s. If you did not ask
for this, sign in and change your password.
`, name, what, link, expires.Format("2 January 2006 at 15:04 MST"))}
}

// buildExport writes the ZIP to a scratch file, seals it into the blob
// store and records where it is in e.
func (s *Service) buildExport(ctx context.Context, u store.User, e *store.Export) error {
	if err := os.MkdirAll(s.workDir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.workDir, "export-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	zw := zip.NewWriter(f)
	if e.WorkspaceID == "" {
		err = s.writeUserExport(ctx, zw, u)
	} else {
		err = s.writeWorkspaceExport(ctx, zw, e.WorkspaceID)
	}
	if err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	dek, rec := seal.NewKey(), seal.NewRecordingID()
	wrapped, err := seal.WrapKey(s.kek, dek, exportPurpose(e.ID))
	if err != nil {
		return err
	}
	key := exportPrefix(u.ID) + e.ID + ".zip"
	pr, pw := io.Pipe()
	go func() {
		w, err := seal.NewWriter(pw, dek, rec, 0)
		if err == nil {
			_, err = io.Copy(w, f)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		pw.CloseWithError(err)
	}()
	if err := s.blobs.Put(ctx, key, pr); err != nil {
		pr.CloseWithError(err)
		return err
	}
	now := s.now().UTC()
	e.BlobKey, e.SealID, e.WrappedKey, e.Size = key, rec.String(), wrapped, size
	e.ReadyAt, e.ExpiresAt = now, now.Add(s.exportTTL)
	return nil
}

func exportPurpose(id string) string { return "framecast export " + id }

// Download opens the export behind a mailed link for its owner.
func (s *Service) Download(ctx context.Context, u store.User, token string) (io.ReadCloser, store.Export, error) {
	notFound := fail(KindNotFound, "This download link is not valid. Ask for a new export on the privacy page.")
	if !validSecret(token) {
		return nil, store.Export{}, notFound
	}
	e, err := s.store.ExportByToken(ctx, secrets.Hash(token))
	if errors.Is(err, store.ErrNotFound) || err == nil && (e.UserID != u.ID || e.State != store.ExportReady) {
		return nil, store.Export{}, notFound
	}
	if err != nil {
		return nil, store.Export{}, err
	}
	if !s.now().Before(e.ExpiresAt) {
		return nil, store.Export{}, fail(KindGone, "This download link has expired. Ask for a new export on the privacy page.")
	}
	dek, err := seal.UnwrapKey(s.kek, e.WrappedKey, exportPurpose(e.ID))
	if err != nil {
		return nil, store.Export{}, fmt.Errorf("export %s: %w", e.ID, err)
	}
	rec, err := seal.ParseRecordingID(e.SealID)
	if err != nil {
		return nil, store.Export{}, fmt.Errorf("export %s: %w", e.ID, err)
	}
	rc, err := s.blobs.Get(ctx, e.BlobKey)
	if err != nil {
		return nil, store.Export{}, fmt.Errorf("export %s: %w", e.ID, err)
	}
	r, err := seal.NewReader(rc, dek, rec, 0)
	if err != nil {
		rc.Close()
		return nil, store.Export{}, fmt.Errorf("export %s: %w", e.ID, err)
	}
	s.audit(ctx, u.ID, ActionExportDownloaded, "You downloaded an export.")
	return struct {
		io.Reader
		io.Closer
	}{r, rc}, e, nil
}

// The files in an export. Times are RFC 3339 in UTC; null when unset.

type jsonTime = *time.Time

func jt(t time.Time) jsonTime {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (s *Service) writeUserExport(ctx context.Context, zw *zip.Writer, u store.User) error {
	profile := map[string]any{
		"id": u.ID, "name": u.Name, "email": u.Email, "phone": u.Phone, "company": u.Company,
		"email_verified_at": jt(u.EmailVerifiedAt), "created_at": jt(u.CreatedAt), "updated_at": jt(u.UpdatedAt),
		"has_password": u.PasswordHash != "", "photo": "",
	}
	if u.PhotoKey != "" {
		name := "photo" + photoExt(u.PhotoType)
		if err := s.copyBlob(ctx, zw, name, u.PhotoKey); err != nil {
			return err
		}
		profile["photo"] = name
	}
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return err
	}
	var workspaces []map[string]any
	for _, m := range ms {
		workspaces = append(workspaces, map[string]any{"workspace_id": m.WorkspaceID, "name": m.WorkspaceName, "role": m.Role, "since": jt(m.CreatedAt)})
	}
	signIns, err := s.store.SignIns(ctx, u.ID, 1<<20)
	if err != nil {
		return err
	}
	var history []map[string]any
	for _, si := range signIns {
		history = append(history, map[string]any{"at": jt(si.At), "method": si.Method, "network": si.IP, "user_agent": si.UserAgent})
	}
	devs, err := s.store.Devices(ctx, u.ID)
	if err != nil {
		return err
	}
	var devices []map[string]any
	for _, d := range devs {
		devices = append(devices, map[string]any{"id": d.ID, "name": d.Name, "signed_in_at": jt(d.CreatedAt), "last_used_at": jt(d.LastUsedAt)})
	}
	ids, err := s.store.Identities(ctx, u.ID)
	if err != nil {
		return err
	}
	var identities []map[string]any
	for _, id := range ids {
		identities = append(identities, map[string]any{"provider": id.Provider, "email": id.Email, "linked_at": jt(id.CreatedAt)})
	}
	log, err := s.store.Audit(ctx, u.ID, 1<<20)
	if err != nil {
		return err
	}
	var audit []map[string]any
	for _, a := range log {
		audit = append(audit, map[string]any{"at": jt(a.At), "action": a.Action, "detail": a.Detail})
	}
	consents, err := s.store.Consents(ctx, u.ID)
	if err != nil {
		return err
	}
	var cs []map[string]any
	for _, c := range consents {
		cs = append(cs, map[string]any{"policy_version": c.Version, "accepted_at": jt(c.At)})
	}
	ps, err := s.store.PrivacySettings(ctx, u.ID)
	if err != nil {
		return err
	}
	choices := map[string]any{"informational_mail": ps.OptionalMail, "processing_restricted_since": jt(ps.RestrictedAt)}
	msgs, err := s.store.SupportMessages(ctx, 1<<20)
	if err != nil {
		return err
	}
	var support []map[string]any
	for _, m := range msgs {
		if m.UserID == u.ID {
			support = append(support, map[string]any{"sent_at": jt(m.CreatedAt), "subject": m.Subject, "message": m.Body})
		}
	}
	videos, err := s.store.VideosOwnedBy(ctx, u.ID)
	if err != nil {
		return err
	}
	files := []struct {
		name string
		v    any
	}{
		{"profile.json", profile}, {"workspaces.json", orEmpty(workspaces)}, {"sign_ins.json", orEmpty(history)},
		{"devices.json", orEmpty(devices)}, {"identities.json", orEmpty(identities)}, {"privacy_log.json", orEmpty(audit)},
		{"consents.json", orEmpty(cs)}, {"privacy_choices.json", choices}, {"support_messages.json", orEmpty(support)},
	}
	for _, f := range files {
		if err := writeJSON(zw, f.name, f.v); err != nil {
			return err
		}
	}
	if err := s.writeVideos(ctx, zw, videos, false); err != nil {
		return err
	}
	return writeText(zw, "README.txt", `This is a copy of everything Framecast stores about you:

profile.json       your account (name, address, phone, company, dates)
photo.*            your profile photo, if you have one
workspaces.json    the workspaces you belong to and your role
videos.json        your videos' details; each one's MP4 is in videos/
analytics.json     what viewers' visits to your videos recorded, table by table
sign_ins.json      when and from where (network, not your full address) you signed in
devices.json       the desktop apps signed in to your account
identities.json    Google or Microsoft accounts linked to yours
privacy_log.json   your privacy actions (exports, consents, deletions)
consents.json      the privacy policy versions you accepted, and when
privacy_choices.json  your mail preference and restriction of processing
support_messages.json the messages you sent to support
`)
}

func (s *Service) writeWorkspaceExport(ctx context.Context, zw *zip.Writer, wsID string) error {
	w, err := s.store.Workspace(ctx, wsID)
	if err != nil {
		return err
	}
	members, err := s.store.Members(ctx, wsID)
	if err != nil {
		return err
	}
	var ms []map[string]any
	for _, m := range members {
		ms = append(ms, map[string]any{"user_id": m.UserID, "name": m.UserName, "email": m.UserEmail, "role": m.Role, "since": jt(m.CreatedAt)})
	}
	buttons := w.CTAButtons
	if buttons == nil {
		buttons = []store.CTAButton{}
	}
	if err := writeJSON(zw, "workspace.json", map[string]any{"id": w.ID, "name": w.Name, "created_at": jt(w.CreatedAt), "buttons": buttons}); err != nil {
		return err
	}
	if err := writeJSON(zw, "members.json", orEmpty(ms)); err != nil {
		return err
	}
	videos, err := s.store.LibraryVideos(ctx, "", wsID)
	if err != nil {
		return err
	}
	if err := s.writeVideos(ctx, zw, videos, true); err != nil {
		return err
	}
	return writeText(zw, "README.txt", `This is a copy of a Framecast workspace:

workspace.json   its name and default buttons
members.json     its members and their roles
videos.json      the videos in its library; each one's MP4 is in videos/
analytics.json   what viewers' visits to those videos recorded, table by table
`)
}

// writeVideos writes videos.json, analytics.json and each video's MP4.
func (s *Service) writeVideos(ctx context.Context, zw *zip.Writer, videos []store.Video, withOwner bool) error {
	list := []map[string]any{}
	ids := make([]string, 0, len(videos))
	for _, v := range videos {
		ids = append(ids, v.ID)
		m := map[string]any{
			"id": v.ID, "title": v.Title, "description": v.Description, "state": string(v.State),
			"created_at": jt(v.CreatedAt), "ready_at": jt(v.ReadyAt), "duration_seconds": v.ProbedDuration,
			"workspace_id": v.WorkspaceID, "privacy": string(v.Privacy), "link_expires_at": jt(v.ExpiresAt),
			"downloads": v.Downloads, "share_url": s.media.ShareURL(v), "file": "",
		}
		if withOwner {
			m["owner_id"] = v.OwnerID
		}
		a, err := s.store.Asset(ctx, v.ID, store.AssetMP4)
		switch {
		case errors.Is(err, store.ErrNotFound):
			m["file_note"] = "No MP4 has been made of this video (yet)."
		case err != nil:
			return err
		default:
			name := path.Join("videos", v.ID+".mp4")
			rc, err := s.media.OpenAsset(ctx, v, a)
			if err != nil {
				return fmt.Errorf("video %s: %w", v.ID, err)
			}
			err = copyInto(zw, name, rc, zip.Store) // already compressed
			rc.Close()
			if err != nil {
				return err
			}
			m["file"] = name
		}
		list = append(list, m)
	}
	if err := writeJSON(zw, "videos.json", list); err != nil {
		return err
	}
	rows, err := s.store.RowsAboutVideos(ctx, ids, internalVideoTables)
	if err != nil {
		return err
	}
	return writeJSON(zw, "analytics.json", rows)
}

func (s *Service) copyBlob(ctx context.Context, zw *zip.Writer, name, key string) error {
	rc, err := s.blobs.Get(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	return copyInto(zw, name, rc, zip.Deflate)
}

func copyInto(zw *zip.Writer, name string, r io.Reader, method uint16) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: time.Now().UTC()})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func writeText(zw *zip.Writer, name, text string) error {
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, text)
	return err
}

func orEmpty(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

func photoExt(ct string) string {
	switch ct {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	}
	return ".bin"
}
