// Package sync is the uploader: it delivers the sealed segments waiting in
// the queue to the server while the recording is still going, and makes
// the video playable the moment the recording is finished and its last
// segment is in.
//
// # Using it
//
//	up, err := sync.New(sync.Config{Queue: q, ServerURL: url, Token: token, OnEvent: show})
//	go up.Run(ctx)                  // until ctx ends; or up.Drain(ctx): until nothing is left
//	...
//	q.AddSegment(ctx, id, i, path, d); up.Notify()   // for every closed segment
//	q.Finish(ctx, id, dur); up.Notify()              // at Stop
//	url, err := up.WaitReady(ctx, id)                 // the share link, once playable
//
// Only one uploader may work on a queue at a time (two would send every
// segment twice): take Claim(queueDir) first and keep it while running.
// Whoever holds it also calls queue.Recover once at start-up.
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
