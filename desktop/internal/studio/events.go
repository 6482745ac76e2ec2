package studio

import upsync "framecast.dev/desktop/internal/sync"

// Kinds of Event.
const (
	KindState   = "state"   // State changed
	KindStats   = "stats"   // Stats of the recording, ~10 a second
	KindLibrary = "library" // the library changed: call Recordings again
	KindUpload  = "upload"  // Upload: an uploader event (progress, ready, offline, ...)
	KindWarning = "warning" // Message: a sentence for the user
	KindImport  = "import"  // Import: how far an import is
)

// Recording states.
const (
	StateIdle      = "idle"
	StateRecording = "recording"
	StatePaused    = "paused"
	StateStopping  = "stopping"
)

// Event is one thing the studio reports; fields that do not apply are zero.
// It is plain data, ready for JSON.
type Event struct {
	Kind    string          `json:"kind"`
	State   string          `json:"state,omitempty"`
	Stats   *Stats          `json:"stats,omitempty"`
	Upload  *upsync.Event   `json:"upload,omitempty"`
	Message string          `json:"message,omitempty"`
	Import  *ImportProgress `json:"import,omitempty"`
}

// Stats is the recording's progress for the HUD.
type Stats struct {
	Elapsed  float64 `json:"elapsed"` // seconds of video, pauses excluded
	FPS      float64 `json:"fps"`
	Dropped  int64   `json:"dropped"`
	Segments int     `json:"segments"`
	Mic      float64 `json:"micDb"`
	System   float64 `json:"systemDb"`
	State    string  `json:"state"`
}
