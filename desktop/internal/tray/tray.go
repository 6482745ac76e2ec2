// Package tray puts Framecast in the system tray (fyne.io/systray): Start
// or Stop recording, Pause, Open Framecast and Quit, with an icon that
// shows whether a recording is running. It runs beside the Wails window
// (systray.RunWithExternalLoop); on Linux it speaks DBus StatusNotifierItem.
package tray

// Actions are called when the user picks a menu item. Each runs on its own
// goroutine and must not block for long.
type Actions struct {
	StartStop func() // start a recording, or stop the running one
	Pause     func() // pause or resume the running recording
	Open      func() // show the main window
	Quit      func() // quit the app
}

// State is what the tray shows.
type State int

const (
	Idle State = iota
	Recording
	Paused
)
