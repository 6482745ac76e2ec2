package track

import (
	"net"
	"net/url"
	"strings"
)

// DeviceClass sorts a user agent into desktop, mobile, tablet or bot
// ("other" when empty). Only the class is kept, never the user agent.
func DeviceClass(ua string) string {
	l := strings.ToLower(ua)
	switch {
	case l == "":
		return "other"
	case strings.Contains(l, "bot") || strings.Contains(l, "crawler") || strings.Contains(l, "spider") ||
		strings.Contains(l, "preview") || strings.Contains(l, "curl/") || strings.Contains(l, "wget/"):
		return "bot"
	case strings.Contains(l, "ipad") || strings.Contains(l, "tablet") ||
		strings.Contains(l, "android") && !strings.Contains(l, "mobile"):
		return "tablet"
	case strings.Contains(l, "mobi") || strings.Contains(l, "iphone") || strings.Contains(l, "ipod") ||
		strings.Contains(l, "android") || strings.Contains(l, "windows phone"):
		return "mobile"
	}
	return "desktop"
}

// ReferrerDomain keeps the host of a referrer (a URL or a bare host),
// lower-cased, without port, path or query; "" when it is not one.
func ReferrerDomain(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2048 {
		return ""
	}
	host := s
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		host = u.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || len(host) > 253 {
		return ""
	}
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return "" // an address is not a domain, and may be a person's
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return ""
		}
	}
	if !strings.Contains(host, ".") && host != "localhost" {
		return ""
	}
	return host
}
