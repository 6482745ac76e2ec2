package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"framecast.dev/desktop/internal/keystore"
	"framecast.dev/desktop/internal/queue"
	"framecast.dev/desktop/internal/settings"
)

// local is this device's Framecast state in the config folder: settings,
// device key and upload queue (<config dir>/queue). The window opens the
// same.
type local struct {
	dir      string
	settings *settings.Store
	keys     *keystore.Store
	q        *queue.Queue
}

// queueDir is where the upload queue of the config folder dir lives.
func queueDir(dir string) string { return filepath.Join(dir, "queue") }

func openLocal() (*local, error) {
	dir, err := settings.Dir()
	if err != nil {
		return nil, err
	}
	keys, err := keystore.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open the device key in %s: %w", dir, err)
	}
	q, err := queue.Open(queueDir(dir), keys)
	if err != nil {
		return nil, fmt.Errorf("open the upload queue in %s: %w", queueDir(dir), err)
	}
	return &local{dir: dir, settings: settings.NewStore(dir), keys: keys, q: q}, nil
}

func (l *local) Close() error { return l.q.Close() }

// server returns the sync API's address and the device token, or a
// sentence saying what to set.
func (l *local) server() (url, token string, err error) { return serverOf(l.settings) }

func serverOf(store *settings.Store) (url, token string, err error) {
	s, err := store.Load()
	if err != nil {
		return "", "", err
	}
	if err := s.Validate(); err != nil {
		return "", "", err
	}
	token, err = store.DeviceToken()
	if err != nil {
		return "", "", err
	}
	if token == "" {
		return "", "", errors.New("no device token is set: run `framecast device-token` and paste the token from the server (or set FRAMECAST_DEVICE_TOKEN)")
	}
	return s.ServerURL, token, nil
}
