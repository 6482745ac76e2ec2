package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

func validLevel(l string) bool { return l == TrackFull || l == TrackAnonymous || l == TrackOff }

func (s *SQLite) TrackSettings(ctx context.Context, videoID string) (TrackSettings, error) {
	var (
		ts     TrackSettings
		vl, al sql.NullString
		first  sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `SELECT tv.level, tu.level, tv.first_view_at, CASE WHEN ps.restricted_at IS NULL THEN 0 ELSE 1 END
		FROM videos v
		LEFT JOIN track_video_settings tv ON tv.video_id = v.id
		LEFT JOIN track_user_settings tu ON tu.user_id = v.owner_id
		LEFT JOIN privacy_settings ps ON ps.user_id = v.owner_id
		WHERE v.id = ?`, videoID).Scan(&vl, &al, &first, &ts.Restricted)
	if errors.Is(err, sql.ErrNoRows) {
		return TrackSettings{}, fmt.Errorf("tracking settings of %s: %w", videoID, ErrNotFound)
	}
	if err != nil {
		return TrackSettings{}, fmt.Errorf("tracking settings of %s: %w", videoID, err)
	}
	ts.VideoLevel, ts.AccountLevel, ts.FirstViewAt = vl.String, al.String, fromNull(first)
	return ts, nil
}

