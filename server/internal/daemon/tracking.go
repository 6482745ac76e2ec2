package daemon

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
	"framecast.dev/shared/seal"
)

// newTracking opens the location database (a missing one only costs the
// locations) and starts the viewer-event service.
func newTracking(cfg *config.Config, log *slog.Logger, st store.Store, kek seal.Key, firstView func(string), send func(mail.Message)) (*track.Service, *track.Geo) {
	var geo *track.Geo
	if cfg.GeoIPDB != "" {
		g, err := track.OpenGeo(cfg.GeoIPDB)
		switch {
		case err == nil:
			geo = g
			log.Info("viewer locations from", "files", g.Files())
		case errors.Is(err, os.ErrNotExist):
			log.Warn("no location database: viewer analytics will have no countries or cities (run make setup, or set FRAMECAST_GEOIP_DB)", "path", cfg.GeoIPDB)
		default:
			log.Warn("the location database cannot be read: viewer analytics will have no countries or cities", "err", err)
		}
	}
	// Recipients' unsubscribe links are signed with a key every replica
	// derives from the KEK.
	key, err := hkdf.Key(sha256.New, kek[:], nil, "framecast recipient unsubscribe v1", 32)
	if err != nil {
		panic(fmt.Sprintf("derive the unsubscribe key: %v", err)) // only for a bad hash or length
	}
	return track.New(track.Config{Store: st, Geo: geo, Log: log, FirstView: firstView, Mail: send,
		UnsubscribeKey: key, BaseURL: cfg.BaseURL}), geo
}

// firstViewMail tells a video's owner, if they asked for it, that it was
// watched for the first time. It says nothing about the viewer.
func (d *Daemon) firstViewMail(videoID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := d.store.Video(ctx, videoID)
	if err != nil || v.OwnerID == "" {
		return
	}
	_, notify, err := d.store.AccountTracking(ctx, v.OwnerID)
	if err != nil || !notify {
		return
	}
	u, err := d.store.User(ctx, v.OwnerID)
	if err != nil {
		d.log.Warn("first-view mail: owner", "video_id", videoID, "err", err)
		return
	}
	// Informational mail: not to owners who turned it off or restricted
	// processing, and with one-click unsubscribe (privacy centre).
	if ok, err := d.privacy.MayMailOptional(ctx, u.ID); err != nil || !ok {
		return
	}
	title := share.DisplayTitle(v)
	d.accounts.Notify(mail.Message{To: u.Email, UserID: u.ID, Kind: "first-view", Unsubscribe: d.privacy.UnsubscribeURL(u.ID), Subject: fmt.Sprintf("First view of “%s”", title), Text: fmt.Sprintf(
		`Hello %s,

your video “%s” was just watched for the first time.

Its analytics: %s/videos/%s/analytics

You get this mail once per video. To stop it, untick "E-mail me when a
video of mine is watched for the first time" at %s/analytics.
`, u.Name, title, d.cfg.BaseURL, v.ID, d.cfg.BaseURL)})
}
