// Package settings keeps the desktop app's user settings in a JSON file in
// the user's config folder.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// DefaultServerURL is where `make run` starts the server.
const DefaultServerURL = "http://127.0.0.1:8080"

// Settings are what the user chooses in the Settings screen.
type Settings struct {
	ServerURL string `json:"serverURL"`
	// Hotkey starts and stops recording, e.g. "Ctrl+Shift+R"; "" is the
	// default (hotkey.Default).
	Hotkey string `json:"hotkey,omitempty"`
}

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
