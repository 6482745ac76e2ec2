package storetest

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// The contract of store.Tracking.

// sqlDB: the tests count rows through the engines' shared DB().
type sqlDB = sql.DB

var trackingTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"TrackEventsByLevel", testTrackEventsByLevel},
	{"TrackLoweringDeletes", testTrackLoweringDeletes},
	{"TrackAccountDefault", testTrackAccountDefault},
	{"TrackDailySalt", testTrackDailySalt},
	{"TrackDeleteCascades", testTrackDeleteCascades},
	{"TrackRestrictedOwner", testTrackRestrictedOwner},
}

// ownedVideo is video n owned by a new user n.
func ownedVideo(t *testing.T, s store.Store, n int) (store.User, store.Video) {
	t.Helper()
	u := mustUser(t, s, n)
	v := video(n)
	v.OwnerID = u.ID
	got, _, err := s.CreateVideo(context.Background(), v)
	if err != nil {
		t.Fatal(err)
	}
	return u, got
}

// playEvents is one view that starts, watches seconds 0-3 in two
// beacons, finishes and clicks button 1.
func playEvents(videoID, view, viewer string, capped bool, at time.Time) []store.TrackEvent {
	e := func(kind string) store.TrackEvent {
		return store.TrackEvent{VideoID: videoID, ViewID: view, Kind: kind, At: at, Capped: capped}
	}
	start := e(store.EventStart)
	start.Viewer, start.Country, start.City, start.Device, start.Referrer = viewer, "GB", "London", "desktop", "news.example"
	p1 := e(store.EventProgress)
	p1.Seconds, p1.Watched, p1.PrevBucket, p1.Bucket = []int{0, 1}, 2, -1, 5
	p2 := e(store.EventProgress)
	p2.Seconds, p2.Watched, p2.PrevBucket, p2.Bucket = []int{2, 3}, 4, 5, 9
	cta := e(store.EventCTA)
	cta.Button = 1
	return []store.TrackEvent{start, p1, p2, e(store.EventFinish), cta}
}

