package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

func (s *SQLite) SetVideoOwner(ctx context.Context, id, ownerID string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE videos SET owner_id = ? WHERE id = ?`, ownerID, id)
	if isForeignKey(err) {
		return fmt.Errorf("set owner of video %s: user: %w", id, ErrNotFound)
	}
	return oneRow(res, err, "set owner of video "+id)
}

func (s *SQLite) DeleteInvitationsTo(ctx context.Context, emailNorm string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM invitations WHERE email_norm = ?`, emailNorm); err != nil {
		return fmt.Errorf("delete invitations to an address: %w", err)
	}
	return nil
}

func (s *SQLite) DeleteRateLimits(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM rate_limits WHERE key = ?`, k); err != nil {
			return fmt.Errorf("delete rate limits: %w", err)
		}
	}
	return nil
}

const exportColumns = `id, user_id, workspace_id, state, token_hash, blob_key, seal_id, wrapped_key, size, created_at, ready_at, expires_at`

func scanExport(r scanner) (Export, error) {
	var (
		e              Export
		ws, token      sql.NullString
		created        int64
		ready, expires sql.NullInt64
	)
	if err := r.Scan(&e.ID, &e.UserID, &ws, &e.State, &token, &e.BlobKey, &e.SealID, &e.WrappedKey, &e.Size, &created, &ready, &expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Export{}, ErrNotFound
		}
		return Export{}, err
	}
	e.WorkspaceID, e.TokenHash, e.CreatedAt = ws.String, token.String, fromMicros(created)
	if ready.Valid {
		e.ReadyAt = fromMicros(ready.Int64)
	}
	if expires.Valid {
		e.ExpiresAt = fromMicros(expires.Int64)
	}
	return e, nil
}

func (s *SQLite) CreateExport(ctx context.Context, e Export) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO exports (`+exportColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.UserID, nullable(e.WorkspaceID), e.State, nullable(e.TokenHash), e.BlobKey, e.SealID, e.WrappedKey, e.Size,
		micros(e.CreatedAt), nullTime(e.ReadyAt), nullTime(e.ExpiresAt))
	if isForeignKey(err) {
		return fmt.Errorf("create export: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create export: %w", err)
	}
	return nil
}

func (s *SQLite) Export(ctx context.Context, id string) (Export, error) {
	e, err := scanExport(s.db.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM exports WHERE id = ?`, id))
	if err != nil {
		return Export{}, fmt.Errorf("export %s: %w", id, err)
	}
	return e, nil
}

func (s *SQLite) ExportByToken(ctx context.Context, tokenHash string) (Export, error) {
	e, err := scanExport(s.db.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM exports WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return Export{}, fmt.Errorf("export by link: %w", err)
	}
	return e, nil
}

func (s *SQLite) UpdateExport(ctx context.Context, e Export) error {
	res, err := s.db.ExecContext(ctx, `UPDATE exports SET workspace_id = ?, state = ?, token_hash = ?, blob_key = ?, seal_id = ?,
		wrapped_key = ?, size = ?, ready_at = ?, expires_at = ? WHERE id = ?`,
		nullable(e.WorkspaceID), e.State, nullable(e.TokenHash), e.BlobKey, e.SealID, e.WrappedKey, e.Size,
		nullTime(e.ReadyAt), nullTime(e.ExpiresAt), e.ID)
	return oneRow(res, err, "update export "+e.ID)
}

func (s *SQLite) Exports(ctx context.Context, userID string) ([]Export, error) {
	return queryAll(ctx, s.db, scanExport, "exports of "+userID,
		`SELECT `+exportColumns+` FROM exports WHERE user_id = ? ORDER BY created_at DESC, id`, userID)
}

func (s *SQLite) ExpiredExports(ctx context.Context, now time.Time) ([]Export, error) {
	return queryAll(ctx, s.db, scanExport, "expired exports",
		`SELECT `+exportColumns+` FROM exports WHERE expires_at <= ? ORDER BY expires_at, id`, micros(now))
}

func (s *SQLite) DeleteExport(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM exports WHERE id = ?`, id)
	return oneRow(res, err, "delete export "+id)
}

