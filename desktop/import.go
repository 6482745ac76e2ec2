package main

import (
	"context"
	"errors"
	"fmt"
)

// Events of an import.
const (
	evImport     = "import:progress" // studio.ImportProgress
	evImportFail = "import:error"    // a sentence
)

// videoPatterns are the file dialog's filter; any file can still be
// chosen, and the importer decides by its content, not its name.
var videoPatterns = "*.mp4;*.m4v;*.mov;*.webm;*.mkv;*.avi;*.MP4;*.MOV"

// ImportVideo asks for a video file and imports it into the library and
// the upload queue; it returns the chosen path ("" when the user
// cancelled) as soon as the import has started. Progress comes as
// import:progress events, a refusal or failure as import:error.
func (a *App) ImportVideo() (string, error) {
	if err := a.requireStudio(); err != nil {
		return "", err
	}
	path, err := a.ui.PickFile("Import a video", "Videos", videoPatterns)
	if err != nil {
		return "", fmt.Errorf("could not open the file dialog: %w", err)
	}
	if path == "" {
		return "", nil
	}
	return path, a.ImportFile(path)
}

// ImportFile imports the video at path; like ImportVideo it returns at
// once and reports through events.
func (a *App) ImportFile(path string) error {
	if err := a.requireStudio(); err != nil {
		return err
	}
	st, _ := a.settings.Load()
	a.imports.Add(1)
	go func() {
		defer a.imports.Done()
		if _, err := a.studio.Import(a.importCtx, path, st.Tracking); err != nil {
			if !errors.Is(err, context.Canceled) {
				a.log.Warn("import", "err", err)
			}
			a.ui.Emit(evImportFail, err.Error())
		}
	}()
	return nil
}
