package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The Accounts half of the SQLite store. The SQL is kept to what SQLite
// and PostgreSQL share (ON CONFLICT, RETURNING, integer microseconds).

const userColumns = `id, email, email_norm, name, phone, company, password_hash, email_verified_at,
	photo_key, photo_type, created_at, updated_at`

func scanUser(r scanner) (User, error) {
	var (
		u                User
		verified         sql.NullInt64
		created, updated int64
	)
	err := r.Scan(&u.ID, &u.Email, &u.EmailNorm, &u.Name, &u.Phone, &u.Company, &u.PasswordHash, &verified,
		&u.PhotoKey, &u.PhotoType, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	u.EmailVerifiedAt = fromNull(verified)
	u.CreatedAt = fromMicros(created)
	u.UpdatedAt = fromMicros(updated)
	return u, nil
}

func (s *SQLite) CreateUser(ctx context.Context, u User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.EmailNorm, u.Name, u.Phone, u.Company, u.PasswordHash, nullTime(u.EmailVerifiedAt),
		u.PhotoKey, u.PhotoType, micros(u.CreatedAt), micros(u.UpdatedAt))
	if isUnique(err) {
		return fmt.Errorf("create user: e-mail taken: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

func (s *SQLite) User(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return User{}, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

func (s *SQLite) UserByEmail(ctx context.Context, emailNorm string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_norm = ?`, emailNorm))
	if err != nil {
		// The address stays out of errors: errors reach logs.
		return User{}, fmt.Errorf("user by e-mail: %w", err)
	}
	return u, nil
}

func (s *SQLite) UpdateUser(ctx context.Context, u User) error {
	res, err := s.db.ExecContext(ctx, `UPDATE users SET email = ?, email_norm = ?, name = ?, phone = ?, company = ?,
		password_hash = ?, email_verified_at = ?, photo_key = ?, photo_type = ?, updated_at = ? WHERE id = ?`,
		u.Email, u.EmailNorm, u.Name, u.Phone, u.Company, u.PasswordHash, nullTime(u.EmailVerifiedAt),
		u.PhotoKey, u.PhotoType, micros(u.UpdatedAt), u.ID)
	if isUnique(err) {
		return fmt.Errorf("update user %s: e-mail taken: %w", u.ID, ErrConflict)
	}
	return oneRow(res, err, "update user "+u.ID)
}

func (s *SQLite) DeleteUser(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	return oneRow(res, err, "delete user "+id)
}

func (s *SQLite) CreateSession(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, se.TokenHash, se.UserID, micros(se.CreatedAt), micros(se.LastSeenAt),
		micros(se.ExpiresAt), se.IP, se.UserAgent)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func (s *SQLite) Session(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var (
		se                     Session
		created, seen, expires int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent
		FROM sessions WHERE token_hash = ? AND expires_at > ?`, tokenHash, micros(now)).
		Scan(&se.TokenHash, &se.UserID, &created, &seen, &expires, &se.IP, &se.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	se.CreatedAt, se.LastSeenAt, se.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return se, nil
}

func (s *SQLite) TouchSession(ctx context.Context, tokenHash string, lastSeen, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?`,
		micros(lastSeen), micros(expires), tokenHash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

func (s *SQLite) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *SQLite) DeleteUserSessions(ctx context.Context, userID, keep string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?`, userID, keep); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	return nil
}

func (s *SQLite) CreateUserToken(ctx context.Context, t UserToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO user_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, t.TokenHash, t.UserID, t.Purpose, t.Email, micros(t.CreatedAt), micros(t.ExpiresAt))
	if isForeignKey(err) {
		return fmt.Errorf("create %s token: user: %w", t.Purpose, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create %s token: %w", t.Purpose, err)
	}
	return nil
}

func (s *SQLite) ConsumeUserToken(ctx context.Context, tokenHash, purpose string, now time.Time) (UserToken, error) {
	var (
		t                UserToken
		created, expires int64
	)
	err := s.db.QueryRowContext(ctx, `UPDATE user_tokens SET used_at = ?
		WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		RETURNING token_hash, user_id, purpose, email, created_at, expires_at`,
		micros(now), tokenHash, purpose, micros(now)).
		Scan(&t.TokenHash, &t.UserID, &t.Purpose, &t.Email, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return UserToken{}, fmt.Errorf("consume %s token: %w", purpose, ErrNotFound)
	}
	if err != nil {
		return UserToken{}, fmt.Errorf("consume %s token: %w", purpose, err)
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMicros(created), fromMicros(expires), now.UTC()
	return t, nil
}

func (s *SQLite) DeleteUserTokens(ctx context.Context, userID, purpose string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM user_tokens WHERE user_id = ? AND purpose = ?`, userID, purpose); err != nil {
		return fmt.Errorf("delete %s tokens of %s: %w", purpose, userID, err)
	}
	return nil
}

func (s *SQLite) HitRateLimit(ctx context.Context, key string, windowStart, expires time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `INSERT INTO rate_limits (key, window_start, count, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
		RETURNING count`, key, micros(windowStart), micros(expires)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	return n, nil
}

func (s *SQLite) PurgeExpired(ctx context.Context, now time.Time) error {
	t := micros(now)
	for _, q := range []string{
		`DELETE FROM sessions WHERE expires_at <= ?`,
		`DELETE FROM rate_limits WHERE expires_at <= ?`,
		`DELETE FROM login_flows WHERE expires_at <= ?`,
		`DELETE FROM device_codes WHERE expires_at <= ?`,
	} {
		if _, err := s.db.ExecContext(ctx, q, t); err != nil {
			return fmt.Errorf("purge expired: %w", err)
		}
	}
	return nil
}

func (s *SQLite) RecordSignIn(ctx context.Context, si SignIn) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sign_ins (id, user_id, at, method, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)`,
		si.ID, si.UserID, micros(si.At), si.Method, si.IP, si.UserAgent)
	if isForeignKey(err) {
		return fmt.Errorf("record sign-in: user: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("record sign-in: %w", err)
	}
	return nil
}

func (s *SQLite) SignIns(ctx context.Context, userID string, limit int) ([]SignIn, error) {
	return queryAll(ctx, s.db, func(r scanner) (SignIn, error) {
		var (
			si SignIn
			at int64
		)
		err := r.Scan(&si.ID, &si.UserID, &at, &si.Method, &si.IP, &si.UserAgent)
		si.At = fromMicros(at)
		return si, err
	}, "sign-ins of "+userID, `SELECT id, user_id, at, method, ip, user_agent FROM sign_ins
		WHERE user_id = ? ORDER BY at DESC, id LIMIT ?`, userID, limit)
}

func (s *SQLite) CreateIdentity(ctx context.Context, id Identity) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO identities (provider, subject, user_id, email, created_at) VALUES (?, ?, ?, ?, ?)`,
		id.Provider, id.Subject, id.UserID, id.Email, micros(id.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("create identity: %w", ErrConflict)
	}
	if isForeignKey(err) {
		return fmt.Errorf("create identity: user: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create identity: %w", err)
	}
	return nil
}

func scanIdentity(r scanner) (Identity, error) {
	var (
		id      Identity
		created int64
	)
	err := r.Scan(&id.Provider, &id.Subject, &id.UserID, &id.Email, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, ErrNotFound
	}
	id.CreatedAt = fromMicros(created)
	return id, err
}

func (s *SQLite) Identity(ctx context.Context, provider, subject string) (Identity, error) {
	id, err := scanIdentity(s.db.QueryRowContext(ctx, `SELECT provider, subject, user_id, email, created_at
		FROM identities WHERE provider = ? AND subject = ?`, provider, subject))
	if err != nil {
		return Identity{}, fmt.Errorf("identity at %s: %w", provider, err)
	}
	return id, nil
}

func (s *SQLite) Identities(ctx context.Context, userID string) ([]Identity, error) {
	return queryAll(ctx, s.db, scanIdentity, "identities of "+userID, `SELECT provider, subject, user_id, email, created_at
		FROM identities WHERE user_id = ? ORDER BY provider, created_at`, userID)
}

func (s *SQLite) CreateLoginFlow(ctx context.Context, f LoginFlow) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO login_flows (state_hash, provider, browser_hash, verifier, nonce, next, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, f.StateHash, f.Provider, f.BrowserHash, f.Verifier, f.Nonce, f.Next,
		micros(f.CreatedAt), micros(f.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create login flow: %w", err)
	}
	return nil
}

func (s *SQLite) ConsumeLoginFlow(ctx context.Context, stateHash string, now time.Time) (LoginFlow, error) {
	var (
		f                LoginFlow
		created, expires int64
	)
	err := s.db.QueryRowContext(ctx, `DELETE FROM login_flows WHERE state_hash = ?
		RETURNING state_hash, provider, browser_hash, verifier, nonce, next, created_at, expires_at`, stateHash).
		Scan(&f.StateHash, &f.Provider, &f.BrowserHash, &f.Verifier, &f.Nonce, &f.Next, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return LoginFlow{}, fmt.Errorf("login flow: %w", ErrNotFound)
	}
	if err != nil {
		return LoginFlow{}, fmt.Errorf("login flow: %w", err)
	}
	f.CreatedAt, f.ExpiresAt = fromMicros(created), fromMicros(expires)
	if !f.ExpiresAt.After(now) {
		return LoginFlow{}, fmt.Errorf("login flow: expired: %w", ErrNotFound)
	}
	return f, nil
}

const deviceCodeColumns = `code_hash, user_code, client_name, status, COALESCE(user_id, ''), interval_secs,
	last_polled_at, created_at, expires_at`

func scanDeviceCode(r scanner) (DeviceCode, error) {
	var (
		d                DeviceCode
		interval         int64
		polled           sql.NullInt64
		created, expires int64
	)
	err := r.Scan(&d.CodeHash, &d.UserCode, &d.ClientName, &d.Status, &d.UserID, &interval, &polled, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return DeviceCode{}, ErrNotFound
	}
	if err != nil {
		return DeviceCode{}, err
	}
	d.Interval = time.Duration(interval) * time.Second
	d.LastPolledAt = fromNull(polled)
	d.CreatedAt, d.ExpiresAt = fromMicros(created), fromMicros(expires)
	return d, nil
}

func (s *SQLite) CreateDeviceCode(ctx context.Context, d DeviceCode) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO device_codes (code_hash, user_code, client_name, status, interval_secs, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, d.CodeHash, d.UserCode, d.ClientName, DeviceCodePending,
		int64(d.Interval/time.Second), micros(d.CreatedAt), micros(d.ExpiresAt))
	if isUnique(err) {
		return fmt.Errorf("create device code: %w", ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create device code: %w", err)
	}
	return nil
}

func (s *SQLite) DeviceCodeByUserCode(ctx context.Context, userCode string, now time.Time) (DeviceCode, error) {
	d, err := scanDeviceCode(s.db.QueryRowContext(ctx, `SELECT `+deviceCodeColumns+` FROM device_codes
		WHERE user_code = ? AND expires_at > ?`, userCode, micros(now)))
	if err != nil {
		return DeviceCode{}, fmt.Errorf("device code by user code: %w", err)
	}
	return d, nil
}

func (s *SQLite) DeviceCode(ctx context.Context, codeHash string) (DeviceCode, error) {
	d, err := scanDeviceCode(s.db.QueryRowContext(ctx, `SELECT `+deviceCodeColumns+` FROM device_codes WHERE code_hash = ?`, codeHash))
	if err != nil {
		return DeviceCode{}, fmt.Errorf("device code: %w", err)
	}
	return d, nil
}

func (s *SQLite) DecideDeviceCode(ctx context.Context, userCode, userID string, approve bool, now time.Time) error {
	status := DeviceCodeDenied
	if approve {
		status = DeviceCodeApproved
	}
	res, err := s.db.ExecContext(ctx, `UPDATE device_codes SET status = ?, user_id = ?
		WHERE user_code = ? AND status = ? AND expires_at > ?`, status, userID, userCode, DeviceCodePending, micros(now))
	return oneRow(res, err, "decide device code")
}

func (s *SQLite) PollDeviceCode(ctx context.Context, codeHash string, polled time.Time, interval time.Duration) error {
	_, err := s.db.ExecContext(ctx, `UPDATE device_codes SET last_polled_at = ?, interval_secs = ? WHERE code_hash = ?`,
		micros(polled), int64(interval/time.Second), codeHash)
	if err != nil {
		return fmt.Errorf("poll device code: %w", err)
	}
	return nil
}

func (s *SQLite) RedeemDeviceCode(ctx context.Context, codeHash string, dev Device) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("redeem device code: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE device_codes SET status = ? WHERE code_hash = ? AND status = ? AND user_id = ?`,
		DeviceCodeRedeemed, codeHash, DeviceCodeApproved, dev.UserID)
	if err := oneRow(res, err, "redeem device code"); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO devices (id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		dev.ID, dev.UserID, dev.Name, dev.TokenHash, micros(dev.CreatedAt))
	if err != nil {
		return fmt.Errorf("redeem device code: insert device: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("redeem device code: %w", err)
	}
	return nil
}

func scanDevice(r scanner) (Device, error) {
	var (
		d       Device
		created int64
		used    sql.NullInt64
	)
	err := r.Scan(&d.ID, &d.UserID, &d.Name, &d.TokenHash, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, ErrNotFound
	}
	d.CreatedAt, d.LastUsedAt = fromMicros(created), fromNull(used)
	return d, err
}

const deviceColumns = `id, user_id, name, token_hash, created_at, last_used_at`

func (s *SQLite) DeviceByToken(ctx context.Context, tokenHash string) (Device, error) {
	d, err := scanDevice(s.db.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return Device{}, fmt.Errorf("device by token: %w", err)
	}
	return d, nil
}

func (s *SQLite) Devices(ctx context.Context, userID string) ([]Device, error) {
	return queryAll(ctx, s.db, scanDevice, "devices of "+userID,
		`SELECT `+deviceColumns+` FROM devices WHERE user_id = ? ORDER BY created_at DESC, id`, userID)
}

func (s *SQLite) TouchDevice(ctx context.Context, id string, used time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE devices SET last_used_at = ? WHERE id = ?`, micros(used), id); err != nil {
		return fmt.Errorf("touch device %s: %w", id, err)
	}
	return nil
}

func (s *SQLite) DeleteDevice(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM devices WHERE id = ? AND user_id = ?`, id, userID)
	return oneRow(res, err, "delete device "+id)
}

func (s *SQLite) CreateWorkspace(ctx context.Context, w Workspace, ownerID string) error {
	cta, err := encodeCTA(w.CTAButtons)
	if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO workspaces (id, name, logo_key, logo_type, cta_buttons, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		w.ID, w.Name, w.LogoKey, w.LogoType, cta, micros(w.CreatedAt))
	if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`,
		w.ID, ownerID, RoleOwner, micros(w.CreatedAt))
	if isForeignKey(err) {
		return fmt.Errorf("create workspace: owner: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create workspace: owner: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	return nil
}

func (s *SQLite) Workspace(ctx context.Context, id string) (Workspace, error) {
	var (
		w       Workspace
		cta     string
		created int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, name, logo_key, logo_type, cta_buttons, created_at FROM workspaces WHERE id = ?`, id).
		Scan(&w.ID, &w.Name, &w.LogoKey, &w.LogoType, &cta, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Workspace{}, fmt.Errorf("workspace %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("workspace %s: %w", id, err)
	}
	if err := json.Unmarshal([]byte(cta), &w.CTAButtons); err != nil {
		return Workspace{}, fmt.Errorf("workspace %s: decode buttons: %w", id, err)
	}
	if len(w.CTAButtons) == 0 {
		w.CTAButtons = nil
	}
	w.CreatedAt = fromMicros(created)
	return w, nil
}

func (s *SQLite) UpdateWorkspace(ctx context.Context, w Workspace) error {
	cta, err := encodeCTA(w.CTAButtons)
	if err != nil {
		return fmt.Errorf("update workspace %s: %w", w.ID, err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE workspaces SET name = ?, logo_key = ?, logo_type = ?, cta_buttons = ? WHERE id = ?`,
		w.Name, w.LogoKey, w.LogoType, cta, w.ID)
	return oneRow(res, err, "update workspace "+w.ID)
}

func (s *SQLite) DeleteWorkspace(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM workspaces WHERE id = ?`, id)
	return oneRow(res, err, "delete workspace "+id)
}

func encodeCTA(b []CTAButton) (string, error) {
	if b == nil {
		b = []CTAButton{}
	}
	out, err := json.Marshal(b)
	return string(out), err
}

const memberSelect = `SELECT m.workspace_id, w.name, m.user_id, u.name, u.email, m.role, m.created_at
	FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id JOIN users u ON u.id = m.user_id`

func scanMember(r scanner) (Member, error) {
	var (
		m       Member
		created int64
	)
	err := r.Scan(&m.WorkspaceID, &m.WorkspaceName, &m.UserID, &m.UserName, &m.UserEmail, &m.Role, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, ErrNotFound
	}
	m.CreatedAt = fromMicros(created)
	return m, err
}

// roleOrder sorts owners first, then admins, then members.
const roleOrder = `CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END`

func (s *SQLite) Memberships(ctx context.Context, userID string) ([]Member, error) {
	return queryAll(ctx, s.db, scanMember, "memberships of "+userID,
		memberSelect+` WHERE m.user_id = ? ORDER BY w.name, w.id`, userID)
}

func (s *SQLite) Member(ctx context.Context, workspaceID, userID string) (Member, error) {
	m, err := scanMember(s.db.QueryRowContext(ctx, memberSelect+` WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID))
	if err != nil {
		return Member{}, fmt.Errorf("member %s of %s: %w", userID, workspaceID, err)
	}
	return m, nil
}

func (s *SQLite) Members(ctx context.Context, workspaceID string) ([]Member, error) {
	return queryAll(ctx, s.db, scanMember, "members of "+workspaceID,
		memberSelect+` WHERE m.workspace_id = ? ORDER BY `+roleOrder+`, u.name, u.id`, workspaceID)
}

func (s *SQLite) SetMemberRole(ctx context.Context, workspaceID, userID, role string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE workspace_members SET role = ? WHERE workspace_id = ? AND user_id = ?`,
		role, workspaceID, userID)
	return oneRow(res, err, "set role of "+userID+" in "+workspaceID)
}

func (s *SQLite) RemoveMember(ctx context.Context, workspaceID, userID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM workspace_members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID)
	if err := oneRow(res, err, "remove "+userID+" from "+workspaceID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE videos SET workspace_id = NULL WHERE workspace_id = ? AND owner_id = ?`,
		workspaceID, userID); err != nil {
		return fmt.Errorf("remove member: return videos: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	return nil
}

const invitationColumns = `id, workspace_id, email, email_norm, role, token_hash, COALESCE(invited_by, ''),
	created_at, expires_at, accepted_at, COALESCE(accepted_by, '')`

func scanInvitation(r scanner) (Invitation, error) {
	var (
		inv              Invitation
		created, expires int64
		accepted         sql.NullInt64
	)
	err := r.Scan(&inv.ID, &inv.WorkspaceID, &inv.Email, &inv.EmailNorm, &inv.Role, &inv.TokenHash, &inv.InvitedBy,
		&created, &expires, &accepted, &inv.AcceptedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, ErrNotFound
	}
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = fromMicros(created), fromMicros(expires), fromNull(accepted)
	return inv, err
}

func (s *SQLite) CreateInvitation(ctx context.Context, inv Invitation) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO invitations (id, workspace_id, email, email_norm, role, token_hash, invited_by,
		created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, inv.ID, inv.WorkspaceID, inv.Email, inv.EmailNorm,
		inv.Role, inv.TokenHash, nullable(inv.InvitedBy), micros(inv.CreatedAt), micros(inv.ExpiresAt))
	if isForeignKey(err) {
		return fmt.Errorf("create invitation: workspace or inviter: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create invitation: %w", err)
	}
	return nil
}

func (s *SQLite) Invitations(ctx context.Context, workspaceID string) ([]Invitation, error) {
	return queryAll(ctx, s.db, scanInvitation, "invitations of "+workspaceID, `SELECT `+invitationColumns+`
		FROM invitations WHERE workspace_id = ? AND accepted_at IS NULL ORDER BY created_at DESC, id`, workspaceID)
}

func (s *SQLite) InvitationByToken(ctx context.Context, tokenHash string) (Invitation, error) {
	inv, err := scanInvitation(s.db.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return Invitation{}, fmt.Errorf("invitation: %w", err)
	}
	return inv, nil
}

func (s *SQLite) AcceptInvitation(ctx context.Context, tokenHash, userID string, now time.Time) (Invitation, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Invitation{}, fmt.Errorf("accept invitation: %w", err)
	}
	defer tx.Rollback()
	inv, err := scanInvitation(tx.QueryRowContext(ctx, `UPDATE invitations SET accepted_at = ?, accepted_by = ?
		WHERE token_hash = ? AND accepted_at IS NULL AND expires_at > ? RETURNING `+invitationColumns,
		micros(now), userID, tokenHash, micros(now)))
	if err != nil {
		return Invitation{}, fmt.Errorf("accept invitation: %w", err)
	}
	// An existing membership keeps its role unless the invitation's is
	// higher (member → admin); an owner stays owner.
	_, err = tx.ExecContext(ctx, `INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = CASE
			WHEN workspace_members.role = 'member' THEN excluded.role ELSE workspace_members.role END`,
		inv.WorkspaceID, userID, inv.Role, micros(now))
	if isForeignKey(err) {
		return Invitation{}, fmt.Errorf("accept invitation: user: %w", ErrNotFound)
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("accept invitation: add member: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Invitation{}, fmt.Errorf("accept invitation: %w", err)
	}
	return inv, nil
}

func (s *SQLite) DeleteInvitation(ctx context.Context, workspaceID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM invitations WHERE id = ? AND workspace_id = ? AND accepted_at IS NULL`, id, workspaceID)
	return oneRow(res, err, "delete invitation "+id)
}

func (s *SQLite) LibraryVideos(ctx context.Context, ownerID, workspaceID string) ([]Video, error) {
	if workspaceID == "" {
		return queryAll(ctx, s.db, scanVideo, "personal library of "+ownerID, `SELECT `+videoColumns+`
			FROM videos WHERE owner_id = ? AND workspace_id IS NULL ORDER BY created_at DESC, id`, ownerID)
	}
	return queryAll(ctx, s.db, scanVideo, "library of workspace "+workspaceID, `SELECT `+videoColumns+`
		FROM videos WHERE workspace_id = ? ORDER BY created_at DESC, id`, workspaceID)
}

func (s *SQLite) VideosOwnedBy(ctx context.Context, ownerID string) ([]Video, error) {
	return queryAll(ctx, s.db, scanVideo, "videos of "+ownerID, `SELECT `+videoColumns+`
		FROM videos WHERE owner_id = ? ORDER BY created_at DESC, id`, ownerID)
}

func (s *SQLite) MoveVideo(ctx context.Context, id, workspaceID string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE videos SET workspace_id = ? WHERE id = ?`, nullable(workspaceID), id)
	if isForeignKey(err) {
		return fmt.Errorf("move video %s: workspace: %w", id, ErrNotFound)
	}
	return oneRow(res, err, "move video "+id)
}

func (s *SQLite) DeleteVideo(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM videos WHERE id = ?`, id)
	return oneRow(res, err, "delete video "+id)
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, db *sql.DB, scan func(scanner) (T, error), what, query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// oneRow turns an Exec result into nil, ErrNotFound (no row matched) or
// the error.
func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
}
