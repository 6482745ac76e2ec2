// Package web holds what the server sends to browsers: page templates and
// static assets (including a vendored copy of hls.js, see vendor.sh),
// embedded in the binary.
package web

import (
	"embed"
	"html/template"
)

// Static is served under /static/.
//
//go:embed static
var Static embed.FS

//go:embed templates
var templates embed.FS

// Templates are the server's HTML pages.
var Templates = template.Must(template.New("").Funcs(template.FuncMap{
	"inc": func(i int) int { return i + 1 },
}).ParseFS(templates, "templates/*.html"))
