package tray

var (
	iconIdle      = icoIdle
	iconRecording = icoRecording
	iconPaused    = icoPaused
)

func supported() error { return nil }
