package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	stdsync "sync"
	"time"

	"framecast.dev/desktop/internal/autostart"
	"framecast.dev/desktop/internal/cli"
	"framecast.dev/desktop/internal/hotkey"
	"framecast.dev/desktop/internal/notify"
	"framecast.dev/desktop/internal/settings"
	"framecast.dev/desktop/internal/sources"
	"framecast.dev/desktop/internal/studio"
	"framecast.dev/desktop/internal/tray"
)

// Events the window's script listens to.
const (
	evState    = "recording:state"   // studio state: idle, recording, paused, stopping
	evStats    = "recording:stats"   // studio.Stats
	evLibrary  = "library:changed"   // no data: call ListRecordings
	evUpload   = "upload:progress"   // sync.Event
	evWarning  = "app:warning"       // a sentence
	evStopped  = "recording:stopped" // studio.Outcome
	evStopFail = "recording:error"   // a sentence
	evSignIn   = "signin:code"       // studio.SignInCode
	evSignedIn = "signin:done"       // the account's name
	evSignFail = "signin:error"      // a sentence
	evSent     = "send:done"         // studio.Sent
	evSendFail = "send:error"        // {recording, message}
)

// shell is what the app needs from the window toolkit (Wails in gui.go);
// nothing below it knows Wails.
type shell interface {
	Emit(name string, data ...any)
	SetClipboard(text string) error
	OpenURL(url string)
	// PickFile asks for one file to open; "" when the user cancelled.
	PickFile(title, filterName, patterns string) (string, error)
	ShowWindow()
	Quit()
}

// App is the surface the window's JavaScript calls (bound by Wails). It only
// translates between the UI and plain Go packages that know nothing of Wails.
type App struct {
	ctx      context.Context
	settings *settings.Store
	studio   *studio.Studio
	ui       shell
	log      *slog.Logger

	mu       stdsync.Mutex
	warnings []string
	tray     *tray.Tray
	keys     *hotkey.Listener
	stopping bool
	signOut  context.CancelFunc // cancels a sign-in under way
	preview  *sources.Preview   // the source picker's, while it is open

	// Imports under way: quitting stops their ffmpeg and waits for them
	// to clear their work folders.
	importCtx  context.Context
	endImports context.CancelFunc
	imports    stdsync.WaitGroup
}

func newApp(store *settings.Store) *App {
	ctx, cancel := context.WithCancel(context.Background())
	return &App{settings: store, log: slog.Default(), importCtx: ctx, endImports: cancel}
}

// startup opens the studio and wires the tray and the hotkey; a tray or
// hotkey that cannot start is a warning, never fatal.
func (a *App) startup(ctx context.Context, ui shell, dir string) {
	a.ctx, a.ui = ctx, ui
	st, err := studio.Open(studio.Config{Dir: dir, OnEvent: a.studioEvent, Log: a.log})
	if err != nil {
		a.warn(fmt.Sprintf("Recording is not available: %v", err))
	} else {
		a.studio = st
	}
	t, err := tray.Start(tray.Actions{
		StartStop: func() { a.toggleRecording() },
		Pause:     func() { _, _ = a.TogglePause() },
		Open:      ui.ShowWindow,
		Quit:      ui.Quit,
	})
	if err != nil {
		a.warn(fmt.Sprintf("The tray icon is not available (%v); use the window to record.", err))
	} else {
		a.mu.Lock()
		a.tray = t
		a.mu.Unlock()
	}
	a.registerHotkey()
}

func (a *App) registerHotkey() {
	a.mu.Lock()
	if a.keys != nil {
		a.keys.Close()
		a.keys = nil
	}
	a.mu.Unlock()
	s, _ := a.settings.Load()
	spec := s.Hotkey
	if spec == "" {
		spec = hotkey.Default
	}
	h, err := hotkey.Parse(spec)
	if err != nil {
		a.warn(fmt.Sprintf("The shortcut %q is not valid (%v); pick another in Settings.", spec, err))
		return
	}
	l, err := hotkey.Register(h)
	if err != nil {
		a.warn(fmt.Sprintf("The shortcut %s is not available (%v); use the window or the tray to record.", h, err))
		return
	}
	a.mu.Lock()
	a.keys = l
	a.mu.Unlock()
	go func() {
		for range l.C {
			a.toggleRecording()
		}
	}()
}

// shutdown stops a running recording (keeping it) and the uploads.
func (a *App) shutdown(context.Context) {
	a.mu.Lock()
	keys, t := a.keys, a.tray
	a.mu.Unlock()
	a.closePickerNow()
	a.endImports()
	a.imports.Wait()
	if keys != nil {
		keys.Close()
	}
	if t != nil {
		t.Stop()
	}
	if a.studio != nil {
		a.studio.Close()
	}
}

