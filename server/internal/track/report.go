package track

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"

	"framecast.dev/server/internal/store"
)

// Summary is a video's analytics, computed from what its level kept.
type Summary struct {
	Level          string
	Views          int
	Viewers        int // unique per day, summed over days
	Finishes       int
	WatchedSeconds int
	CTAClicks      int
	AvgWatch       float64   // seconds per view
	Completion     float64   // share of views that reached the end
	ClickThrough   float64   // button clicks per view
	Retention      []float64 // share of views watching at each second
	Histogram      [10]int   // views by tenth of the video watched
	Days           []store.TrackDay
	Countries      []store.TrackCount
	Buttons        []store.TrackCount
	ViewRows       []store.TrackView // Full only
}

// RetentionCurve is the share of views that watched each second of a
// video lasting duration, from the views per second; nil without views.
func RetentionCurve(perSecond []store.TrackCount, views int, duration float64) []float64 {
	if views <= 0 || duration <= 0 {
		return nil
	}
	n := int(math.Ceil(duration))
	out := make([]float64, n)
	for _, c := range perSecond {
		if c.Index >= 0 && c.Index < n {
			out[c.Index] = min(1, float64(c.N)/float64(views))
		}
	}
	return out
}

// Summarise turns a stored report into the owner's figures.
func Summarise(r store.TrackReport, level string, duration float64) Summary {
	s := Summary{Level: level, Days: r.Days, Countries: r.Countries, Buttons: r.Buttons, ViewRows: r.Views}
	for _, d := range r.Days {
		s.Views += d.Views
		s.Viewers += d.Viewers
		s.Finishes += d.Finishes
		s.WatchedSeconds += d.WatchedSeconds
		s.CTAClicks += d.CTAClicks
	}
	if s.Views > 0 {
		s.AvgWatch = float64(s.WatchedSeconds) / float64(s.Views)
		s.Completion = min(1, float64(s.Finishes)/float64(s.Views))
		s.ClickThrough = float64(s.CTAClicks) / float64(s.Views)
	}
	s.Retention = RetentionCurve(r.Retention, s.Views, duration)
	for _, h := range r.Histogram {
		if h.Index >= 0 && h.Index < len(s.Histogram) {
			s.Histogram[h.Index] = h.N
		}
	}
	return s
}

// Report reads and summarises a video's analytics.
func (s *Service) Report(ctx context.Context, v store.Video, duration float64, viewLimit int) (Summary, error) {
	level, err := s.Level(ctx, v.ID)
	if err != nil {
		return Summary{}, err
	}
	r, err := s.store.TrackReport(ctx, v.ID, viewLimit)
	if err != nil {
		return Summary{}, err
	}
	return Summarise(r, level, duration), nil
}

// WriteCSV writes a summary as CSV: the daily counts, then (Full) one
// line per view.
func WriteCSV(w io.Writer, s Summary, buttonLabels []string) error {
	cw := csv.NewWriter(w)
	itoa := strconv.Itoa
	rows := [][]string{{"day", "views", "unique_viewers", "finishes", "watched_seconds", "button_clicks"}}
	for _, d := range s.Days {
		rows = append(rows, []string{store.DayTime(d.Day).Format("2006-01-02"), itoa(d.Views), itoa(d.Viewers), itoa(d.Finishes),
			itoa(d.WatchedSeconds), itoa(d.CTAClicks)})
	}
	if len(s.ViewRows) > 0 {
		rows = append(rows, nil, []string{"view_started_utc", "country", "city", "device", "referrer", "watched_seconds",
			"furthest_second", "finished", "clicked"})
		for _, v := range s.ViewRows {
			clicked := ""
			for i, b := range v.Clicks {
				if i > 0 {
					clicked += "; "
				}
				if b < len(buttonLabels) {
					clicked += buttonLabels[b]
				} else {
					clicked += fmt.Sprintf("button %d", b+1)
				}
			}
			rows = append(rows, []string{v.StartedAt.UTC().Format("2006-01-02 15:04:05"), v.Country, v.City, v.Device, v.Referrer,
				itoa(v.WatchedSeconds), itoa(v.Furthest), strconv.FormatBool(v.Finished), clicked})
		}
	}
	for _, r := range rows {
		if r == nil {
			r = []string{}
		}
		// Cells typed by viewers' browsers (referrer) or the database
		// (city) must not turn into spreadsheet formulas.
		for i, c := range r {
			if c != "" && (c[0] == '=' || c[0] == '+' || c[0] == '-' || c[0] == '@') {
				r[i] = "'" + c
			}
		}
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
