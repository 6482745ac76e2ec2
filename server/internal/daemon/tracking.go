package daemon

import (
	"errors"
	"log/slog"
	"os"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
)

// newTracking opens the location database (a missing one only costs the
// locations) and starts the viewer-event service.
func newTracking(cfg *config.Config, log *slog.Logger, st store.Store, firstView func(string)) (*track.Service, *track.Geo) {
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
	return track.New(track.Config{Store: st, Geo: geo, Log: log, FirstView: firstView}), geo
}
