package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Limits of videos uploaded whole from the dashboard (media imports),
// appended to Settings here so the table stays in one place per feature.
func init() {
	Settings = append(Settings, importSettings...)
}

var importSettings = []Setting{
	{
		Name: "max-upload-bytes", Env: "FRAMECAST_MAX_UPLOAD_BYTES", Default: "5368709120",
		Description: "Largest video file accepted from the dashboard's upload (5 GiB by default).",
		get:         func(c *Config) string { return strconv.FormatInt(c.MaxUploadBytes, 10) },
		set:         func(c *Config, v string) error { return setSize(&c.MaxUploadBytes, v) },
	},
	{
		Name: "upload-max-resolution", Env: "FRAMECAST_UPLOAD_MAX_RESOLUTION", Default: "3840x2160",
		Description: "Largest picture of an uploaded video, long side x short side (portrait videos are held to the same limit).",
		get: func(c *Config) string {
			return strconv.Itoa(c.UploadMaxLong) + "x" + strconv.Itoa(c.UploadMaxShort)
		},
		set: func(c *Config, v string) error {
			a, b, ok := strings.Cut(strings.ToLower(v), "x")
			w, err1 := strconv.Atoi(a)
			h, err2 := strconv.Atoi(b)
			if !ok || err1 != nil || err2 != nil || w < 16 || h < 16 || w > 16384 || h > 16384 {
				return errors.New("want WIDTHxHEIGHT such as 3840x2160")
			}
			c.UploadMaxLong, c.UploadMaxShort = max(w, h), min(w, h)
			return nil
		},
	},
	{
		Name: "upload-max-duration", Env: "FRAMECAST_UPLOAD_MAX_DURATION", Default: "4h",
		Description: "Longest uploaded video accepted.",
		get:         func(c *Config) string { return c.UploadMaxDuration.String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return errors.New("want a duration such as 4h or 90m")
			}
			c.UploadMaxDuration = d
			return nil
		},
	},
	{
		Name: "upload-max-streams", Env: "FRAMECAST_UPLOAD_MAX_STREAMS", Default: "8",
		Description: "Most streams (video, sound, subtitles, ...) an uploaded file may hold.",
		get:         func(c *Config) string { return strconv.Itoa(c.UploadMaxStreams) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 100 {
				return errors.New("want a number from 1 to 100")
			}
			c.UploadMaxStreams = n
			return nil
		},
	},
}
