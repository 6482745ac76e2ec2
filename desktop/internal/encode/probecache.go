package encode

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// The hardware probe runs a test encode per candidate (about a second in
// all); its answer is kept for a day per ffmpeg binary, so starting a
// recording from the CLI stays quick. A new driver shows up the next day,
// or at once after deleting the cache file.
const probeTTL = 24 * time.Hour

type probeCache struct {
	FFmpeg   string    `json:"ffmpeg"`
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"modTime"`
	Checked  time.Time `json:"checked"`
	Encoders []string  `json:"encoders"`
}

func probeCachePath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "framecast", "hardware-encoders.json")
}

func readProbeCache(ffmpeg string) ([]string, bool) {
	p := probeCachePath()
	st, err := os.Stat(ffmpeg)
	if p == "" || err != nil || os.Getenv("FRAMECAST_NO_PROBE_CACHE") != "" {
		return nil, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, false
	}
	var c probeCache
	if json.Unmarshal(b, &c) != nil || c.FFmpeg != ffmpeg || c.Size != st.Size() ||
		!c.ModTime.Equal(st.ModTime()) || time.Since(c.Checked) > probeTTL {
		return nil, false
	}
	return c.Encoders, true
}

func writeProbeCache(ffmpeg string, names []string) {
	p := probeCachePath()
	st, err := os.Stat(ffmpeg)
	if p == "" || err != nil {
		return
	}
	b, err := json.Marshal(probeCache{FFmpeg: ffmpeg, Size: st.Size(), ModTime: st.ModTime(), Checked: time.Now(), Encoders: names})
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return
	}
	tmp := p + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, p)
	}
}
