package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// TestBeaconsWithoutStartAreNotViews: through the real server at level
// Full, progress and finish events for a view id no start created are
// answered 204 like any beacon (a viewer's browser never sees an error)
// and leave no row: no per-view row, no watched seconds, no finish. A
// button clicked before playing counts as a click, with no per-view row.
// A view that did start is recorded as before.
func TestBeaconsWithoutStartAreNotViews(t *testing.T) {
	ts := start(t)
	r := newRecording(t, ts, 1000, 1000, 1000)
	r.put(t, ts, api.InitSegment)
	for i := range 3 {
		r.put(t, ts, api.SegmentIndex(i))
	}
	v := r.finalize(t, ts, 3)
	ctx := context.Background()
	if err := ts.d.store.SetVideoTracking(ctx, v.ID, store.TrackFull); err != nil {
		t.Fatal(err)
	}
	events := strings.TrimPrefix(v.ShareURL, ts.URL) + "/events"
	post := func(body string) {
		t.Helper()
		resp := ts.do(t, http.MethodPost, events, strings.NewReader(body), false, "Content-Type", "text/plain;charset=UTF-8")
		if got := readAll(t, resp); resp.StatusCode != http.StatusNoContent || got != "" {
			t.Fatalf("beacon %s: %d %q, want a bare 204", body, resp.StatusCode, got)
		}
	}
	view := func(n int) string { return fmt.Sprintf("%032x", n) }

	// Forged: many view ids never started.
	for i := range 20 {
		post(`{"view":"` + view(100+i) + `","k":"progress","s":[0,1,2,3,4],"p":0,"n":5}`)
		post(`{"view":"` + view(100+i) + `","k":"finish"}`)
	}
	post(`{"view":"` + view(200) + `","k":"cta","b":0}`)
	// A real viewer.
	post(`{"view":"` + view(1) + `","k":"start"}`)
	post(`{"view":"` + view(1) + `","k":"progress","s":[0,1],"p":0,"n":2}`)
	post(`{"view":"` + view(1) + `","k":"finish"}`)

	ts.d.track.Flush(ctx)
	db := ts.d.store.(interface{ DB() *sql.DB }).DB()
	var ids []string
	rows, err := db.Query(`SELECT view_id FROM track_views WHERE video_id = ?`, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) != 1 || ids[0] != view(1) {
		t.Fatalf("per-view rows %v, want only the started view %s", ids, view(1))
	}
	var clicks int
	if err := db.QueryRow(`SELECT count(*) FROM track_view_clicks WHERE video_id = ?`, v.ID).Scan(&clicks); err != nil || clicks != 0 {
		t.Fatalf("%d per-view clicks (%v), want none: the click came from no started view", clicks, err)
	}
	rep, err := ts.d.store.TrackReport(ctx, v.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Days) != 1 {
		t.Fatalf("days %+v", rep.Days)
	}
	if d := rep.Days[0]; d.Views != 1 || d.Finishes != 1 || d.WatchedSeconds != 2 || d.CTAClicks != 1 {
		t.Errorf("day %+v; want the one started view's finish and 2 seconds, and the click", d)
	}
}