func (a *App) warn(msg string) {
	a.log.Warn(msg)
	a.mu.Lock()
	a.warnings = append(a.warnings, msg)
	a.mu.Unlock()
	if a.ui != nil {
		a.ui.Emit(evWarning, msg)
	}
}

func (a *App) studioEvent(ev studio.Event) {
	switch ev.Kind {
	case studio.KindState:
		a.setTray(ev.State)
		a.ui.Emit(evState, ev.State)
	case studio.KindStats:
		a.ui.Emit(evStats, ev.Stats)
	case studio.KindLibrary:
		a.ui.Emit(evLibrary)
	case studio.KindUpload:
		a.ui.Emit(evUpload, ev.Upload)
	case studio.KindWarning:
		a.ui.Emit(evWarning, ev.Message)
	case studio.KindImport:
		a.ui.Emit(evImport, ev.Import)
	}
}

func (a *App) setTray(state string) {
	a.mu.Lock()
	t := a.tray
	a.mu.Unlock()
	if t == nil {
		return
	}
	switch state {
	case studio.StateRecording, studio.StateStopping:
		t.SetState(tray.Recording)
	case studio.StatePaused:
		t.SetState(tray.Paused)
	default:
		t.SetState(tray.Idle)
	}
}

// toggleRecording is the tray's and the hotkey's Start/Stop.
func (a *App) toggleRecording() {
	if a.studio == nil {
		return
	}
	switch a.studio.State() {
	case studio.StateStopping:
		return // a second press while saving must not start another
	case studio.StateRecording, studio.StatePaused:
		_ = a.StopRecording()
		return
	}
	if err := a.StartRecording(); err != nil {
		a.warn(err.Error())
	}
}

func (a *App) requireStudio() error {
	if a.studio == nil {
		return errors.New("recording is not available; see the warning at the top of the window")
	}
	return nil
}

// Version is the app version shown in the window's header.
func (a *App) Version() string { return cli.Version }

// Warnings returns what went wrong at start-up (tray, hotkey, queue), as
// sentences.
func (a *App) Warnings() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.warnings...)
}

// GetSettings returns the saved settings, or the defaults.
func (a *App) GetSettings() (settings.Settings, error) { return a.settings.Load() }

// SaveSettings validates and saves the settings, then uploads with them
// and registers the hotkey.
func (a *App) SaveSettings(s settings.Settings) error {
	s.Hotkey = strings.TrimSpace(s.Hotkey)
	if s.Hotkey != "" {
		h, err := hotkey.Parse(s.Hotkey)
		if err != nil {
			return fmt.Errorf("the shortcut %q is not valid: %w", s.Hotkey, err)
		}
		s.Hotkey = h.String()
	}
	old, _ := a.settings.Load()
	s.ServerURL = strings.TrimRight(strings.TrimSpace(s.ServerURL), "/")
	if err := s.Validate(); err != nil {
		return err
	}
	if old.StartAtLogin != s.StartAtLogin {
		exe, err := autostart.Executable()
		if err == nil {
			err = autostart.Set(s.StartAtLogin, exe)
		}
		if err != nil {
			return fmt.Errorf("could not change starting at login: %w", err)
		}
	}
	if err := a.settings.Save(s); err != nil {
		return err
	}
	if a.studio != nil {
		if err := a.studio.Reconfigure(); err != nil {
			a.log.Info("not uploading", "reason", err)
		}
	}
	if old.Hotkey != s.Hotkey && a.ui != nil {
		a.registerHotkey()
	}
	return nil
}

// HasDeviceToken says whether a device token is set (the token itself never
// goes to the window).
func (a *App) HasDeviceToken() bool {
	t, err := a.settings.DeviceToken()
	return err == nil && t != ""
}

// SaveDeviceToken saves the token this device uploads with and starts
// uploading.
func (a *App) SaveDeviceToken(token string) error {
	if err := a.settings.SaveDeviceToken(token); err != nil {
		return err
	}
	if a.studio != nil {
		if err := a.studio.Reconfigure(); err != nil {
			return fmt.Errorf("the token is saved, but uploading cannot start: %w", err)
		}
	}
	return nil
}

// SignIn starts the device sign-in and returns at once: the code to check
// comes as signin:code (and the approval page opens in the browser), the
// result as signin:done or signin:error.
func (a *App) SignIn() error {
	if err := a.requireStudio(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	a.mu.Lock()
	if a.signOut != nil {
		a.signOut()
	}
	a.signOut = cancel
	a.mu.Unlock()
	go func() {
		defer cancel()
		host, _ := os.Hostname()
		name := "Framecast"
		if host != "" {
			name += " on " + host
		}
		who, err := a.studio.SignIn(ctx, name, func(c studio.SignInCode) {
			a.ui.Emit(evSignIn, c)
			a.ui.OpenURL(c.URL)
		})
		if err != nil {
			a.ui.Emit(evSignFail, err.Error())
			return
		}
		a.ui.Emit(evSignedIn, who)
	}()
	return nil
}

// CancelSignIn stops waiting for a sign-in.
func (a *App) CancelSignIn() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.signOut != nil {
		a.signOut()
		a.signOut = nil
	}
}

