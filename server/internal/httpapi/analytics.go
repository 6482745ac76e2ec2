package httpapi

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
	"framecast.dev/shared/api"
)

// The owner's analytics: one page per video (only its owner), CSV export,
// and the libraries' totals over time with the account's default level.

func (s *Server) analyticsRoutes(a *fiber.App) {
	a.Get("/videos/:id/analytics", s.signedIn, s.videoAnalytics)
	a.Get("/videos/:id/analytics.csv", s.signedIn, s.videoAnalyticsCSV)
	a.Get("/analytics", s.signedIn, s.analyticsPage)
	a.Post("/analytics", s.csrf, s.signedIn, s.saveAnalyticsSettings)
}

// viewLimit bounds the views a page lists (the CSV has more).
const (
	viewLimit    = 200
	csvViewLimit = 100000
	libraryDays  = 30
	videoDays    = 14 // the shortest span a video's chart shows
)

type analyticsData struct {
	Video        store.Video
	Title        string
	ShareURL     string
	Level        string
	S            track.Summary
	AvgWatch     string
	Completion   string
	ClickThrough string
	Buttons      []buttonRow
	Countries    []countryRow
	Histogram    []histRow
	Views        []viewRow
	Geo          bool
	Attribution  string
	AttribURL    string
	Chart        chartData
	Recipients   []recipientRow
}

type recipientRow struct {
	Email    string
	Sent     string
	Watched  string // "" never opened
	Furthest string
	Finished bool
	Clicked  string
}

type buttonRow struct {
	Label  string
	Clicks int
	Rate   string
}

type countryRow struct {
	Country string
	Views   int
	Share   float64
	Percent string
}

type histRow struct {
	Range string
	Views int
	Share float64
}

type viewRow struct {
	Started  string
	Place    string
	Device   string
	Referrer string
	Watched  string
	Furthest string
	Finished bool
	Clicked  string
}

// chartData goes to analytics.js as JSON.
type chartData struct {
	Seconds   []float64 `json:"seconds"`
	Retention []float64 `json:"retention"`
	Days      []int64   `json:"days"` // unix seconds of each day
	Views     []int     `json:"views"`
	Viewers   []int     `json:"viewers"`
}

// addDays charts each day from..to (day numbers, see store.DayOf), zero
// where days has no entry.
func (c *chartData) addDays(days []store.TrackDay, from, to int64) {
	byDay := make(map[int64]store.TrackDay, len(days))
	for _, d := range days {
		byDay[d.Day] = d
	}
	for day := from; day <= to; day++ {
		c.Days = append(c.Days, store.DayTime(day).Unix())
		c.Views = append(c.Views, byDay[day].Views)
		c.Viewers = append(c.Viewers, byDay[day].Viewers)
	}
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 0, 64) + " %" }

func (s *Server) buttonLabels(c *fiber.Ctx, v store.Video) []string {
	buttons := v.CTAButtons
	if buttons == nil && v.WorkspaceID != "" {
		if w, err := s.store.Workspace(c.UserContext(), v.WorkspaceID); err == nil {
			buttons = w.CTAButtons
		}
	}
	var out []string
	for _, b := range buttons {
		out = append(out, b.Label)
	}
	return out
}

func videoSeconds(v store.Video) float64 {
	if v.ProbedDuration > 0 {
		return v.ProbedDuration
	}
	return v.Duration()
}

func (s *Server) videoAnalytics(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v, err := s.share.OwnedVideo(ctx, *userOf(c), c.Params("id"))
	if err != nil {
		return shareError(err)
	}
	s.track.Flush(ctx) // show what just happened
	sum, err := s.track.Report(ctx, v, videoSeconds(v), viewLimit)
	if err != nil {
		return err
	}
	d := analyticsData{Video: v, Title: share.DisplayTitle(v), ShareURL: s.media.ShareURL(v), Level: track.Label(sum.Level), S: sum,
		AvgWatch: clockText(sum.AvgWatch), Completion: pct(sum.Completion), ClickThrough: pct(sum.ClickThrough),
		Geo: s.track.HasGeo(), Attribution: track.AttributionText, AttribURL: track.AttributionURL}
	labels := s.buttonLabels(c, v)
	for _, b := range sum.Buttons {
		label := fmt.Sprintf("Button %d", b.Index+1)
		if b.Index < len(labels) {
			label = labels[b.Index]
		}
		rate := "–"
		if sum.Views > 0 {
			rate = pct(float64(b.N) / float64(sum.Views))
		}
		d.Buttons = append(d.Buttons, buttonRow{Label: label, Clicks: b.N, Rate: rate})
	}
	for _, cn := range sum.Countries {
		name := cn.Key
		if name == "" {
			name = "unknown"
		}
		share := 0.0
		if sum.Views > 0 {
			share = float64(cn.N) / float64(sum.Views)
		}
		d.Countries = append(d.Countries, countryRow{Country: name, Views: cn.N, Share: share, Percent: pct(share)})
	}
	histTotal := 0
	for _, n := range sum.Histogram {
		histTotal += n
	}
	for i, n := range sum.Histogram {
		r := histRow{Range: fmt.Sprintf("%d–%d %%", 10*i, 10*(i+1)), Views: n}
		if histTotal > 0 {
			r.Share = float64(n) / float64(histTotal)
		}
		d.Histogram = append(d.Histogram, r)
	}
	for _, vw := range sum.ViewRows {
		place := vw.Country
		if vw.City != "" {
			place = vw.City + ", " + vw.Country
		}
		row := viewRow{Started: vw.StartedAt.UTC().Format("2006-01-02 15:04"), Place: place, Device: vw.Device, Referrer: vw.Referrer,
			Watched: clockText(float64(vw.WatchedSeconds)), Furthest: clockText(float64(vw.Furthest + 1)), Finished: vw.Finished}
		for i, b := range vw.Clicks {
			if i > 0 {
				row.Clicked += ", "
			}
			if b < len(labels) {
				row.Clicked += labels[b]
			} else {
				row.Clicked += fmt.Sprintf("Button %d", b+1)
			}
		}
		d.Views = append(d.Views, row)
	}
	recips, err := s.track.Recipients(ctx, v.ID)
	if err != nil {
		return err
	}
	for _, r := range recips {
		row := recipientRow{Email: r.Email, Sent: r.SentAt.UTC().Format("2006-01-02 15:04"), Finished: r.Finished}
		if r.Views > 0 {
			row.Watched, row.Furthest = clockText(float64(r.WatchedSeconds)), clockText(float64(r.Furthest+1))
		}
		for i, b := range r.Clicks {
			if i > 0 {
				row.Clicked += ", "
			}
			if b < len(labels) {
				row.Clicked += labels[b]
			} else {
				row.Clicked += fmt.Sprintf("Button %d", b+1)
			}
		}
		d.Recipients = append(d.Recipients, row)
	}
	for i, r := range sum.Retention {
		d.Chart.Seconds = append(d.Chart.Seconds, float64(i))
		d.Chart.Retention = append(d.Chart.Retention, math.Round(r*1000)/10)
	}
	// Every day from the first view (at least the last two weeks) to
	// today, quiet days as zero: a chart of only the days with views
	// draws lines across the gaps, and one point alone spans years.
	today := store.DayOf(time.Now())
	from := today - videoDays + 1
	if len(sum.Days) > 0 && sum.Days[0].Day < from {
		from = sum.Days[0].Day
	}
	d.Chart.addDays(sum.Days, from, today)
	return s.render(c, fiber.StatusOK, "analytics.html", page{Title: "Analytics: " + d.Title, Data: d})
}

