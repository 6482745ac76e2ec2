package main

import (
	"context"

	"framecast.dev/desktop/internal/cli"
	"framecast.dev/desktop/internal/settings"
)

// App is the surface the window's JavaScript calls (bound by Wails). It only
// translates between the UI and plain Go packages that know nothing of Wails.
type App struct {
	ctx      context.Context
	settings *settings.Store
}

func newApp(store *settings.Store) *App { return &App{settings: store} }

func (a *App) startup(ctx context.Context) { a.ctx = ctx }

// Version is the app version shown in the window's header.
func (a *App) Version() string { return cli.Version }

// GetSettings returns the saved settings, or the defaults.
func (a *App) GetSettings() (settings.Settings, error) { return a.settings.Load() }

// SaveSettings validates and saves the settings.
func (a *App) SaveSettings(s settings.Settings) error { return a.settings.Save(s) }
