//go:build !windows && !darwin

package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// dir is $XDG_CONFIG_HOME/autostart, else ~/.config/autostart (the XDG
// Autostart specification).
func dir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "autostart"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("start at login: find the home folder: %w", err)
	}
	return filepath.Join(home, ".config", "autostart"), nil
}

// File is the path of the autostart entry.
func File() (string, error) {
	d, err := dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, Name+".desktop"), nil
}

// quoteExec quotes a path for a .desktop Exec line: inside double quotes,
// `"`, "`", "$" and "\" take a backslash, and "%" doubles (field codes).
func quoteExec(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`, "%", "%%")
	return `"` + r.Replace(p) + `"`
}

func enable(exe string) error {
	path, err := File()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	body := "[Desktop Entry]\nType=Application\nName=Framecast\nComment=Record your screen and share it as a link\n" +
		"Exec=" + quoteExec(exe) + "\nIcon=framecast\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		return fmt.Errorf("start at login: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("start at login: %w", err)
	}
	return nil
}

func disable() error {
	path, err := File()
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stop starting at login: %w", err)
	}
	return nil
}

func enabled() (bool, error) {
	path, err := File()
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// A user (or the desktop's settings) may switch an entry off without
	// deleting it.
	return !strings.Contains(string(b), "Hidden=true") && !strings.Contains(string(b), "X-GNOME-Autostart-enabled=false"), nil
}