// clockText formats seconds as m:ss.
func clockText(sec float64) string {
	t := int(math.Round(sec))
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

func (s *Server) videoAnalyticsCSV(c *fiber.Ctx) error {
	ctx := c.UserContext()
	v, err := s.share.OwnedVideo(ctx, *userOf(c), c.Params("id"))
	if err != nil {
		return shareError(err)
	}
	s.track.Flush(ctx)
	sum, err := s.track.Report(ctx, v, videoSeconds(v), csvViewLimit)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := track.WriteCSV(&b, sum, s.buttonLabels(c, v)); err != nil {
		return fmt.Errorf("analytics csv: %w", err)
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentDisposition, attachment(share.DisplayTitle(v)+" analytics.csv"))
	return c.Send(b.Bytes())
}

type libraryTotals struct {
	Name     string
	Views    int
	Viewers  int
	Watched  string
	Finishes int
	Clicks   int
	Chart    chartData
}

type analyticsHome struct {
	Level     string
	Notify    bool
	Levels    []string
	Labels    map[string]string
	Libraries []libraryTotals
	Days      int
}

func (s *Server) analyticsPage(c *fiber.Ctx) error {
	var p page
	if c.Query("notice") == "tracking-default-saved" {
		p.Notice = "Default saved. For your videos that follow it, anything the new level would not keep has been deleted."
	}
	return s.analyticsHomeView(c, p)
}

func (s *Server) analyticsHomeView(c *fiber.Ctx, p page) error {
	ctx := c.UserContext()
	u := *userOf(c)
	level, notify, err := s.store.AccountTracking(ctx, u.ID)
	if err != nil {
		return err
	}
	if level == "" {
		level = store.TrackDefault
	}
	d := analyticsHome{Level: level, Notify: notify, Levels: []string{store.TrackFull, store.TrackAnonymous, store.TrackOff},
		Labels: map[string]string{}, Days: libraryDays}
	for _, l := range track.Levels {
		d.Labels[l] = track.Label(l)
	}
	s.track.Flush(ctx)
	libs, err := s.accounts.Libraries(ctx, u)
	if err != nil {
		return accountError(err)
	}
	today := store.DayOf(time.Now())
	from := today - libraryDays + 1
	for _, l := range libs {
		days, err := s.store.LibraryTrackDays(ctx, u.ID, l.WorkspaceID, from)
		if err != nil {
			return err
		}
		t := libraryTotals{Name: l.Name}
		if l.WorkspaceID == "" {
			t.Name = "Personal library"
		}
		watched := 0
		for _, d := range days {
			t.Views += d.Views
			t.Viewers += d.Viewers
			t.Finishes += d.Finishes
			t.Clicks += d.CTAClicks
			watched += d.WatchedSeconds
		}
		t.Watched = clockText(float64(watched))
		t.Chart.addDays(days, from, today)
		d.Libraries = append(d.Libraries, t)
	}
	p.Title, p.Data = "Analytics", d
	return s.render(c, fiber.StatusOK, "analytics_home.html", p)
}

// saveAnalyticsSettings sets the account's default level (lowering it
// deletes, for the videos that follow it, what the new level would not
// keep) and the first-view mail.
func (s *Server) saveAnalyticsSettings(c *fiber.Ctx) error {
	f := formOf(c)
	level := f.Get("tracking")
	if !track.Valid(level) {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "Choose Full, Anonymous or Off.")
	}
	u := *userOf(c)
	if err := s.track.SetAccountLevel(c.UserContext(), u.ID, level, f.Get("first_view_mail") == "on"); err != nil {
		return err
	}
	// Share pages show the new level within the page cache's 2 s.
	return redirect(c, "/analytics?notice=tracking-default-saved")
}
