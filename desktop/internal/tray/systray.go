//go:build linux || windows

package tray

import (
	"fmt"
	"sync"

	"fyne.io/systray"
)

// Tray is the running tray icon. Only one exists per process.
type Tray struct {
	mu        sync.Mutex
	state     State
	startStop *systray.MenuItem
	pause     *systray.MenuItem
	stopOnce  sync.Once
	end       func()
	done      chan struct{}
}

var started sync.Mutex // systray keeps global state: one tray per process

// Start shows the tray icon and its menu. Stop removes it.
func Start(a Actions) (*Tray, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	if !started.TryLock() {
		return nil, fmt.Errorf("start tray: a tray is already running in this process")
	}
	t := &Tray{done: make(chan struct{})}
	ready := make(chan struct{})
	start, end := systray.RunWithExternalLoop(func() {
		systray.SetTitle("Framecast")
		systray.SetTooltip("Framecast")
		systray.SetIcon(iconIdle)
		t.startStop = systray.AddMenuItem("Start recording", "Record your screen")
		t.pause = systray.AddMenuItem("Pause", "Pause the recording")
		t.pause.Disable()
		systray.AddSeparator()
		open := systray.AddMenuItem("Open Framecast", "Show the Framecast window")
		quit := systray.AddMenuItem("Quit", "Quit Framecast")
		close(ready)
		go t.loop(a, open, quit)
	}, nil)
	t.end = end
	start()
	<-ready
	return t, nil
}

func (t *Tray) loop(a Actions, open, quit *systray.MenuItem) {
	call := func(f func()) {
		if f != nil {
			go f()
		}
	}
	for {
		select {
		case <-t.startStop.ClickedCh:
			call(a.StartStop)
		case <-t.pause.ClickedCh:
			call(a.Pause)
		case <-open.ClickedCh:
			call(a.Open)
		case <-quit.ClickedCh:
			call(a.Quit)
		case <-t.done:
			return
		}
	}
}

// SetState updates the icon and the menu to match the recorder.
func (t *Tray) SetState(s State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s == t.state {
		return
	}
	t.state = s
	switch s {
	case Idle:
		systray.SetIcon(iconIdle)
		systray.SetTooltip("Framecast")
		t.startStop.SetTitle("Start recording")
		t.pause.SetTitle("Pause")
		t.pause.Disable()
	case Recording:
		systray.SetIcon(iconRecording)
		systray.SetTooltip("Framecast: recording")
		t.startStop.SetTitle("Stop recording")
		t.pause.SetTitle("Pause")
		t.pause.Enable()
	case Paused:
		systray.SetIcon(iconPaused)
		systray.SetTooltip("Framecast: paused")
		t.startStop.SetTitle("Stop recording")
		t.pause.SetTitle("Resume")
		t.pause.Enable()
	}
}

// Stop removes the tray icon.
func (t *Tray) Stop() {
	t.stopOnce.Do(func() {
		close(t.done)
		t.end()
		started.Unlock()
	})
}