func report(t *testing.T, s store.Store, id string) store.TrackReport {
	t.Helper()
	r, err := s.TrackReport(context.Background(), id, 100)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testTrackEventsByLevel(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, v := ownedVideo(t, s, 1)
	if ts, err := s.TrackSettings(ctx, v.ID); err != nil || ts.Effective() != store.TrackDefault || ts.VideoLevel != "" {
		t.Fatalf("settings of a new video = %+v, %v", ts, err)
	}
	if err := s.SetVideoTracking(ctx, v.ID, store.TrackFull); err != nil {
		t.Fatal(err)
	}
	events := playEvents(v.ID, "view1", "hashA", false, now)
	events = append(events, playEvents(v.ID, "view2", "hashA", true, now.Add(time.Minute))...) // same viewer, DNT
	events = append(events, playEvents("ghost", "view3", "hashB", false, now)...)              // unknown video: dropped
	firsts, err := s.RecordTrackEvents(ctx, events)
	if err != nil || !slices.Equal(firsts, []string{v.ID}) {
		t.Fatalf("RecordTrackEvents = %v, %v; want the first view of %s", firsts, err, v.ID)
	}
	r := report(t, s, v.ID)
	want := store.TrackDay{Day: store.DayOf(now), Views: 2, Viewers: 1, Finishes: 2, WatchedSeconds: 8, CTAClicks: 2}
	if len(r.Days) != 1 || r.Days[0] != want {
		t.Fatalf("days = %+v, want %+v", r.Days, want)
	}
	if len(r.Retention) != 4 || r.Retention[3] != (store.TrackCount{Index: 3, N: 2}) {
		t.Fatalf("retention = %+v", r.Retention)
	}
	if len(r.Histogram) != 1 || r.Histogram[0] != (store.TrackCount{Index: 9, N: 2}) {
		t.Fatalf("histogram = %+v (the views moved from tenth 5 to 9)", r.Histogram)
	}
	if len(r.Countries) != 1 || r.Countries[0] != (store.TrackCount{Key: "GB", N: 2}) || len(r.Buttons) != 1 || r.Buttons[0].N != 2 {
		t.Fatalf("countries %+v, buttons %+v", r.Countries, r.Buttons)
	}
	// The DNT view is anonymous: only the first has a row.
	if len(r.Views) != 1 {
		t.Fatalf("views = %+v, want only the uncapped one", r.Views)
	}
	got := r.Views[0]
	if got.ViewID != "view1" || got.City != "London" || got.Device != "desktop" || got.Referrer != "news.example" ||
		got.WatchedSeconds != 4 || got.Furthest != 3 || !got.Finished || !slices.Equal(got.Clicks, []int{1}) || !got.StartedAt.Equal(now) {
		t.Fatalf("view = %+v", got)
	}
	// A second batch: no first view again; the same viewer the same day
	// is not unique again.
	firsts, err = s.RecordTrackEvents(ctx, playEvents(v.ID, "view4", "hashA", false, now.Add(time.Hour)))
	if err != nil || len(firsts) != 0 {
		t.Fatalf("second batch: %v, %v", firsts, err)
	}
	if r := report(t, s, v.ID); r.Days[0].Views != 3 || r.Days[0].Viewers != 1 || len(r.Views) != 2 || r.Views[0].ViewID != "view4" {
		t.Fatalf("after a second batch: %+v", r)
	}
	// Off: nothing is written at all.
	_, off := ownedVideo(t, s, 2)
	if err := s.SetVideoTracking(ctx, off.ID, store.TrackOff); err != nil {
		t.Fatal(err)
	}
	if firsts, err := s.RecordTrackEvents(ctx, playEvents(off.ID, "view5", "hashC", false, now)); err != nil || len(firsts) != 0 {
		t.Fatalf("off: %v, %v", firsts, err)
	}
	if r := report(t, s, off.ID); len(r.Days)+len(r.Retention)+len(r.Histogram)+len(r.Countries)+len(r.Buttons)+len(r.Views) != 0 {
		t.Fatalf("an Off video kept %+v", r)
	}
	if n := countRows(t, s, "track_seen", off.ID); n != 0 {
		t.Fatalf("an Off video kept %d viewer hashes", n)
	}
}

func countRows(t *testing.T, s store.Store, table, videoID string) int {
	t.Helper()
	db, ok := s.(interface{ DB() *sqlDB })
	if !ok {
		t.Fatalf("%T has no DB()", s)
	}
	var n int
	if err := db.DB().QueryRow(`SELECT COUNT(*) FROM `+table+` WHERE video_id = ?`, videoID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func testTrackLoweringDeletes(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, v := ownedVideo(t, s, 1)
	if err := s.SetVideoTracking(ctx, v.ID, store.TrackFull); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordTrackEvents(ctx, playEvents(v.ID, "view1", "hashA", false, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVideoTracking(ctx, v.ID, store.TrackAnonymous); err != nil {
		t.Fatal(err)
	}
	r := report(t, s, v.ID)
	if len(r.Views) != 0 || countRows(t, s, "track_view_clicks", v.ID) != 0 {
		t.Fatalf("anonymous kept per-view rows: %+v", r.Views)
	}
	if len(r.Days) != 1 || r.Days[0].Views != 1 || len(r.Retention) != 4 || len(r.Countries) != 1 {
		t.Fatalf("anonymous lost the aggregates: %+v", r)
	}
	// Raising keeps what there is; it cannot bring back what was deleted.
	if err := s.SetVideoTracking(ctx, v.ID, store.TrackFull); err != nil {
		t.Fatal(err)
	}
	if r := report(t, s, v.ID); len(r.Days) != 1 || len(r.Views) != 0 {
		t.Fatalf("after raising: %+v", r)
	}
	if err := s.SetVideoTracking(ctx, v.ID, store.TrackOff); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"track_daily", "track_retention", "track_histogram", "track_countries", "track_cta", "track_views", "track_seen"} {
		if n := countRows(t, s, table, v.ID); n != 0 {
			t.Errorf("after Off, %s has %d rows of the video", table, n)
		}
	}
	if err := s.SetVideoTracking(ctx, v.ID, "loud"); err == nil {
		t.Fatal("an unknown level was taken")
	}
	if err := s.SetVideoTracking(ctx, "ghost", store.TrackOff); err == nil {
		t.Fatal("a missing video took a level")
	}
}

func testTrackAccountDefault(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, follows := ownedVideo(t, s, 1)
	own := video(2)
	own.OwnerID = u.ID
	own, _, err := s.CreateVideo(ctx, own)
	if err != nil {
		t.Fatal(err)
	}
	if l, notify, err := s.AccountTracking(ctx, u.ID); err != nil || l != "" || notify {
		t.Fatalf("AccountTracking before = %q, %v, %v", l, notify, err)
	}
	if err := s.SetAccountTracking(ctx, u.ID, store.TrackFull, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVideoTracking(ctx, own.ID, store.TrackFull); err != nil {
		t.Fatal(err)
	}
	events := append(playEvents(follows.ID, "view1", "hashA", false, now), playEvents(own.ID, "view2", "hashA", false, now)...)
	if _, err := s.RecordTrackEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	if len(report(t, s, follows.ID).Views) != 1 {
		t.Fatal("a video following a Full default has no view row")
	}
	if err := s.SetAccountTracking(ctx, u.ID, store.TrackAnonymous, false); err != nil {
		t.Fatal(err)
	}
	if l, notify, err := s.AccountTracking(ctx, u.ID); err != nil || l != store.TrackAnonymous || notify {
		t.Fatalf("AccountTracking = %q, %v, %v", l, notify, err)
	}
	if ts, _ := s.TrackSettings(ctx, follows.ID); ts.Effective() != store.TrackAnonymous || ts.AccountLevel != store.TrackAnonymous {
		t.Fatalf("settings of the following video: %+v", ts)
	}
	if r := report(t, s, follows.ID); len(r.Views) != 0 || len(r.Days) != 1 {
		t.Fatalf("lowering the default kept the following video's views: %+v", r)
	}
	if r := report(t, s, own.ID); len(r.Views) != 1 {
		t.Fatalf("lowering the default touched a video with its own level: %+v", r)
	}
	days, err := s.LibraryTrackDays(ctx, u.ID, "", store.DayOf(now)-7)
	if err != nil || len(days) != 1 || days[0].Views != 2 || days[0].Viewers != 2 {
		t.Fatalf("LibraryTrackDays = %+v, %v", days, err)
	}
	if err := s.SetAccountTracking(ctx, u.ID, "loud", false); err == nil {
		t.Fatal("an unknown default was taken")
	}
}

func testTrackDailySalt(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, v := ownedVideo(t, s, 1)
	day := store.DayOf(now)
	a, err := s.DailySalt(ctx, day, []byte("salt-a"))
	if err != nil || !bytes.Equal(a, []byte("salt-a")) {
		t.Fatalf("first salt = %q, %v", a, err)
	}
	// Another replica offering its own fresh salt gets the stored one.
	if b, err := s.DailySalt(ctx, day, []byte("salt-b")); err != nil || !bytes.Equal(b, a) {
		t.Fatalf("second replica's salt = %q, %v; want %q", b, err, a)
	}
	if _, err := s.RecordTrackEvents(ctx, playEvents(v.ID, "view1", "hashA", false, now)); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "track_seen", v.ID); n != 1 {
		t.Fatalf("%d viewer hashes, want 1", n)
	}
	c, err := s.DailySalt(ctx, day+1, []byte("salt-c"))
	if err != nil || !bytes.Equal(c, []byte("salt-c")) {
		t.Fatalf("next day's salt = %q, %v", c, err)
	}
	db := s.(interface{ DB() *sqlDB }).DB()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM track_salts WHERE day < ?`, day+1).Scan(&n); err != nil || n != 0 {
		t.Fatalf("yesterday's salt is still there (%d, %v)", n, err)
	}
	if n := countRows(t, s, "track_seen", v.ID); n != 0 {
		t.Fatalf("yesterday's %d viewer hashes are still there", n)
	}
	if r := report(t, s, v.ID); len(r.Days) != 1 || r.Days[0].Viewers != 1 {
		t.Fatalf("the counts went with the hashes: %+v", r.Days)
	}
}

func testTrackDeleteCascades(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, v := ownedVideo(t, s, 1)
	if err := s.SetAccountTracking(ctx, u.ID, store.TrackFull, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordTrackEvents(ctx, playEvents(v.ID, "view1", "hashA", false, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"track_daily", "track_retention", "track_histogram", "track_countries", "track_cta", "track_views",
		"track_view_clicks", "track_seen", "track_video_settings"} {
		if n := countRows(t, s, table, v.ID); n != 0 {
			t.Errorf("after deleting the video, %s has %d rows of it", table, n)
		}
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if l, _, err := s.AccountTracking(ctx, u.ID); err != nil || l != "" {
		t.Fatalf("the deleted user's default is still there: %q, %v", l, err)
	}
}

// An owner who restricted processing: nothing new is recorded, what was
// kept stays, and lifting the restriction records again.
func testTrackRestrictedOwner(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, v := ownedVideo(t, s, 1)
	if err := s.SetVideoTracking(ctx, v.ID, store.TrackFull); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordTrackEvents(ctx, playEvents(v.ID, "view1", "hashA", false, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPrivacySettings(ctx, store.PrivacySettings{UserID: u.ID, RestrictedAt: now, OptionalMail: true}); err != nil {
		t.Fatal(err)
	}
	ts, err := s.TrackSettings(ctx, v.ID)
	if err != nil || !ts.Restricted || ts.Effective() != store.TrackOff || ts.Chosen() != store.TrackFull {
		t.Fatalf("settings of a restricted owner's video: %+v, %v", ts, err)
	}
	if _, err := s.RecordTrackEvents(ctx, playEvents(v.ID, "view2", "hashB", false, now)); err != nil {
		t.Fatal(err)
	}
	if r := report(t, s, v.ID); len(r.Views) != 1 || r.Days[0].Views != 1 {
		t.Fatalf("while restricted: %+v; want the first view kept and the second not recorded", r)
	}
	if err := s.SetPrivacySettings(ctx, store.PrivacySettings{UserID: u.ID, OptionalMail: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordTrackEvents(ctx, playEvents(v.ID, "view3", "hashC", false, now)); err != nil {
		t.Fatal(err)
	}
	if r := report(t, s, v.ID); len(r.Views) != 2 {
		t.Fatalf("after lifting the restriction: %d views, want 2", len(r.Views))
	}
}
