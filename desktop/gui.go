//go:build desktop

package main

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"framecast.dev/desktop/internal/settings"
)

// notBuilt is shown when the binary was built without `make frontend`.
const notBuilt = `<!doctype html><meta charset="utf-8"><title>Framecast</title>
<body style="margin:0;font-family:sans-serif"><p style="padding:16px">Framecast's UI was not built into this binary. Run <code>make build</code>.</p>`

func runGUI(assets fs.FS) int {
	dir, err := settings.Dir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "framecast:", err)
		return 1
	}
	app := newApp(settings.NewStore(dir))

	serve := &assetserver.Options{}
	if ui, err := fs.Sub(assets, "dist/ui"); err == nil && exists(ui, "index.html") {
		serve.Assets = ui
		// Asked for what is not among the UI's files: the thumbnails.
		serve.Handler = http.HandlerFunc(app.thumbnails)
	} else {
		slog.Warn("UI not built into this binary; showing a placeholder")
		serve.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, notBuilt)
		})
	}

	err = wails.Run(&options.App{
		Title:            "Framecast",
		Width:            1024,
		Height:           720,
		MinWidth:         640,
		MinHeight:        480,
		AssetServer:      serve,
		BackgroundColour: &options.RGBA{R: 255, G: 255, B: 255, A: 255},
		OnStartup:        func(ctx context.Context) { app.startup(ctx, wailsShell{ctx}, dir) },
		OnShutdown:       app.shutdown,
		Bind:             []any{app},
		Linux: &linux.Options{
			ProgramName: "framecast",
			// Software rendering: GPU paths fail under Xvfb and on many VMs.
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "framecast:", err)
		return 1
	}
	return 0
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// wailsShell is the window toolkit as the app sees it.
type wailsShell struct{ ctx context.Context }

func (w wailsShell) Emit(name string, data ...any)  { runtime.EventsEmit(w.ctx, name, data...) }
func (w wailsShell) SetClipboard(text string) error { return runtime.ClipboardSetText(w.ctx, text) }
func (w wailsShell) OpenURL(url string)             { runtime.BrowserOpenURL(w.ctx, url) }
func (w wailsShell) ShowWindow()                    { runtime.WindowShow(w.ctx) }
func (w wailsShell) PickFile(title, filterName, patterns string) (string, error) {
	return runtime.OpenFileDialog(w.ctx, runtime.OpenDialogOptions{Title: title,
		Filters: []runtime.FileFilter{{DisplayName: filterName, Pattern: patterns}}})
}
func (w wailsShell) Quit() { runtime.Quit(w.ctx) }
