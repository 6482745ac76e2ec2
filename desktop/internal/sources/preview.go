package sources

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"sync"
	"time"

	"framecast.dev/desktop/internal/capture/audio"
)

// Levels are the sound levels since the previous report, in dBFS (-90 is
// silence or no source).
type Levels struct {
	Mic    float64 `json:"micDb"`
	System float64 `json:"systemDb"`
}

// Audio says which sources the meters listen to, with the settings'
// meaning: Mic "" is the default microphone, "none" none, else a device
// id; System off, or the default monitor (SystemDevice "") or a device id.
type Audio struct {
	Mic          string `json:"mic"`
	System       bool   `json:"systemAudio"`
	SystemDevice string `json:"systemAudioDevice"`
}

// PreviewConfig is what a Preview reports to. Callbacks run on the
// preview's goroutines and must return quickly.
type PreviewConfig struct {
	// Interval between thumbnails of every screen (default 1 s).
	Interval time.Duration
	// MaxWidth of a thumbnail (default 320 pixels).
	MaxWidth    int
	Audio       Audio
	OnList      func(List)
	OnThumbnail func(Thumbnail)
	OnLevels    func(Levels)
	// OnError gets a sentence for a source that cannot be previewed.
	OnError func(string)
	Log     *slog.Logger
}

// Preview runs while the picker is open: thumbnails every Interval and
// sound levels ten times a second. Close ends it and releases the devices.
type Preview struct {
	cfg    PreviewConfig
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex // held while devices open and close
	actx *audio.Context
	srcs []*audio.Source

	// levelMu is apart from mu: closing a device waits for its callback,
	// which takes levelMu, so it must never wait for mu.
	levelMu sync.Mutex
	peaks   [2]float32 // mic, system since the last report
}

// StartPreview lists the sources and starts reporting; it returns at once.
func StartPreview(cfg PreviewConfig) *Preview {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.MaxWidth <= 0 {
		cfg.MaxWidth = 320
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.OnError == nil {
		cfg.OnError = func(string) {}
	}
	if cfg.OnList == nil {
		cfg.OnList = func(List) {}
	}
	if cfg.OnThumbnail == nil {
		cfg.OnThumbnail = func(Thumbnail) {}
	}
	if cfg.OnLevels == nil {
		cfg.OnLevels = func(Levels) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Preview{cfg: cfg, cancel: cancel, done: make(chan struct{})}
	go p.run(ctx)
	return p
}

func (p *Preview) run(ctx context.Context) {
	defer close(p.done)
	list := List{Screens: []Screen{}, Audio: audio.Devices{Microphones: []audio.Device{}, System: []audio.Device{}}, Errors: []string{}}
	screens, _, err := Screens()
	if err != nil {
		list.Errors = append(list.Errors, fmt.Sprintf("The screens cannot be listed: %v", err))
	} else {
		list.Screens = screens
	}
	actx, err := audio.NewContext(p.cfg.Log)
	if err != nil {
		list.Errors = append(list.Errors, fmt.Sprintf("Sound devices are not available: %v", err))
	} else if devs, err := actx.Devices(); err != nil {
		list.Errors = append(list.Errors, fmt.Sprintf("Sound devices cannot be listed: %v", err))
	} else {
		list.Audio = devs
	}
	p.mu.Lock()
	p.actx = actx
	want := p.cfg.Audio
	p.mu.Unlock()
	p.cfg.OnList(list)
	if ctx.Err() == nil {
		p.SetAudio(want)
	}

	thumbs := time.NewTicker(p.cfg.Interval)
	defer thumbs.Stop()
	levels := time.NewTicker(100 * time.Millisecond)
	defer levels.Stop()
	p.grabAll(ctx, screens)
	for {
		select {
		case <-ctx.Done():
			return
		case <-thumbs.C:
			p.grabAll(ctx, screens)
		case <-levels.C:
			p.levelMu.Lock()
			l := Levels{Mic: audio.DBFS(p.peaks[0]), System: audio.DBFS(p.peaks[1])}
			p.peaks = [2]float32{}
			p.levelMu.Unlock()
			p.cfg.OnLevels(l)
		}
	}
}

func (p *Preview) grabAll(ctx context.Context, screens []Screen) {
	for _, s := range screens {
		if ctx.Err() != nil {
			return
		}
		rect := image.Rect(s.X, s.Y, s.X+s.Width, s.Y+s.Height)
		t, err := Grab(rect, p.cfg.MaxWidth)
		if err != nil {
			p.cfg.Log.Debug("thumbnail", "screen", s.Index, "err", err)
			continue
		}
		t.Index = s.Index
		p.cfg.OnThumbnail(t)
	}
}

// SetAudio switches the meters to other sources. A source that cannot be
// opened is reported through OnError and its meter stays at silence.
func (p *Preview) SetAudio(a Audio) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.Audio = a
	for _, s := range p.srcs {
		s.Close()
	}
	p.srcs = nil
	p.levelMu.Lock()
	p.peaks = [2]float32{}
	p.levelMu.Unlock()
	if p.actx == nil {
		return
	}
	open := func(kind audio.Kind, id string, slot int) {
		s, err := p.actx.Open(kind, id, func(c audio.Chunk) {
			p.levelMu.Lock()
			p.peaks[slot] = float32(math.Max(float64(p.peaks[slot]), float64(c.Peak)))
			p.levelMu.Unlock()
		}, nil)
		if err == nil {
			err = s.Start()
		}
		if err != nil {
			if s != nil {
				s.Close()
			}
			if kind == audio.Microphone && id == "" && errors.Is(err, audio.ErrNoDevice) {
				p.cfg.OnError("No microphone is connected, so recordings have no voice; plug one in or pick another source.")
				return
			}
			p.cfg.OnError(fmt.Sprintf("The %s cannot be previewed: %v", kind, err))
			return
		}
		p.srcs = append(p.srcs, s)
	}
	if a.Mic != "none" {
		open(audio.Microphone, a.Mic, 0)
	}
	if a.System {
		open(audio.System, a.SystemDevice, 1)
	}
}

// Close stops the preview and releases the screens and sound devices; it
// returns once nothing more is reported.
func (p *Preview) Close() {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.srcs {
		s.Close()
	}
	p.srcs = nil
	if p.actx != nil {
		p.actx.Close()
		p.actx = nil
	}
}
