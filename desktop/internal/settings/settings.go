// Package settings keeps the desktop app's user settings in a JSON file in
// the user's config folder.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"framecast.dev/shared/api"
)

// DefaultServerURL is where `make run` starts the server.
const DefaultServerURL = "http://127.0.0.1:8080"

// Settings are what the user chooses in the Settings screen.
type Settings struct {
	ServerURL string `json:"serverURL"`
	// Hotkey starts and stops recording, e.g. "Ctrl+Shift+R"; "" is the
	// default (hotkey.Default).
	Hotkey string `json:"hotkey,omitempty"`

	// What to record (the source picker's choice; the tray and the hotkey
	// record the same). Display is capture's index; Region, when set, is
	// a rectangle in desktop pixels and wins over Display. Mic is "" for
	// the default microphone, "none", or a device id; SystemAudioDevice ""
	// is the default output's monitor.
	Display           int     `json:"display"`
	Region            *Region `json:"region,omitempty"`
	Mic               string  `json:"mic,omitempty"`
	SystemAudio       bool    `json:"systemAudio"`
	SystemAudioDevice string  `json:"systemAudioDevice,omitempty"`

	// Quality: MaxHeight scales taller screens down (0 is 1080, -1 keeps
	// the screen's size); FPS 0 is 30.
	MaxHeight int `json:"maxHeight,omitempty"`
	FPS       int `json:"fps,omitempty"`

	// StartAtLogin opens Framecast when the user logs in.
	StartAtLogin bool `json:"startAtLogin"`
	// Tracking is the viewer-tracking level new videos are created with:
	// api.TrackingFull, TrackingAnonymous or TrackingOff; "" leaves it to
	// the account's default on the server.
	Tracking string `json:"tracking,omitempty"`
	// Theme is "system" (or ""), "light" or "dark".
	Theme string `json:"theme,omitempty"`
}

// Region is a rectangle of the desktop, in pixels.
type Region struct {
	X      int `json:"x"`
	Y      int `json:"y"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Rect is r as an image.Rectangle; nil is the empty rectangle.
func (r *Region) Rect() image.Rectangle {
	if r == nil {
		return image.Rectangle{}
	}
	return image.Rect(r.X, r.Y, r.X+r.Width, r.Y+r.Height)
}

// Choices the Settings screen offers.
var (
	MaxHeights = []int{0, 720, 1080, 1440, 2160, -1}
	FrameRates = []int{0, 15, 24, 30, 60}
	Trackings  = []string{"", api.TrackingFull, api.TrackingAnonymous, api.TrackingOff}
	Themes     = []string{"", "system", "light", "dark"}
)

// MinRegionSide is the smallest region side worth recording: smaller is
// a click that slipped, not a choice.
const MinRegionSide = 16

// fileContents is settings.json: the settings plus the device token, which
// is kept out of Settings so the window's script, which gets and puts
// Settings whole, never holds it and cannot drop it by saving.
type fileContents struct {
	Settings
	DeviceToken string `json:"deviceToken,omitempty"`
}

// MinDeviceTokenLen is the shortest token the server accepts.
const MinDeviceTokenLen = 16

// Validate returns an error sentence that tells the user what to fix.
func (s Settings) Validate() error {
	u, err := url.Parse(strings.TrimSpace(s.ServerURL))
	if err != nil || u.Host == "" {
		return fmt.Errorf("the server address %q is not a full address such as https://framecast.example.com", s.ServerURL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("the server address must start with http:// or https://")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("the server address cannot contain ? or #")
	}
	if s.Display < 0 {
		return fmt.Errorf("display %d does not exist; pick a screen in the source picker", s.Display)
	}
	if r := s.Region; r != nil && (r.Width < MinRegionSide || r.Height < MinRegionSide) {
		return fmt.Errorf("the region %dx%d is too small; drag a rectangle at least %d pixels on each side", r.Width, r.Height, MinRegionSide)
	}
	if !slices.Contains(MaxHeights, s.MaxHeight) {
		return fmt.Errorf("the resolution limit %d is not one of 720, 1080, 1440, 2160 or the screen's own", s.MaxHeight)
	}
	if !slices.Contains(FrameRates, s.FPS) {
		return fmt.Errorf("the frame rate %d is not one of 15, 24, 30 or 60", s.FPS)
	}
	if !slices.Contains(Trackings, s.Tracking) {
		return fmt.Errorf("the tracking level %q is not one of full, anonymous or off", s.Tracking)
	}
	if !slices.Contains(Themes, s.Theme) {
		return fmt.Errorf("the theme %q is not one of system, light or dark", s.Theme)
	}
	return nil
}

// Dir returns the folder for Framecast's local state: FRAMECAST_CONFIG_DIR
// when set (tests, portable installs), else <user config dir>/framecast.
func Dir() (string, error) {
	if d := os.Getenv("FRAMECAST_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user config folder: %w", err)
	}
	return filepath.Join(base, "framecast"), nil
}

// Store reads and writes settings.json in one folder.
type Store struct {
	path string
}

// NewStore returns a store for dir/settings.json; nothing is read yet.
func NewStore(dir string) *Store {
	return &Store{path: filepath.Join(dir, "settings.json")}
}

// Load returns the saved settings, or the defaults when none are saved yet.
// FRAMECAST_SERVER_URL overrides the saved server address (used by `make run`).
func (s *Store) Load() (Settings, error) {
	f, err := s.read()
	if env := os.Getenv("FRAMECAST_SERVER_URL"); env != "" && err == nil {
		f.ServerURL = env
	}
	return f.Settings, err
}

func (s *Store) read() (fileContents, error) {
	out := fileContents{Settings: Settings{ServerURL: DefaultServerURL}}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return out, fmt.Errorf("read settings: %w", err)
	default:
		if err := json.Unmarshal(b, &out); err != nil {
			return fileContents{Settings: Settings{ServerURL: DefaultServerURL}}, fmt.Errorf("settings file %s is damaged (%v); fix or delete it", s.path, err)
		}
	}
	return out, nil
}

// Save validates and atomically replaces the settings, keeping the saved
// device token.
func (s *Store) Save(v Settings) error {
	v.ServerURL = strings.TrimRight(strings.TrimSpace(v.ServerURL), "/")
	if err := v.Validate(); err != nil {
		return err
	}
	f, err := s.read()
	if err != nil {
		return err
	}
	f.Settings = v
	return s.write(f)
}

// DeviceToken returns the bearer token for the sync API:
// FRAMECAST_DEVICE_TOKEN when set, else the saved one, else "". It is a
// secret: never log or print it.
func (s *Store) DeviceToken() (string, error) {
	if env := os.Getenv("FRAMECAST_DEVICE_TOKEN"); env != "" {
		return env, nil
	}
	f, err := s.read()
	return f.DeviceToken, err
}

// SaveDeviceToken stores the device token in the settings file (mode
// 0600). An empty token removes it.
func (s *Store) SaveDeviceToken(token string) error {
	token = strings.TrimSpace(token)
	if token != "" && len(token) < MinDeviceTokenLen {
		return fmt.Errorf("the device token is too short (%d characters); copy the whole token the server gave you (at least %d)", len(token), MinDeviceTokenLen)
	}
	for _, c := range token {
		if c <= ' ' || c == 0x7f {
			return errors.New("the device token contains spaces or control characters; copy it again without them")
		}
	}
	f, err := s.read()
	if err != nil {
		return err
	}
	f.DeviceToken = token
	return s.write(f)
}

func (s *Store) write(v fileContents) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("create settings folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".settings-*.json")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes it 0600 already; said again because the file holds
	// the device token and must stay readable by this user only.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}
