package encode

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// ErrNoFFmpeg means ffmpeg is not installed where Framecast looks.
var ErrNoFFmpeg = errors.New("ffmpeg not found")

// Locate finds the ffmpeg executable: path when given, else
// $FRAMECAST_FFMPEG, else one next to the framecast executable (how the
// desktop app bundles it), else the PATH.
func Locate(path string) (string, error) {
	if path == "" {
		path = os.Getenv("FRAMECAST_FFMPEG")
	}
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", fmt.Errorf("%w at %s: %v", ErrNoFFmpeg, path, err)
		}
		return p, nil
	}
	name := "ffmpeg"
	if runtime.GOOS == "windows" {
		name = "ffmpeg.exe"
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", fmt.Errorf("%w: install it (Debian/Ubuntu: sudo apt install ffmpeg; macOS: brew install ffmpeg; Windows: winget install ffmpeg) or set FRAMECAST_FFMPEG to its path", ErrNoFFmpeg)
	}
	return p, nil
}
