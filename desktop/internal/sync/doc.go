// Package sync is the uploader: it delivers the sealed segments waiting in
// the queue to the server while the recording is still going, and makes
// the video playable the moment the recording is finished and its last
// segment is in.
//
// # Using it
//
//	release, err := sync.Claim(queueDir)  // one uploader per queue; keep it while running
//	q.Recover(ctx)                         // then finish what a crash interrupted
//	up, err := sync.New(sync.Config{Queue: q, ServerURL: url, Token: token, OnEvent: show})
//	go up.Run(ctx)                         // until ctx ends; up.Drain(ctx) returns when nothing is left
//
//	rec, _ := q.CreateRecording(ctx, queue.NewRecording{Title: t, PlainDir: dir,
//		PlainPattern: "seg%05d.m4s", PlainInit: "init.mp4", PlainFirst: 1})
//	up.Notify()                            // the server video (and its link) is created at once
//	// for every recorder.SegmentClosed (Index 0 is init.mp4, media from 1):
//	sync.QueueSegment(ctx, q, up, rec.ID, index, ev.Path, ev.Duration)
//	// at Stop, once the last segment is queued:
//	q.Finish(ctx, rec.ID, duration); up.Notify()
//	url, err := up.WaitReady(ctx, rec.ID)  // the share link, the moment it plays
//
// QueueSegment seals the segment into the queue (the plaintext file is
// removed) and wakes the uploader; its errors are sentences (a full disk
// says so). A process that adds segments must hold the claim, or leave the
// uploading to the one that does (Config.Poll lets that one see segments
// other processes add).
//
// # What it does
//
//   - A recording without a server id gets one: CreateVideo with the
//     recording's id, which the server answers idempotently, so a create
//     lost to a network cut is simply sent again. Offline, the recording
//     keeps its local id and its segments wait; the mapping happens when
//     the server answers.
//   - Segments go out in the queue's order (oldest recording first, init
//     segment first, then by index), Concurrency at a time, each streamed
//     from its sealed file. A segment whose earlier attempt failed is first
//     asked about (HEAD): stored already, resumed with PATCH from the
//     offset the server holds, or sent again from the start.
//   - A recording that is finished and fully delivered is finalized with
//     its segment durations and data key, then marked uploaded.
//
// # When things fail
//
// Failures are sorted into three kinds, each with its own response:
//
//   - The server as a whole (no connection, a cut or stalled transfer, a
//     5xx, 429): the uploader goes offline and backs off exponentially
//     with full jitter, sending at most one request at a time as a probe,
//     so a dead server is not hammered and the uploader never spins. A
//     Notify (a new segment) brings the next probe forward to at most a
//     second after the last failure. The first success resets everything.
//   - One item (423 busy, 409 offset mismatch, 422 checksum mismatch, a
//     partial answer): that segment or recording alone waits and retries.
//   - Permanent (409 sha256_conflict, 422 bad_seal, 413, 400, a sealed
//     file gone or changed on disk, the video gone from the server): the
//     recording is marked failed with a sentence saying why and what to
//     do. Its sealed files stay in the queue.
//
// A refused device token (401) pauses everything on the slow end of the
// backoff until the token is fixed; nothing is marked failed for it.
//
// # Events
//
// OnEvent receives an Event for progress (sealed bytes sent and known per
// recording, at most ~10 a second per recording), each delivered segment,
// the share link when the server created the video and when it is ready,
// going offline and back, retries, warnings and failures. Calls are
// serialized and must return quickly; the window forwards them to its
// script, the CLI prints them. Events are plain data (JSON-ready). The
// share URL carries the link's only secret: show it, never log it.
package sync
