// Package track records what viewers of a share page do (a view starts,
// seconds are watched, the end is reached, a button is clicked) as far as
// the owner's level and the viewer's signals allow, and reads it back as
// the owner's analytics.
//
// Levels (the owner's choice: an account default and a per-video
// override; store.TrackDefault when never chosen):
//
//   - Full: the aggregates below and one row per view (approximate
//     location from an MMDB file, device class, referrer domain, watch
//     time, clicks).
//   - Anonymous: aggregates only: daily views, unique viewers, finishes,
//     watched seconds and clicks; the retention curve; a watch-time
//     histogram; countries; clicks per button.
//   - Off: nothing. There is no bare view counter either: the share page
//     sends no events, and events that arrive anyway are dropped.
//
// A viewer's `DNT: 1` or `Sec-GPC: 1` (or the same signals read by the
// page) makes their view Anonymous at most. Viewers get no cookies: a
// view is a random id the page makes when it loads, and a viewer counts
// once per video per day through a hash of IP, user agent, video and a
// salt that lives in the database (so replicas agree), changes every UTC
// day and is then deleted with the day's hashes. The IP address is used
// for that hash and the location lookup while the request lasts and is
// never written anywhere.
//
// Events are written by a Batcher: many events per transaction, flushed
// when enough have gathered, every FlushEvery, and on shutdown.
package track

import "framecast.dev/server/internal/store"

// Levels in order of what they keep.
var Levels = []string{store.TrackOff, store.TrackAnonymous, store.TrackFull}

// Valid reports whether l is a level.
func Valid(l string) bool {
	return l == store.TrackFull || l == store.TrackAnonymous || l == store.TrackOff
}

// Rank orders levels: off < anonymous < full.
func Rank(l string) int {
	switch l {
	case store.TrackFull:
		return 2
	case store.TrackAnonymous:
		return 1
	}
	return 0
}

// Lower returns the lower of two levels.
func Lower(a, b string) string {
	if Rank(a) < Rank(b) {
		return a
	}
	return b
}

// Notice is the one line a share page shows about what is recorded.
func Notice(level string) string {
	switch level {
	case store.TrackFull:
		return "The author sees each view of this page: approximate location, device, how much was watched and which buttons were clicked (no cookies; with Do Not Track or Global Privacy Control, only anonymous totals)."
	case store.TrackAnonymous:
		return "The author sees anonymous totals only: views, how much was watched, countries and button clicks (no cookies, nothing about you in particular)."
	}
	return "Nothing about your viewing is recorded."
}

// Label names a level in the dashboard.
func Label(level string) string {
	switch level {
	case store.TrackFull:
		return "Full"
	case store.TrackAnonymous:
		return "Anonymous"
	case store.TrackOff:
		return "Off"
	}
	return level
}
