// Package notify shows desktop notifications ("link ready", "saved
// offline") through the platform's notification service: DBus
// org.freedesktop.Notifications on Linux, toasts on Windows, Notification
// Center on macOS (gen2brain/beeep).
package notify

import (
	_ "embed"
	"fmt"
	"sync"

	"github.com/gen2brain/beeep"
)

//go:embed icon.png
var icon []byte

var once sync.Once

// Send shows a notification. A desktop without a notification service
// gives an error; callers log it and go on, since the window shows the
// same news.
func Send(title, body string) error {
	once.Do(func() { beeep.AppName = "Framecast" })
	if err := beeep.Notify(title, body, icon); err != nil {
		return fmt.Errorf("show notification %q: %w", title, err)
	}
	return nil
}
