package daemon

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/store"
)

// TestRetentionPrunesFinishedJobs: the daily retention sweep deletes a
// job that finished longer ago than FRAMECAST_RETAIN_JOBS, of a video or
// of nothing, and keeps one that finished since, a failed job of a live
// video (its owner retries it from the dashboard) and a video's queued
// and running jobs however old they are.
func TestRetentionPrunesFinishedJobs(t *testing.T) {
	clk := newClock()
	ts := startWith(t, []Option{WithClock(clk.Now)}, func(c *config.Config) { c.Privacy.RetainJobs = 10 * 24 * time.Hour })
	r := newRecording(t, ts, 1000)
	ctx := t.Context()
	st := ts.d.store
	day := 24 * time.Hour
	now := clk.Now()
	// Kinds no worker runs, queued never due and leased far ahead, so only
	// the sweep can change them.
	far := now.Add(100 * 365 * day)
	n := 0
	add := func(videoID string, state store.JobState, finished time.Time) string {
		t.Helper()
		n++
		j := store.Job{ID: fmt.Sprintf("prune-test-%d", n), Kind: fmt.Sprintf("prune-test-%d", n), VideoID: videoID, Args: []byte("{}"),
			MaxAttempts: 1, RunAt: far, CreatedAt: now.Add(-60 * day)}
		if _, err := st.EnqueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if state == store.JobQueued {
			return j.ID
		}
		if _, err := st.ClaimJobOf(ctx, "test", []string{j.Kind}, false, far, far.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var err error
		switch state {
		case store.JobDone:
			err = st.CompleteJob(ctx, j.ID, "test", finished)
		case store.JobFailed:
			err = st.FailJob(ctx, j.ID, "test", "ffmpeg broke", finished, time.Time{}, true)
		}
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	gone := map[string]string{
		add("", store.JobDone, now.Add(-11*day)):         "done 11 days ago",
		add(r.video.ID, store.JobDone, now.Add(-11*day)): "a video's, done 11 days ago",
		add("", store.JobFailed, now.Add(-11*day)):       "failed 11 days ago, about no video",
	}
	kept := map[string]string{
		add("", store.JobDone, now.Add(-9*day)):            "done 9 days ago",
		add(r.video.ID, store.JobFailed, now.Add(-50*day)): "a live video's, failed 50 days ago",
		add(r.video.ID, store.JobQueued, time.Time{}):      "a live video's, queued 60 days ago",
		add(r.video.ID, store.JobRunning, time.Time{}):     "a live video's, running since 60 days ago",
	}

	ts.runRetention(t)
	for id, what := range gone {
		if _, err := st.Job(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the job %s is still there after the sweep (%v)", what, err)
		}
	}
	for id, what := range kept {
		if _, err := st.Job(ctx, id); err != nil {
			t.Errorf("the sweep removed the job %s: %v", what, err)
		}
	}
}