// StartRecording starts recording what the source picker chose (saved in
// the settings), with the quality settings; progress comes as
// recording:state and recording:stats events.
func (a *App) StartRecording() error {
	if err := a.requireStudio(); err != nil {
		return err
	}
	a.closePickerNow()
	st, err := a.settings.Load()
	if err != nil {
		return err
	}
	return a.studio.Start(a.ctx, studio.OptionsFrom(st))
}

// StopRecording stops the recording and returns at once; the outcome comes
// as a recording:stopped event (and a notification, with the link copied).
func (a *App) StopRecording() error {
	if err := a.requireStudio(); err != nil {
		return err
	}
	a.mu.Lock()
	if a.stopping {
		a.mu.Unlock()
		return nil
	}
	a.stopping = true
	a.mu.Unlock()
	go func() {
		defer func() {
			a.mu.Lock()
			a.stopping = false
			a.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := a.studio.Stop(ctx)
		if err != nil {
			a.log.Warn("stop recording", "err", err)
			a.ui.Emit(evStopFail, err.Error())
			if out.Recording == "" {
				return
			}
		}
		a.stopped(out)
	}()
	return nil
}

func (a *App) stopped(out studio.Outcome) {
	title, body := "Saved offline", "Saved offline; it will upload when the server is reachable."
	if out.ShareURL != "" {
		title, body = "Link ready — copied", out.ShareURL
		if err := a.ui.SetClipboard(out.ShareURL); err != nil {
			a.log.Warn("copy the link", "err", err)
			title = "Link ready"
		}
	} else if out.Message != "" {
		body = out.Message
	}
	if err := notify.Send(title, body); err != nil {
		a.log.Info("no notification", "err", err)
	}
	a.ui.Emit(evStopped, out)
}

// TogglePause pauses or resumes; it says whether the recording is now paused.
func (a *App) TogglePause() (bool, error) {
	if err := a.requireStudio(); err != nil {
		return false, err
	}
	return a.studio.TogglePause()
}

// CancelRecording ends the recording and throws it away.
func (a *App) CancelRecording() error {
	if err := a.requireStudio(); err != nil {
		return err
	}
	go func() {
		if err := a.studio.Cancel(); err != nil {
			a.ui.Emit(evStopFail, err.Error())
		}
	}()
	return nil
}

// RecordingState is the current state: idle, recording, paused or stopping.
func (a *App) RecordingState() string {
	if a.studio == nil {
		return studio.StateIdle
	}
	return a.studio.State()
}

// ListRecordings returns the library, newest first.
func (a *App) ListRecordings() ([]studio.Recording, error) {
	if err := a.requireStudio(); err != nil {
		return nil, err
	}
	return a.studio.Recordings(a.ctx)
}

// CopyLink puts a share link on the clipboard.
func (a *App) CopyLink(url string) error {
	if err := a.ui.SetClipboard(url); err != nil {
		return fmt.Errorf("could not copy the link: %w", err)
	}
	return nil
}

// OpenLink opens a share link in the browser.
func (a *App) OpenLink(url string) error {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return errors.New("only web links can be opened")
	}
	a.ui.OpenURL(url)
	return nil
}

// DeleteLocal deletes the local copy of an uploaded recording.
func (a *App) DeleteLocal(id string) error {
	if err := a.requireStudio(); err != nil {
		return err
	}
	return a.studio.DeleteLocal(a.ctx, id)
}

// Retry uploads a waiting or failed recording again now.
func (a *App) Retry(id string) error {
	if err := a.requireStudio(); err != nil {
		return err
	}
	return a.studio.Retry(a.ctx, id)
}

// SendFailure is why a send by e-mail failed, for the window.
type SendFailure struct {
	Recording string `json:"recording"`
	Message   string `json:"message"`
}

// SendVideo mails an uploaded recording to recipients and returns at once:
// the result comes as send:done (studio.Sent) or send:error (SendFailure),
// so a slow mail server never freezes the window.
func (a *App) SendVideo(id string, recipients []string, note string) error {
	if err := a.requireStudio(); err != nil {
		return err
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sent, err := a.studio.SendVideo(ctx, id, recipients, note)
		if err != nil {
			a.ui.Emit(evSendFail, SendFailure{Recording: id, Message: err.Error()})
			return
		}
		a.ui.Emit(evSent, sent)
	}()
	return nil
}