func (s *SQLite) AddAudit(ctx context.Context, a AuditEntry) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO privacy_audit (id, user_id, at, action, detail) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.UserID, micros(a.At), a.Action, a.Detail)
	if isForeignKey(err) {
		return fmt.Errorf("audit: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (s *SQLite) Audit(ctx context.Context, userID string, limit int) ([]AuditEntry, error) {
	return queryAll(ctx, s.db, func(r scanner) (AuditEntry, error) {
		var (
			a  AuditEntry
			at int64
		)
		err := r.Scan(&a.ID, &a.UserID, &at, &a.Action, &a.Detail)
		a.At = fromMicros(at)
		return a, err
	}, "audit of "+userID, `SELECT id, user_id, at, action, detail FROM privacy_audit WHERE user_id = ?
		ORDER BY at DESC, id DESC LIMIT ?`, userID, limit)
}

func (s *SQLite) RowsAboutVideos(ctx context.Context, videoIDs []string, skip []string) (map[string][]map[string]any, error) {
	out := map[string][]map[string]any{}
	if len(videoIDs) == 0 {
		return out, nil
	}
	q := `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND p.name = 'video_id' ORDER BY m.name`
	if s.postgres {
		q = `SELECT table_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND column_name = 'video_id' ORDER BY table_name`
	}
	tables, err := queryAll(ctx, s.db, func(r scanner) (string, error) {
		var t string
		return t, r.Scan(&t)
	}, "tables about videos", q)
	if err != nil {
		return nil, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(videoIDs)), ", ")
	args := make([]any, len(videoIDs))
	for i, id := range videoIDs {
		args[i] = id
	}
	for _, t := range tables {
		if slices.Contains(skip, t) {
			continue
		}
		rows, err := s.db.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(t, `"`, `""`)+`" WHERE video_id IN (`+marks+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("rows of %s: %w", t, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("rows of %s: %w", t, err)
		}
		list := []map[string]any{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("rows of %s: %w", t, err)
			}
			m := make(map[string]any, len(cols))
			for i, c := range cols {
				if b, ok := vals[i].([]byte); ok {
					vals[i] = string(b)
				}
				m[c] = vals[i]
			}
			list = append(list, m)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("rows of %s: %w", t, err)
		}
		out[t] = list
	}
	return out, nil
}

