package sync

import (
	"time"

	"framecast.dev/shared/api"
)

// EventKind says what happened.
type EventKind string

const (
	// EventProgress: Sent of Total sealed bytes of the recording are on
	// the server. Total grows while the recording goes on.
	EventProgress EventKind = "progress"
	// EventSegmentUploaded: segment Index is stored on the server.
	EventSegmentUploaded EventKind = "segment_uploaded"
	// EventCreated: the server created the video; ShareURL is its link,
	// which plays once the recording is ready.
	EventCreated EventKind = "created"
	// EventReady: the video is playable at ShareURL.
	EventReady EventKind = "ready"
	// EventOffline: the server cannot be reached or is failing; the
	// uploader waits RetryIn before trying again. Nothing is lost.
	EventOffline EventKind = "offline"
	// EventOnline: the server answers again.
	EventOnline EventKind = "online"
	// EventRetry: one segment or recording failed and is retried after
	// RetryIn; Message says why.
	EventRetry EventKind = "retry"
	// EventWarning: something the user should know that does not stop
	// the upload.
	EventWarning EventKind = "warning"
	// EventFailed: the recording cannot be uploaded; it is marked failed
	// and Message says why and what to do. Its sealed files are kept.
	EventFailed EventKind = "failed"
)

// Event is one thing the uploader reports. Recording is the queue's
// recording id (32 hex digits); fields that do not apply are zero.
type Event struct {
	Kind      EventKind        `json:"kind"`
	Recording string           `json:"recording,omitempty"`
	Title     string           `json:"title,omitempty"`
	Index     api.SegmentIndex `json:"index"`           // api.InitSegment (-1) is the init segment
	Sent      int64            `json:"sent,omitempty"`  // sealed bytes on the server
	Total     int64            `json:"total,omitempty"` // sealed bytes queued so far
	ShareURL  string           `json:"shareURL,omitempty"`
	Message   string           `json:"message,omitempty"` // a sentence for the user
	RetryIn   time.Duration    `json:"-"`
	RetryMs   int64            `json:"retryMs,omitempty"` // RetryIn for scripts

	// Err is the underlying error of retry, offline and failed events.
	Err error `json:"-"`
}

// Stats counts what an uploader has done since it was made.
type Stats struct {
	Segments  int   // segments delivered
	Bytes     int64 // sealed bytes sent, retries included
	Resumed   int   // uploads resumed from an offset (PATCH)
	Retries   int   // failed attempts that were retried
	Created   int   // videos created on the server
	Finalized int   // recordings made playable
	Failed    int   // recordings given up
	Offline   bool  // the server is failing right now
}