func (s *SQLite) SetVideoTracking(ctx context.Context, videoID, level string) error {
	if level != "" && !validLevel(level) {
		return fmt.Errorf("set tracking of %s: level %q: %w", videoID, level, ErrConflict)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set tracking of %s: %w", videoID, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO track_video_settings (video_id, level) VALUES (?, ?)
		ON CONFLICT (video_id) DO UPDATE SET level = excluded.level`, videoID, nullable(level))
	if isForeignKey(err) {
		return fmt.Errorf("set tracking of %s: video: %w", videoID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("set tracking of %s: %w", videoID, err)
	}
	var effective string
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(tv.level, tu.level, ?) FROM videos v
		LEFT JOIN track_video_settings tv ON tv.video_id = v.id
		LEFT JOIN track_user_settings tu ON tu.user_id = v.owner_id
		WHERE v.id = ?`, TrackDefault, videoID).Scan(&effective)
	if err != nil {
		return fmt.Errorf("set tracking of %s: %w", videoID, err)
	}
	if err := pruneTracking(ctx, tx, videoID, effective); err != nil {
		return fmt.Errorf("set tracking of %s: %w", videoID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set tracking of %s: %w", videoID, err)
	}
	return nil
}

// pruneTracking deletes what a video's viewers left that level would not
// have stored.
func pruneTracking(ctx context.Context, tx *sql.Tx, videoID, level string) error {
	var tables []string
	switch level {
	case TrackFull:
		return nil
	case TrackAnonymous:
		tables = []string{"track_view_clicks", "track_views", "track_recipients"}
	default: // off, or anything unknown: keep nothing
		tables = []string{"track_view_clicks", "track_views", "track_recipients", "track_cta", "track_countries", "track_histogram",
			"track_retention", "track_daily", "track_seen"}
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE video_id = ?`, videoID); err != nil {
			return fmt.Errorf("delete from %s: %w", t, err)
		}
	}
	return nil
}

func (s *SQLite) AccountTracking(ctx context.Context, userID string) (string, bool, error) {
	var (
		level  string
		notify bool
	)
	err := s.db.QueryRowContext(ctx, `SELECT level, notify_first_view FROM track_user_settings WHERE user_id = ?`, userID).Scan(&level, &notify)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("tracking default of %s: %w", userID, err)
	}
	return level, notify, nil
}

func (s *SQLite) SetAccountTracking(ctx context.Context, userID, level string, notify bool) error {
	if !validLevel(level) {
		return fmt.Errorf("set tracking default of %s: level %q: %w", userID, level, ErrConflict)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set tracking default of %s: %w", userID, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO track_user_settings (user_id, level, notify_first_view) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET level = excluded.level, notify_first_view = excluded.notify_first_view`, userID, level, notify)
	if isForeignKey(err) {
		return fmt.Errorf("set tracking default of %s: user: %w", userID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("set tracking default of %s: %w", userID, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT v.id FROM videos v LEFT JOIN track_video_settings tv ON tv.video_id = v.id
		WHERE v.owner_id = ? AND tv.level IS NULL`, userID)
	if err != nil {
		return fmt.Errorf("set tracking default of %s: %w", userID, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("set tracking default of %s: %w", userID, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("set tracking default of %s: %w", userID, err)
	}
	for _, id := range ids {
		if err := pruneTracking(ctx, tx, id, level); err != nil {
			return fmt.Errorf("set tracking default of %s: %w", userID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set tracking default of %s: %w", userID, err)
	}
	return nil
}

func (s *SQLite) DailySalt(ctx context.Context, day int64, fresh []byte) ([]byte, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("daily salt: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO track_salts (day, salt, created_at) VALUES (?, ?, ?)
		ON CONFLICT (day) DO NOTHING`, day, fresh, micros(time.Now())); err != nil {
		return nil, fmt.Errorf("daily salt: %w", err)
	}
	// Yesterday's salt and the hashes made with it go: nothing can link
	// a viewer across days afterwards.
	for _, q := range []string{`DELETE FROM track_salts WHERE day < ?`, `DELETE FROM track_seen WHERE day < ?`} {
		if _, err := tx.ExecContext(ctx, q, day); err != nil {
			return nil, fmt.Errorf("daily salt: %w", err)
		}
	}
	var salt []byte
	if err := tx.QueryRowContext(ctx, `SELECT salt FROM track_salts WHERE day = ?`, day).Scan(&salt); err != nil {
		return nil, fmt.Errorf("daily salt: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("daily salt: %w", err)
	}
	return salt, nil
}

type (
	dayKey struct {
		video string
		day   int64
	}
	countKey struct {
		video string
		key   any
	}
	viewKey struct{ video, view string }
)

type viewAcc struct {
	day                             int64
	started, updated                time.Time
	country, city, device, referrer string
	watched, furthest               int
	finished                        bool
	clicks                          []int
	recipient                       string
	clickAt                         []time.Time
}

func (s *SQLite) RecordTrackEvents(ctx context.Context, events []TrackEvent) ([]string, error) {
	if len(events) == 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("record track events: %w", err)
	}
	defer tx.Rollback()
	fail := func(err error) ([]string, error) { return nil, fmt.Errorf("record track events: %w", err) }

	// The level in force is read inside the transaction, so a level just
	// lowered (which deleted rows in its own transaction) is obeyed.
	levels := map[string]string{}
	levelOf := func(id string) (string, error) {
		if l, ok := levels[id]; ok {
			return l, nil
		}
		var l string
		// An owner who restricted processing has their data kept but not
		// used: their videos' viewers are not tracked (as at Off), and
		// what was kept stays.
		err := tx.QueryRowContext(ctx, `SELECT CASE WHEN ps.restricted_at IS NOT NULL THEN ? ELSE COALESCE(tv.level, tu.level, ?) END
			FROM videos v
			LEFT JOIN track_video_settings tv ON tv.video_id = v.id
			LEFT JOIN track_user_settings tu ON tu.user_id = v.owner_id
			LEFT JOIN privacy_settings ps ON ps.user_id = v.owner_id
			WHERE v.id = ?`, TrackOff, TrackDefault, id).Scan(&l)
		if errors.Is(err, sql.ErrNoRows) {
			l, err = "", nil // deleted since: drop its events
		}
		if err != nil {
			return "", err
		}
		levels[id] = l
		return l, nil
	}
	seen, err := tx.PrepareContext(ctx, `INSERT INTO track_seen (video_id, day, viewer) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return fail(err)
	}
	defer seen.Close()

	daily := map[dayKey]*TrackDay{}
	var dayOrder []dayKey
	retention, histogram, countries, ctas := map[countKey]int{}, map[countKey]int{}, map[countKey]int{}, map[countKey]int{}
	views := map[viewKey]*viewAcc{}
	var viewOrder []viewKey
	started := map[string]time.Time{}
	var startedOrder []string

	for _, e := range events {
		level, err := levelOf(e.VideoID)
		if err != nil {
			return fail(err)
		}
		if level != TrackFull && level != TrackAnonymous {
			continue
		}
		full := level == TrackFull && !e.Capped
		dk := dayKey{e.VideoID, e.Day()}
		d := daily[dk]
		if d == nil {
			d = &TrackDay{Day: dk.day}
			daily[dk] = d
			dayOrder = append(dayOrder, dk)
		}
		var v *viewAcc
		if full && e.ViewID != "" {
			vk := viewKey{e.VideoID, e.ViewID}
			if v = views[vk]; v == nil {
				v = &viewAcc{day: dk.day, started: e.At, furthest: -1}
				views[vk] = v
				viewOrder = append(viewOrder, vk)
			}
			v.updated = e.At
		}
		switch e.Kind {
		case EventStart:
			d.Views++
			if e.Viewer != "" {
				res, err := seen.ExecContext(ctx, e.VideoID, dk.day, e.Viewer)
				if err != nil {
					return fail(err)
				}
				if n, _ := res.RowsAffected(); n == 1 {
					d.Viewers++
				}
			}
			countries[countKey{e.VideoID, e.Country}]++
			if _, ok := started[e.VideoID]; !ok {
				started[e.VideoID] = e.At
				startedOrder = append(startedOrder, e.VideoID)
			}
			if v != nil {
				v.started = e.At
				v.country, v.city, v.device, v.referrer = e.Country, e.City, e.Device, e.Referrer
				v.recipient = e.Recipient
			}
		case EventProgress:
			for _, sec := range e.Seconds {
				retention[countKey{e.VideoID, sec}]++
				if v != nil && sec > v.furthest {
					v.furthest = sec
				}
			}
			d.WatchedSeconds += len(e.Seconds)
			if e.PrevBucket != e.Bucket {
				if e.PrevBucket >= 0 {
					histogram[countKey{e.VideoID, e.PrevBucket}]--
				}
				if e.Bucket >= 0 {
					histogram[countKey{e.VideoID, e.Bucket}]++
				}
			}
			if v != nil && e.Watched > v.watched {
				v.watched = e.Watched
			}
		case EventFinish:
			d.Finishes++
			if v != nil {
				v.finished = true
			}
		case EventCTA:
			d.CTAClicks++
			ctas[countKey{e.VideoID, e.Button}]++
			if v != nil && !slices.Contains(v.clicks, e.Button) {
				v.clicks = append(v.clicks, e.Button)
				v.clickAt = append(v.clickAt, e.At)
			}
		}
	}

	for _, k := range dayOrder {
		d := daily[k]
		if _, err := tx.ExecContext(ctx, `INSERT INTO track_daily (video_id, day, views, viewers, finishes, watched_seconds, cta_clicks)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (video_id, day) DO UPDATE SET
			views = track_daily.views + excluded.views, viewers = track_daily.viewers + excluded.viewers,
			finishes = track_daily.finishes + excluded.finishes, watched_seconds = track_daily.watched_seconds + excluded.watched_seconds,
			cta_clicks = track_daily.cta_clicks + excluded.cta_clicks`,
			k.video, k.day, d.Views, d.Viewers, d.Finishes, d.WatchedSeconds, d.CTAClicks); err != nil {
			return fail(err)
		}
	}
	for _, c := range []struct {
		table, key, count string
		m                 map[countKey]int
	}{
		{"track_retention", "second", "views", retention},
		{"track_histogram", "bucket", "views", histogram},
		{"track_countries", "country", "views", countries},
		{"track_cta", "button", "clicks", ctas},
	} {
		if len(c.m) == 0 {
			continue
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO `+c.table+` (video_id, `+c.key+`, `+c.count+`) VALUES (?, ?, ?)
			ON CONFLICT (video_id, `+c.key+`) DO UPDATE SET `+c.count+` = CASE WHEN `+c.table+`.`+c.count+` + excluded.`+c.count+` < 0
			THEN 0 ELSE `+c.table+`.`+c.count+` + excluded.`+c.count+` END`)
		if err != nil {
			return fail(err)
		}
		for _, k := range sortedKeys(c.m) {
			n := c.m[k]
			if n == 0 {
				continue
			}
			if _, err := st.ExecContext(ctx, k.video, k.key, n); err != nil {
				st.Close()
				return fail(err)
			}
		}
		st.Close()
	}
	for _, k := range viewOrder {
		v := views[k]
		if _, err := tx.ExecContext(ctx, `INSERT INTO track_views (video_id, view_id, day, started_at, updated_at, country, city, device,
			referrer, watched_seconds, furthest, finished, recipient_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (video_id, view_id) DO UPDATE SET updated_at = excluded.updated_at,
			country = CASE WHEN excluded.country <> '' THEN excluded.country ELSE track_views.country END,
			city = CASE WHEN excluded.city <> '' THEN excluded.city ELSE track_views.city END,
			device = CASE WHEN excluded.device <> '' THEN excluded.device ELSE track_views.device END,
			referrer = CASE WHEN excluded.referrer <> '' THEN excluded.referrer ELSE track_views.referrer END,
			watched_seconds = CASE WHEN excluded.watched_seconds > track_views.watched_seconds THEN excluded.watched_seconds ELSE track_views.watched_seconds END,
			furthest = CASE WHEN excluded.furthest > track_views.furthest THEN excluded.furthest ELSE track_views.furthest END,
			finished = CASE WHEN excluded.finished = 1 THEN 1 ELSE track_views.finished END,
			recipient_id = CASE WHEN excluded.recipient_id <> '' THEN excluded.recipient_id ELSE track_views.recipient_id END`,
			k.video, k.view, v.day, micros(v.started), micros(v.updated), v.country, v.city, v.device, v.referrer,
			v.watched, v.furthest, boolInt(v.finished), v.recipient); err != nil {
			return fail(err)
		}
		for i, b := range v.clicks {
			if _, err := tx.ExecContext(ctx, `INSERT INTO track_view_clicks (video_id, view_id, button, at) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, k.video, k.view, b, micros(v.clickAt[i])); err != nil {
				return fail(err)
			}
		}
	}
	var firsts []string
	for _, id := range startedOrder {
		res, err := tx.ExecContext(ctx, `INSERT INTO track_video_settings (video_id, first_view_at) VALUES (?, ?)
			ON CONFLICT (video_id) DO UPDATE SET first_view_at = excluded.first_view_at
			WHERE track_video_settings.first_view_at IS NULL`, id, micros(started[id]))
		if err != nil {
			return fail(err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			firsts = append(firsts, id)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return firsts, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sortedKeys orders a batch's keys, so concurrent batches on PostgreSQL
// take row locks in the same order.
func sortedKeys(m map[countKey]int) []countKey {
	keys := make([]countKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].video != keys[j].video {
			return keys[i].video < keys[j].video
		}
		return fmt.Sprint(keys[i].key) < fmt.Sprint(keys[j].key)
	})
	return keys
}

func (s *SQLite) TrackReport(ctx context.Context, videoID string, viewLimit int) (TrackReport, error) {
	var r TrackReport
	fail := func(err error) (TrackReport, error) {
		return TrackReport{}, fmt.Errorf("track report of %s: %w", videoID, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT day, views, viewers, finishes, watched_seconds, cta_clicks
		FROM track_daily WHERE video_id = ? ORDER BY day`, videoID)
	if err != nil {
		return fail(err)
	}
	for rows.Next() {
		var d TrackDay
		if err := rows.Scan(&d.Day, &d.Views, &d.Viewers, &d.Finishes, &d.WatchedSeconds, &d.CTAClicks); err != nil {
			rows.Close()
			return fail(err)
		}
		r.Days = append(r.Days, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	for _, q := range []struct {
		sql     string
		numeric bool
		out     *[]TrackCount
	}{
		{`SELECT second, views FROM track_retention WHERE video_id = ? ORDER BY second`, true, &r.Retention},
		{`SELECT bucket, views FROM track_histogram WHERE video_id = ? ORDER BY bucket`, true, &r.Histogram},
		{`SELECT country, views FROM track_countries WHERE video_id = ? ORDER BY views DESC, country`, false, &r.Countries},
		{`SELECT button, clicks FROM track_cta WHERE video_id = ? ORDER BY button`, true, &r.Buttons},
	} {
		rows, err := s.db.QueryContext(ctx, q.sql, videoID)
		if err != nil {
			return fail(err)
		}
		for rows.Next() {
			var c TrackCount
			var err error
			if q.numeric {
				err = rows.Scan(&c.Index, &c.N)
			} else {
				err = rows.Scan(&c.Key, &c.N)
			}
			if err != nil {
				rows.Close()
				return fail(err)
			}
			*q.out = append(*q.out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fail(err)
		}
	}
	if viewLimit <= 0 {
		return r, nil
	}
	rows, err = s.db.QueryContext(ctx, `SELECT view_id, started_at, updated_at, country, city, device, referrer,
		watched_seconds, furthest, finished FROM track_views WHERE video_id = ? ORDER BY started_at DESC, view_id LIMIT ?`, videoID, viewLimit)
	if err != nil {
		return fail(err)
	}
	idx := map[string]int{}
	for rows.Next() {
		var (
			v                TrackView
			started, updated int64
		)
		if err := rows.Scan(&v.ViewID, &started, &updated, &v.Country, &v.City, &v.Device, &v.Referrer,
			&v.WatchedSeconds, &v.Furthest, &v.Finished); err != nil {
			rows.Close()
			return fail(err)
		}
		v.StartedAt, v.UpdatedAt = fromMicros(started), fromMicros(updated)
		idx[v.ViewID] = len(r.Views)
		r.Views = append(r.Views, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if len(r.Views) == 0 {
		return r, nil
	}
	rows, err = s.db.QueryContext(ctx, `SELECT view_id, button FROM track_view_clicks WHERE video_id = ? ORDER BY at, button`, videoID)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id string
			b  int
		)
		if err := rows.Scan(&id, &b); err != nil {
			return fail(err)
		}
		if i, ok := idx[id]; ok {
			r.Views[i].Clicks = append(r.Views[i].Clicks, b)
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	return r, nil
}

func (s *SQLite) LibraryTrackDays(ctx context.Context, userID, workspaceID string, from int64) ([]TrackDay, error) {
	q := `SELECT d.day, CAST(SUM(d.views) AS BIGINT), CAST(SUM(d.viewers) AS BIGINT), CAST(SUM(d.finishes) AS BIGINT),
		CAST(SUM(d.watched_seconds) AS BIGINT), CAST(SUM(d.cta_clicks) AS BIGINT)
		FROM track_daily d JOIN videos v ON v.id = d.video_id WHERE `
	args := []any{}
	if workspaceID == "" {
		q += `v.owner_id = ? AND v.workspace_id IS NULL`
		args = append(args, userID)
	} else {
		q += `v.workspace_id = ?`
		args = append(args, workspaceID)
	}
	q += ` AND d.day >= ? GROUP BY d.day ORDER BY d.day`
	args = append(args, from)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("library track days: %w", err)
	}
	defer rows.Close()
	var out []TrackDay
	for rows.Next() {
		var d TrackDay
		if err := rows.Scan(&d.Day, &d.Views, &d.Viewers, &d.Finishes, &d.WatchedSeconds, &d.CTAClicks); err != nil {
			return nil, fmt.Errorf("library track days: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("library track days: %w", err)
	}
	return out, nil
}
