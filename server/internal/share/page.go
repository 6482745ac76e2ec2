package share

import (
	"fmt"
	"html"
	"math"
	"net/url"
	"strings"

	"framecast.dev/server/internal/store"
)

// Page is what the share and embed templates show about an admitted
// video. Paths are relative to the server; *URL fields meant for other
// sites (Open Graph, oEmbed, share actions) are absolute.
type Page struct {
	Title       string // never empty: "Untitled recording" stands in
	Description []string
	Summary     string // one line for previews: the description's start
	OwnerName   string
	Date        string // "23 November 2026"
	DateISO     string
	Duration    string // "1:05"
	Seconds     float64

	ShareURL    string
	EmbedURL    string
	OEmbedURL   string
	PlaylistURL string
	PosterURL   string // "" until the thumbnail exists
	LogoURL     string // "" without a workspace logo
	Workspace   string
	DownloadURL string // "" when downloads are off or the MP4 is not made yet
	Buttons     []store.CTAButton

	// Public videos only (previews of protected ones would leak them).
	Public       bool
	ThumbnailURL string // absolute, for Open Graph
	ThumbWidth   int
	ThumbHeight  int
	GIFURL       string // absolute, for the e-mail snippet
	GIFWidth     int
	GIFHeight    int
	EmailSnippet string // HTML to paste into an e-mail
	EmbedCode    string // HTML to paste into a web page
	MailURL      string
	LinkedInURL  string
	XURL         string
	FacebookURL  string
	Width        int // of the player, for embeds
	Height       int
}

// DisplayTitle is what a page calls an untitled video.
func DisplayTitle(v store.Video) string {
	if t := strings.TrimSpace(v.Title); t != "" {
		return t
	}
	return "Untitled recording"
}

// Page builds the view of an admitted video.
func (s *Service) Page(a Access) Page {
	v := a.Page.Video
	base := a.MediaBase()
	date := v.ReadyAt
	if date.IsZero() {
		date = v.CreatedAt
	}
	seconds := v.ProbedDuration
	if seconds <= 0 {
		seconds = v.Duration()
	}
	p := Page{
		Title:       DisplayTitle(v),
		Description: paragraphs(v.Description),
		OwnerName:   a.Page.OwnerName,
		Date:        date.Format("2 January 2006"),
		DateISO:     date.Format("2006-01-02"),
		Duration:    clock(seconds),
		Seconds:     seconds,
		ShareURL:    s.baseURL + "/v/" + v.Slug,
		EmbedURL:    s.baseURL + "/embed/" + v.Slug,
		PlaylistURL: base + "/playlist.m3u8",
		Workspace:   a.Page.WorkspaceName,
		Buttons:     v.CTAButtons,
		Public:      a.Public(),
		Width:       1280,
		Height:      720,
	}
	if v.Growing() {
		// Its length is not known until its import is processed.
		p.Duration, p.Seconds = "still processing", 0
	}
	p.Summary = summary(p.Description, p.OwnerName, p.Duration)
	if p.Buttons == nil {
		p.Buttons = a.Page.WorkspaceCTA
	}
	if len(p.Buttons) > 3 {
		p.Buttons = p.Buttons[:3]
	}
	p.OEmbedURL = s.baseURL + "/oembed?format=json&url=" + url.QueryEscape(p.ShareURL)
	if a.Page.WorkspaceLogoKey != "" {
		p.LogoURL = base + "/logo"
	}
	if t, ok := a.Page.Asset(store.AssetThumbnail); ok {
		p.PosterURL = base + "/thumbnail.jpg"
		if t.Width > 0 && t.Height > 0 {
			p.Width, p.Height = t.Width, t.Height
		}
		if p.Public {
			p.ThumbnailURL, p.ThumbWidth, p.ThumbHeight = s.baseURL+p.PosterURL, t.Width, t.Height
		}
	}
	if _, ok := a.Page.Asset(store.AssetMP4); ok && v.Downloads {
		p.DownloadURL = base + "/download"
	}
	if !p.Public {
		return p
	}
	if g, ok := a.Page.Asset(store.AssetGIF); ok {
		p.GIFURL, p.GIFWidth, p.GIFHeight = s.baseURL+base+"/preview.gif", g.Width, g.Height
		p.EmailSnippet = fmt.Sprintf(`<a href="%s"><img src="%s" width="%d" height="%d" alt="%s"></a>`,
			html.EscapeString(p.ShareURL), html.EscapeString(p.GIFURL), g.Width, g.Height,
			html.EscapeString("▶ "+p.Title+" ("+p.Duration+")"))
	}
	w, h := embedSize(p.Width, p.Height, 640)
	p.EmbedCode = fmt.Sprintf(`<iframe src="%s" width="%d" height="%d" title="%s" frameborder="0" allow="fullscreen; picture-in-picture" allowfullscreen></iframe>`,
		html.EscapeString(p.EmbedURL), w, h, html.EscapeString(p.Title))
	q := url.QueryEscape
	p.MailURL = "mailto:?subject=" + pathEscape(p.Title) + "&body=" + pathEscape(p.Title+"\n"+p.ShareURL)
	p.LinkedInURL = "https://www.linkedin.com/sharing/share-offsite/?url=" + q(p.ShareURL)
	p.XURL = "https://x.com/intent/post?url=" + q(p.ShareURL) + "&text=" + q(p.Title)
	p.FacebookURL = "https://www.facebook.com/sharer/sharer.php?u=" + q(p.ShareURL)
	return p
}

