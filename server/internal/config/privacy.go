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
	// AdminEmails are the (lower-cased) addresses of the server's
	// administrators, who publish privacy policy versions.
	AdminEmails []string

	// How long the daily retention job keeps things (see privacy.Retention).
	RetainUsage, RetainSupport, RetainUnverified, RetainUploads, RetainJobs time.Duration
}

// The privacy settings are appended to Settings here, so the privacy
// centre's settings stay in one file.
func init() {
	Settings = append(Settings, privacySettings...)
}

var privacySettings = []Setting{
	daysSetting("retain-usage", "FRAMECAST_RETAIN_USAGE", "730d",
		"How long usage history is kept: sign-in records, and viewers' per-view rows and daily counts. The daily retention job deletes older rows.",
		func(c *Config) *time.Duration { return &c.Privacy.RetainUsage }),
	daysSetting("retain-support", "FRAMECAST_RETAIN_SUPPORT", "182d",
		"How long messages sent with the contact-support form are kept after their author's account is deleted.",
		func(c *Config) *time.Duration { return &c.Privacy.RetainSupport }),
	daysSetting("retain-unverified", "FRAMECAST_RETAIN_UNVERIFIED", "30d",
		"How long an account whose e-mail address was never confirmed is kept before it is deleted.",
		func(c *Config) *time.Duration { return &c.Privacy.RetainUnverified }),
	daysSetting("retain-uploads", "FRAMECAST_RETAIN_UPLOADS", "7d",
		"How long the received part of an abandoned upload (a segment cut off mid-way, a dashboard file upload never finished) is kept without progress. A desktop that comes back resends the segment whole.",
		func(c *Config) *time.Duration { return &c.Privacy.RetainUploads }),
	daysSetting("retain-jobs", "FRAMECAST_RETAIN_JOBS", "30d",
		"How long finished background jobs (processing, mail, exports) stay in the jobs table. Failed processing jobs stay while their video does, so its owner can retry them.",
		func(c *Config) *time.Duration { return &c.Privacy.RetainJobs }),
	daysSetting("export-ttl", "FRAMECAST_EXPORT_TTL", "7d",
		"How long the download link of a data export (\"Download my data\", workspace exports) works; the file is deleted when it expires.",
		func(c *Config) *time.Duration { return &c.Privacy.ExportTTL }),
	{
		Name: "admin-emails", Env: "FRAMECAST_ADMIN_EMAILS", Default: "unset: nobody", NoDefault: true,
		Description: "Comma-separated e-mail addresses of the server's administrators (confirmed accounts), who publish new privacy policy versions at /admin/policy.",
		get:         func(c *Config) string { return strings.Join(c.Privacy.AdminEmails, ",") },
		set: func(c *Config, v string) error {
			c.Privacy.AdminEmails = nil
			for part := range strings.SplitSeq(v, ",") {
				part = strings.ToLower(strings.TrimSpace(part))
				if part == "" {
					continue
				}
				if !strings.Contains(part, "@") || strings.ContainsAny(part, " <>") {
					return errors.New("want e-mail addresses separated by commas")
				}
				c.Privacy.AdminEmails = append(c.Privacy.AdminEmails, part)
			}
			return nil
		},
	},
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
