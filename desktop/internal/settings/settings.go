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
}

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
	out := Settings{ServerURL: DefaultServerURL}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return out, fmt.Errorf("read settings: %w", err)
	default:
		if err := json.Unmarshal(b, &out); err != nil {
			return Settings{ServerURL: DefaultServerURL}, fmt.Errorf("settings file %s is damaged (%v); fix or delete it", s.path, err)
		}
	}
	if env := os.Getenv("FRAMECAST_SERVER_URL"); env != "" {
		out.ServerURL = env
	}
	return out, nil
}

// Save validates and atomically replaces the settings file.
func (s *Store) Save(v Settings) error {
	v.ServerURL = strings.TrimRight(strings.TrimSpace(v.ServerURL), "/")
	if err := v.Validate(); err != nil {
		return err
	}
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
