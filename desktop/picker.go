package main

import (
	"framecast.dev/desktop/internal/sources"
)

// Events of the source picker's preview.
const (
	evSources   = "sources:list"      // sources.List
	evThumbnail = "sources:thumbnail" // sources.Thumbnail, each screen about once a second
	evLevels    = "sources:levels"    // sources.Levels, ten times a second
	evSourceErr = "sources:error"     // a sentence
)

// OpenPicker starts the source picker's preview and returns at once: the
// screens and sound devices come as sources:list, then thumbnails and
// levels until ClosePicker. The meters listen to the saved sources.
func (a *App) OpenPicker() error {
	st, _ := a.settings.Load()
	a.mu.Lock()
	old := a.preview
	a.preview = sources.StartPreview(sources.PreviewConfig{
		Audio:       sources.Audio{Mic: st.Mic, System: st.SystemAudio, SystemDevice: st.SystemAudioDevice},
		OnList:      func(l sources.List) { a.ui.Emit(evSources, l) },
		OnThumbnail: func(t sources.Thumbnail) { a.ui.Emit(evThumbnail, t) },
		OnLevels:    func(l sources.Levels) { a.ui.Emit(evLevels, l) },
		OnError:     func(m string) { a.ui.Emit(evSourceErr, m) },
		Log:         a.log,
	})
	a.mu.Unlock()
	if old != nil {
		go old.Close()
	}
	return nil
}

// SetPickerAudio points the picker's meters at other sources; it returns
// at once (opening a device can take a moment).
func (a *App) SetPickerAudio(au sources.Audio) {
	a.mu.Lock()
	p := a.preview
	a.mu.Unlock()
	if p != nil {
		go p.SetAudio(au)
	}
}

// ClosePicker ends the preview and releases the screens and devices.
func (a *App) ClosePicker() {
	a.mu.Lock()
	p := a.preview
	a.preview = nil
	a.mu.Unlock()
	if p != nil {
		go p.Close()
	}
}

// closePickerNow ends the preview before recording, so the recorder gets
// the devices to itself.
func (a *App) closePickerNow() {
	a.mu.Lock()
	p := a.preview
	a.preview = nil
	a.mu.Unlock()
	if p != nil {
		p.Close()
	}
}
