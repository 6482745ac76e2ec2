package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Privacy holds the privacy centre's settings: how long exports and
// kept data live.
type Privacy struct {
	// ExportTTL is how long a data export's download link (and its file)
	// lives after it is ready.
	ExportTTL time.Duration
}

// The privacy settings are appended to Settings here, so the privacy
// centre's settings stay in one file.
func init() {
	Settings = append(Settings, privacySettings...)
}

var privacySettings = []Setting{
	daysSetting("export-ttl", "FRAMECAST_EXPORT_TTL", "7d",
		"How long the download link of a data export (\"Download my data\", workspace exports) works; the file is deleted when it expires.",
		func(c *Config) *time.Duration { return &c.Privacy.ExportTTL }),
}

// daysSetting is a duration setting that also takes days ("30d").
func daysSetting(name, env, def, desc string, field func(*Config) *time.Duration) Setting {
	return Setting{
		Name: name, Env: env, Default: def, Description: desc,
		get: func(c *Config) string { return formatDays(*field(c)) },
		set: func(c *Config, v string) error {
			d, err := parseDays(v)
			if err != nil {
				return err
			}
			*field(c) = d
			return nil
		},
	}
}

// parseDays reads "30d" (days) or a Go duration ("12h", "90m").
func parseDays(v string) (time.Duration, error) {
	bad := errors.New("want a positive duration such as 30d, 12h or 90m")
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 100*365 {
			return 0, bad
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

func formatDays(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}
