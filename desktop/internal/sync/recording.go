package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
	"unicode/utf8"

	"framecast.dev/desktop/internal/fmp4"
	"framecast.dev/desktop/internal/queue"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// create asks the server for a video for a recording that has none yet
// (made offline, or the create was lost). The server answers the same
// video for the same recording id, so this is safe to repeat.
func (u *Uploader) create(ctx context.Context, r queue.Recording) error {
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	v, created, err := u.client.CreateVideo(cctx, api.CreateVideoRequest{Title: clip(r.Title, api.MaxTitleLen), RecordingID: r.ID.String(),
		Tracking: r.Tracking})
	if err != nil {
		return err
	}
	if err := u.q.SetServerID(ctx, r.ID, v.ID, slugOf(v.ShareURL)); err != nil {
		return itemRetry(err, "The upload queue could not be updated for “%s” (%v).", r.Title, err)
	}
	u.log.Info("server video created", "recording", r.ID.String(), "video_id", v.ID, "new", created)
	u.mu.Lock()
	u.stats.Created++
	if st := u.recs[r.ID]; st != nil {
		st.shareURL = v.ShareURL
		// A video that existed already (a create whose answer was lost)
		// may hold segments: read its list before sending them.
		st.checked = created
	}
	u.mu.Unlock()
	u.emit(Event{Kind: EventCreated, Recording: r.ID.String(), Title: r.Title, ShareURL: v.ShareURL,
		Message: "The link is reserved; it plays as soon as the recording is finished and uploaded."})
	return nil
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// check reads which segments the server already stores for a recording
// this run did not create (a restart after a crash, another uploader
// before), and marks those delivered: one request instead of one per
// segment.
func (u *Uploader) check(ctx context.Context, r queue.Recording) error {
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	v, err := u.client.Video(cctx, r.ServerID)
	if err != nil {
		return err
	}
	segs, err := u.q.Segments(ctx, r.ID)
	if err != nil {
		return itemRetry(err, "The upload queue could not be read for “%s” (%v).", r.Title, err)
	}
	stored := map[api.SegmentIndex]string{}
	for _, s := range v.Segments {
		if s.Stored {
			stored[s.Index] = s.SHA256
		}
	}
	marked := 0
	var sent int64
	for _, s := range segs {
		if s.State == queue.SegmentUploaded || stored[s.Index] != fmt.Sprintf("%x", s.SHA256) {
			continue
		}
		if err := u.q.MarkUploaded(ctx, r.ID, s.Index); err != nil {
			return itemRetry(err, "The upload queue could not be updated for “%s” (%v).", r.Title, err)
		}
		marked++
		sent += s.SealedSize
	}
	u.mu.Lock()
	if st := u.recs[r.ID]; st != nil {
		st.checked = true
		st.shareURL = v.ShareURL
		st.sent += sent
	}
	u.mu.Unlock()
	if marked > 0 {
		u.log.Info("segments found on the server already", "recording", r.ID.String(), "count", marked)
	}
	return nil
}

// finalize makes a finished, fully delivered recording playable.
func (u *Uploader) finalize(ctx context.Context, r queue.Recording) error {
	segs, err := u.q.Segments(ctx, r.ID)
	if err != nil {
		return itemRetry(err, "The upload queue could not be read for “%s” (%v).", r.Title, err)
	}
	var init *queue.Segment
	var media []queue.Segment
	for i, s := range segs {
		if s.State != queue.SegmentUploaded {
			return itemRetry(nil, "Segment %s of “%s” is not delivered yet.", s.Index, r.Title)
		}
		if s.Index == api.InitSegment {
			init = &segs[i]
		} else {
			media = append(media, s)
		}
	}
	n := 0
	for n < len(media) && media[n].Index == api.SegmentIndex(n) {
		n++
	}
	if n == 0 {
		return permanent(nil, "“%s” has no recorded segment to play (it stopped before the first one was complete).", r.Title)
	}
	if n < len(media) {
		msg := fmt.Sprintf("Segment %d of “%s” was never recorded, so the link plays only up to it (%d of %d segments). The rest stays in the queue.", n, r.Title, n, len(media))
		u.log.Warn("a recording has a gap", "recording", r.ID.String(), "playable", n, "queued", len(media))
		u.emit(Event{Kind: EventWarning, Recording: r.ID.String(), Title: r.Title, Message: msg})
		media = media[:n]
	}
	dek, err := u.q.DataKey(ctx, r.ID)
	if err != nil {
		return permanent(err, "The key of “%s” cannot be read (%v), so the server could not play it.", r.Title, err)
	}
	durations := u.durations(ctx, r, init, media, dek)

	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req := api.FinalizeRequest{SegmentCount: n, Init: init != nil, SegmentDurations: durations, DataKey: dek[:]}
	v, err := u.client.Finalize(cctx, r.ServerID, req)
	switch {
	case api.IsCode(err, api.CodeSegmentsMissing):
		return u.requeueMissing(ctx, r, segs, err)
	case api.IsCode(err, api.CodeFinalized):
		// Finalized before with other values (an earlier run, other
		// durations): what the server plays is what counts.
		got, gerr := u.client.Video(cctx, r.ServerID)
		if gerr != nil || got.State != api.StateReady {
			return err
		}
		u.log.Warn("the server had finalized this video already", "recording", r.ID.String())
		v = got
	case err != nil:
		return err
	}
	if err := u.q.MarkRecordingUploaded(context.WithoutCancel(ctx), r.ID); err != nil {
		// Another uploader (a second app on this queue) got there first.
		if got, gerr := u.q.Recording(ctx, r.ID); gerr != nil || got.State != queue.StateUploaded {
			return itemRetry(err, "The upload queue could not be updated for “%s” (%v).", r.Title, err)
		}
	}
	u.log.Info("recording ready", "recording", r.ID.String(), "video_id", v.ID, "segments", n)
	u.mu.Lock()
	u.stats.Finalized++
	var sent int64
	if st := u.recs[r.ID]; st != nil {
		sent = st.total
	}
	u.forget(r.ID)
	u.mu.Unlock()
	u.emit(Event{Kind: EventReady, Recording: r.ID.String(), Title: r.Title, ShareURL: v.ShareURL, Sent: sent, Total: sent,
		Message: "The recording is ready to watch."})
	u.resolve(r.ID, readyResult{url: v.ShareURL})
	return nil
}

// requeueMissing puts back the segments the server turns out not to have
// (it lost them, or was restored from a backup).
func (u *Uploader) requeueMissing(ctx context.Context, r queue.Recording, segs []queue.Segment, ferr error) error {
	cctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	v, err := u.client.Video(cctx, r.ServerID)
	if err != nil {
		return err
	}
	stored := map[api.SegmentIndex]bool{}
	for _, s := range v.Segments {
		stored[s.Index] = s.Stored
	}
	var again []api.SegmentIndex
	for _, s := range segs {
		if !stored[s.Index] {
			if err := u.q.Requeue(ctx, r.ID, s.Index); err != nil {
				return itemRetry(err, "The upload queue could not be updated for “%s” (%v).", r.Title, err)
			}
			again = append(again, s.Index)
		}
	}
	u.mu.Lock()
	for _, i := range again {
		delete(u.delivered, segKey{r.ID, i})
	}
	if st := u.recs[r.ID]; st != nil {
		for _, s := range segs {
			if slices.Contains(again, s.Index) {
				st.sent -= s.SealedSize
			}
		}
	}
	u.mu.Unlock()
	u.log.Warn("the server lacks segments it had accepted; sending them again", "recording", r.ID.String(), "segments", again)
	return itemRetry(ferr, "The server lacks %d segments of “%s” that it had accepted; sending them again.", len(again), r.Title)
}

// fallbackDuration is the segment length the recorder aims for, used when
// a segment's own length cannot be read.
const fallbackDuration = 2 * time.Second

// durations returns the media segments' playing times in seconds. The
// queue has them from the recorder; segments queued by Recover after a
// crash have none, and their length is read from the segment itself
// (opened with the data key) and saved.
func (u *Uploader) durations(ctx context.Context, r queue.Recording, init *queue.Segment, media []queue.Segment, dek seal.Key) []float64 {
	out := make([]float64, len(media))
	var known time.Duration
	nknown := 0
	for _, s := range media {
		if s.Duration > 0 {
			known += s.Duration
			nknown++
		}
	}
	var in *fmp4.Init
	var inErr error
	for i, s := range media {
		d := s.Duration
		if d <= 0 {
			if in == nil && inErr == nil {
				in, inErr = readInit(init, r.ID, dek)
			}
			err := inErr
			if err == nil {
				d, err = segmentDuration(*in, s, dek)
			}
			if err != nil || d <= 0 {
				// A guess keeps the video playable; only seeking is off.
				d = fallbackDuration
				if nknown > 0 {
					d = known / time.Duration(nknown)
				}
				u.log.Warn("a segment's length cannot be read; using an estimate", "recording", r.ID.String(), "segment", s.Index, "estimate", d, "err", err)
			}
			if err := u.q.SetSegmentDuration(ctx, r.ID, s.Index, d); err != nil {
				u.log.Error("could not save a segment's length", "err", err)
			}
		}
		out[i] = d.Seconds()
	}
	return out
}

func readInit(init *queue.Segment, id seal.RecordingID, dek seal.Key) (*fmp4.Init, error) {
	if init == nil {
		return nil, errors.New("the recording has no init segment")
	}
	var in fmp4.Init
	err := openSealed(*init, id, dek, func(r io.Reader) (err error) {
		in, err = fmp4.ReadInit(r)
		return err
	})
	return &in, err
}

func segmentDuration(in fmp4.Init, s queue.Segment, dek seal.Key) (time.Duration, error) {
	var d time.Duration
	err := openSealed(s, s.RecordingID, dek, func(r io.Reader) (err error) {
		d, err = in.Duration(r)
		return err
	})
	return d, err
}

func openSealed(s queue.Segment, id seal.RecordingID, dek seal.Key, fn func(io.Reader) error) error {
	f, err := os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := seal.NewReader(f, dek, id, s.Index.SealIndex())
	if err != nil {
		return err
	}
	return fn(r)
}
