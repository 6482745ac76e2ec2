package share

import (
	"sync"
	"time"

	"framecast.dev/server/internal/store"
)

// pageCache keeps what share pages need for a moment, so a link opened by
// many people at once (a mail to a list, a post) costs one database read
// per slug and, for a public video, one template run. Entries are only
// for ready videos; access is still decided on every request from the
// cached data and the current time.
type pageCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*cached // by slug
}

type cached struct {
	page store.SharePage
	at   time.Time
	html []byte // the public page, once rendered
}

// maxCached bounds the cache; when full it starts over.
const maxCached = 10000

func (c *pageCache) get(slug string, now time.Time) (store.SharePage, bool) {
	if c.ttl <= 0 {
		return store.SharePage{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[slug]
	if e == nil || now.Sub(e.at) >= c.ttl {
		return store.SharePage{}, false
	}
	return e.page, true
}

func (c *pageCache) put(slug string, p store.SharePage, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[slug] = &cached{page: p, at: now}
}

// forget drops the entries of a video (after its owner changed it).
func (c *pageCache) forget(videoID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for slug, e := range c.m {
		if e.page.Video.ID == videoID {
			delete(c.m, slug)
		}
	}
}

// Forget makes the next request for the video read the database: call it
// after changing a video behind the Service's back.
func (s *Service) Forget(videoID string) { s.cache.forget(videoID) }

// PublicHTML returns the rendered page of a public video, rendering it
// with render only when the cached copy is missing or stale.
func (s *Service) PublicHTML(a Access, render func() ([]byte, error)) ([]byte, error) {
	slug := a.Page.Video.Slug
	if a.Public() && s.cache.ttl > 0 {
		s.cache.mu.Lock()
		e := s.cache.m[slug]
		if e != nil && e.html != nil && e.page.Video.ID == a.Page.Video.ID && s.now().Sub(e.at) < s.cache.ttl {
			html := e.html
			s.cache.mu.Unlock()
			return html, nil
		}
		s.cache.mu.Unlock()
	}
	html, err := render()
	if err != nil || !a.Public() {
		return html, err
	}
	s.cache.mu.Lock()
	if e := s.cache.m[slug]; e != nil && e.page.Video.ID == a.Page.Video.ID {
		e.html = html
	}
	s.cache.mu.Unlock()
	return html, nil
}
