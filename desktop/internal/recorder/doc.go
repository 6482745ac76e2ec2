// Package recorder is the recording use case: screen and sound in, ~2 s
// encrypted-upload-ready segments out while recording, one MP4 at the end.
// The CLI, the Wails bindings and the tray all drive it; it knows nothing
// about any of them.
//
// # Using it
//
//	rec, err := recorder.Start(ctx, recorder.Options{Dir: dir, Mic: "auto", SystemAudio: true})
//	if err != nil { ... }            // a sentence for the user: bad display, no ffmpeg, unwritable dir...
//	go func() {
//		for ev := range rec.Events() { // closed after Stopped
//			switch ev := ev.(type) {
//			case recorder.SegmentClosed: queue.AddSegment(id, ev.Index, ev.Path)
//			case recorder.Level:         // meters, elapsed, fps, dropped frames
//			case recorder.StateChanged:  // recording / paused / stopping
//			case recorder.Warning:       // show, keep going
//			case recorder.Error:         // the recording ended early; Stopped follows
//			case recorder.Stopped:       // ev.Result.MP4, ev.Err
//			}
//		}
//	}()
//	rec.Pause(); rec.Resume()            // or TogglePause
//	res, err := rec.Stop(ctx)            // blocks until the MP4 is written
//	// or rec.Cancel(): stop and delete the folder
//
// Start returns once the first frame is being captured; Start's context
// bounds only the start-up. Options.Duration makes the recording stop by
// itself (Stopped arrives as after Stop).
//
// # Threading
//
// All methods are safe to call from any goroutine, also concurrently and
// after the end (Pause/Resume then return ErrNotRecording; Stop returns
// the same Result again). Events arrive in order on one channel from one
// goroutine. The recorder never waits for the reader: events queue in
// memory and Level events (about 10 per second) are merged when they pile
// up, so a slow reader delays nothing, but a reader that never reads keeps
// the queue growing until Stopped.
//
// # Files
//
// Options.Dir receives index.m3u8 (the HLS playlist), init.mp4, seg00001.m4s,
// seg00002.m4s, ... and, after a successful stop, recording.mp4 (remuxed
// from the segments, no re-encode, playable anywhere).
//
// SegmentClosed is emitted only once ffmpeg has finished the file, the
// playlist lists it and its MP4 boxes check out (ffmpeg's HLS muxer does
// not report a full disk and leaves truncated files under final names).
// Index 0 is the init segment and always comes first; media segments
// follow as 1, 2, 3... without gaps. From the event on, the file belongs to
// the receiver: the recorder does not read, write or delete it again, so
// the receiver may seal and remove it at once. (The recorder keeps a hard
// link in Dir/.parts to build the MP4 and removes it afterwards.)
//
// When the recording fails (ffmpeg dies, the screen goes away, the disk
// fills up) the segments already announced stay announced and on disk,
// half-written files are removed, no MP4 is made, and Error carries a
// sentence saying what happened and what to do.
//
// # Timing
//
// One clock rules: media time is wall time since the start minus paused
// time. Frame n is media time n/fps; a beat without a fresh grab (the
// machine is busy) shows the previous frame and counts as dropped, rather
// than shifting what follows. Each sound block is stamped with its capture
// time (see package audio) and placed on the same timeline; sound captured
// while paused or before the start is cut. ffmpeg gets numbered frames
// and a continuous 48 kHz stream, so picture and sound line up within a
// few milliseconds (TestSyncAt1080p30 measures 0–6 ms).
//
// The encoder is warmed up before the clock starts: the first grab is sent
// until ffmpeg keeps pace, so a recording may begin with up to a third of
// a second of that first picture (these frames count as captured).
package recorder