// pathEscape escapes for mailto: (spaces as %20, which mail programs
// understand; + would show as a plus).
func pathEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// embedSize fits w×h into maxW keeping the aspect ratio.
func embedSize(w, h, maxW int) (int, int) {
	if w <= 0 || h <= 0 {
		return maxW, maxW * 9 / 16
	}
	if w > maxW {
		h = int(math.Round(float64(h) * float64(maxW) / float64(w)))
		w = maxW
	}
	return w, h
}

// summary is the description's first paragraph, shortened, or a line
// saying who recorded it.
func summary(desc []string, owner, duration string) string {
	if len(desc) > 0 {
		r := []rune(strings.Join(strings.Fields(desc[0]), " "))
		if len(r) > 200 {
			return string(r[:199]) + "…"
		}
		return string(r)
	}
	if owner != "" {
		return "A " + duration + " video by " + owner + "."
	}
	return "A " + duration + " video."
}

// paragraphs splits a description at blank lines.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// clock formats seconds as m:ss or h:mm:ss.
func clock(seconds float64) string {
	t := int(math.Round(seconds))
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

// OEmbed is the oEmbed answer (https://oembed.com, type "video").
type OEmbed struct {
	Version         string `json:"version"`
	Type            string `json:"type"`
	ProviderName    string `json:"provider_name"`
	ProviderURL     string `json:"provider_url"`
	Title           string `json:"title"`
	AuthorName      string `json:"author_name,omitempty"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	ThumbnailURL    string `json:"thumbnail_url,omitempty"`
	ThumbnailWidth  int    `json:"thumbnail_width,omitempty"`
	ThumbnailHeight int    `json:"thumbnail_height,omitempty"`
	Duration        int    `json:"duration,omitempty"`
}

// SlugOfURL returns the slug of one of this server's share or embed URLs.
func (s *Service) SlugOfURL(raw string) (string, bool) {
	for _, prefix := range []string{s.baseURL + "/v/", s.baseURL + "/embed/"} {
		if rest, ok := strings.CutPrefix(raw, prefix); ok {
			rest, _, _ = strings.Cut(rest, "?")
			rest, _, _ = strings.Cut(rest, "#")
			if !strings.Contains(rest, "/") {
				return rest, true
			}
		}
	}
	return "", false
}

// OEmbedFor answers oEmbed for a public video at the largest size within
// maxW×maxH (0: no limit).
func (s *Service) OEmbedFor(a Access, maxW, maxH int) OEmbed {
	p := s.Page(a)
	w, h := embedSize(p.Width, p.Height, 640)
	if maxW > 0 && w > maxW {
		w, h = embedSize(w, h, maxW)
	}
	if maxH > 0 && h > maxH {
		w, h = int(math.Round(float64(w)*float64(maxH)/float64(h))), maxH
	}
	return OEmbed{
		Version: "1.0", Type: "video", ProviderName: "Framecast", ProviderURL: s.baseURL,
		Title: p.Title, AuthorName: p.OwnerName,
		HTML: fmt.Sprintf(`<iframe src="%s" width="%d" height="%d" title="%s" frameborder="0" allow="fullscreen; picture-in-picture" allowfullscreen></iframe>`,
			html.EscapeString(p.EmbedURL), w, h, html.EscapeString(p.Title)),
		Width: w, Height: h,
		ThumbnailURL: p.ThumbnailURL, ThumbnailWidth: p.ThumbWidth, ThumbnailHeight: p.ThumbHeight,
		Duration: int(math.Round(p.Seconds)),
	}
}