func (s *SQLite) CreatePolicyVersion(ctx context.Context, p PolicyVersion) error {
	major := 0
	if p.Major {
		major = 1
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO policy_versions (version, major, summary, body, published_at, effective_at)
		VALUES (?, ?, ?, ?, ?, ?)`, p.Version, major, p.Summary, p.Body, micros(p.PublishedAt), micros(p.EffectiveAt))
	if isUnique(err) {
		return fmt.Errorf("publish policy %s: %w", p.Version, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("publish policy %s: %w", p.Version, err)
	}
	return nil
}

func (s *SQLite) PolicyVersions(ctx context.Context) ([]PolicyVersion, error) {
	return queryAll(ctx, s.db, func(r scanner) (PolicyVersion, error) {
		var (
			p                    PolicyVersion
			major                int64
			published, effective int64
		)
		err := r.Scan(&p.Version, &major, &p.Summary, &p.Body, &published, &effective)
		p.Major, p.PublishedAt, p.EffectiveAt = major == 1, fromMicros(published), fromMicros(effective)
		return p, err
	}, "policy versions", `SELECT version, major, summary, body, published_at, effective_at FROM policy_versions
		ORDER BY effective_at, published_at, version`)
}

func (s *SQLite) AddConsent(ctx context.Context, c Consent) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO consents (user_id, version, at) VALUES (?, ?, ?)
		ON CONFLICT (user_id, version) DO NOTHING`, c.UserID, c.Version, micros(c.At))
	if isForeignKey(err) {
		return fmt.Errorf("consent to %s: %w", c.Version, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("consent to %s: %w", c.Version, err)
	}
	return nil
}

func (s *SQLite) Consents(ctx context.Context, userID string) ([]Consent, error) {
	return queryAll(ctx, s.db, func(r scanner) (Consent, error) {
		var (
			c  Consent
			at int64
		)
		err := r.Scan(&c.UserID, &c.Version, &at)
		c.At = fromMicros(at)
		return c, err
	}, "consents of "+userID, `SELECT user_id, version, at FROM consents WHERE user_id = ? ORDER BY at DESC, version DESC`, userID)
}

func (s *SQLite) UsersToNotify(ctx context.Context, version string, limit int) ([]User, error) {
	return queryAll(ctx, s.db, scanUser, "users to notify of "+version, `SELECT `+userColumns+` FROM users
		WHERE NOT EXISTS (SELECT 1 FROM policy_notices n WHERE n.user_id = users.id AND n.version = ?)
		ORDER BY id LIMIT ?`, version, limit)
}

func (s *SQLite) MarkNotified(ctx context.Context, userID, version string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO policy_notices (user_id, version, sent_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id, version) DO NOTHING`, userID, version, micros(at))
	if isForeignKey(err) {
		return fmt.Errorf("mark notified of %s: %w", version, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("mark notified of %s: %w", version, err)
	}
	return nil
}

func (s *SQLite) AddSupportMessage(ctx context.Context, m SupportMessage) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO support_messages (id, user_id, name, email, subject, body, created_at, account_deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.ID, nullable(m.UserID), m.Name, m.Email, m.Subject, m.Body, micros(m.CreatedAt), nullTime(m.AccountDeletedAt))
	if isForeignKey(err) {
		return fmt.Errorf("support message: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("support message: %w", err)
	}
	return nil
}

func (s *SQLite) SupportMessages(ctx context.Context, limit int) ([]SupportMessage, error) {
	return queryAll(ctx, s.db, func(r scanner) (SupportMessage, error) {
		var (
			m       SupportMessage
			user    sql.NullString
			created int64
			deleted sql.NullInt64
		)
		err := r.Scan(&m.ID, &user, &m.Name, &m.Email, &m.Subject, &m.Body, &created, &deleted)
		m.UserID, m.CreatedAt = user.String, fromMicros(created)
		if deleted.Valid {
			m.AccountDeletedAt = fromMicros(deleted.Int64)
		}
		return m, err
	}, "support messages", `SELECT id, user_id, name, email, subject, body, created_at, account_deleted_at
		FROM support_messages ORDER BY created_at DESC, id LIMIT ?`, limit)
}

func (s *SQLite) CountSupportMessages(ctx context.Context, userID string, since time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM support_messages WHERE user_id = ? AND created_at >= ?`, userID, micros(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count support messages: %w", err)
	}
	return n, nil
}

func (s *SQLite) OrphanSupportMessages(ctx context.Context, userID string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE support_messages SET account_deleted_at = ?, user_id = NULL WHERE user_id = ?`, micros(at), userID); err != nil {
		return fmt.Errorf("orphan support messages: %w", err)
	}
	return nil
}

func (s *SQLite) PurgeSupportMessages(ctx context.Context, deletedBefore time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM support_messages WHERE account_deleted_at < ?`, micros(deletedBefore))
	if err != nil {
		return 0, fmt.Errorf("purge support messages: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// usageTables are the usage-history tables and their time columns;
// "days" columns count days since 1970-01-01. Tables not in the schema
// (tracking before it exists) are skipped.
var usageTables = []struct {
	table, column string
	days          bool
}{
	{"sign_ins", "at", false},
	{"track_views", "started_at", false},
	{"track_daily", "day", true},
}

func (s *SQLite) tableExists(ctx context.Context, table string) (bool, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if s.postgres {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	var n int
	if err := s.db.QueryRowContext(ctx, q, table).Scan(&n); err != nil {
		return false, fmt.Errorf("table %s: %w", table, err)
	}
	return n > 0, nil
}

func (s *SQLite) PurgeUsage(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, u := range usageTables {
		ok, err := s.tableExists(ctx, u.table)
		if err != nil {
			return total, err
		}
		if !ok {
			continue
		}
		limit := micros(before)
		if u.days {
			limit = before.Unix() / 86400
		}
		res, err := s.db.ExecContext(ctx, `DELETE FROM `+u.table+` WHERE `+u.column+` < ?`, limit)
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", u.table, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

func (s *SQLite) UnverifiedUsers(ctx context.Context, createdBefore time.Time, limit int) ([]User, error) {
	return queryAll(ctx, s.db, scanUser, "unverified users", `SELECT `+userColumns+` FROM users
		WHERE email_verified_at IS NULL AND created_at < ? ORDER BY created_at, id LIMIT ?`, micros(createdBefore), limit)
}

func (s *SQLite) StaleUploads(ctx context.Context, before time.Time) ([]Upload, error) {
	return queryAll(ctx, s.db, func(r scanner) (Upload, error) {
		var (
			u       Upload
			updated int64
		)
		err := r.Scan(&u.VideoID, &u.Index, &u.SHA256, &u.Length, &u.Received, &updated)
		u.UpdatedAt = fromMicros(updated)
		return u, err
	}, "stale uploads", `SELECT video_id, idx, sha256, length, received, updated_at FROM uploads
		WHERE updated_at < ? ORDER BY updated_at`, micros(before))
}

func (s *SQLite) StaleImports(ctx context.Context, before time.Time) ([]string, error) {
	return queryAll(ctx, s.db, func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, "stale imports", `SELECT video_id FROM imports WHERE state = 'receiving' AND updated_at < ? ORDER BY updated_at`, micros(before))
}

func (s *SQLite) PendingJobs(ctx context.Context, kind string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM jobs WHERE kind = ? AND state IN ('queued', 'running')`, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("pending %s jobs: %w", kind, err)
	}
	return n, nil
}

func (s *SQLite) PrivacySettings(ctx context.Context, userID string) (PrivacySettings, error) {
	ps := PrivacySettings{UserID: userID, OptionalMail: true}
	var (
		restricted sql.NullInt64
		mail       int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT restricted_at, optional_mail FROM privacy_settings WHERE user_id = ?`, userID).Scan(&restricted, &mail)
	if errors.Is(err, sql.ErrNoRows) {
		return ps, nil
	}
	if err != nil {
		return PrivacySettings{}, fmt.Errorf("privacy settings of %s: %w", userID, err)
	}
	if restricted.Valid {
		ps.RestrictedAt = fromMicros(restricted.Int64)
	}
	ps.OptionalMail = mail == 1
	return ps, nil
}

func (s *SQLite) SetPrivacySettings(ctx context.Context, ps PrivacySettings) error {
	mail := 0
	if ps.OptionalMail {
		mail = 1
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO privacy_settings (user_id, restricted_at, optional_mail) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET restricted_at = excluded.restricted_at, optional_mail = excluded.optional_mail`,
		ps.UserID, nullTime(ps.RestrictedAt), mail)
	if isForeignKey(err) {
		return fmt.Errorf("privacy settings of %s: %w", ps.UserID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("privacy settings of %s: %w", ps.UserID, err)
	}
	return nil
}
