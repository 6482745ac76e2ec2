package recorder

import "time"

// ConvertInRecorder switches where colours are converted (see
// convertInRecorder) and returns the previous setting.
func ConvertInRecorder(v bool) bool {
	old := convertInRecorder
	convertInRecorder = v
	return old
}

// DelayStopRequest makes capture wait d between ending and asking to
// stop, and returns the undo.
func DelayStopRequest(d time.Duration) func() {
	old := captureEnded
	captureEnded = func() { time.Sleep(d) }
	return func() { captureEnded = old }
}
