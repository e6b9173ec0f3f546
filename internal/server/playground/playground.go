// Package playground serves GraphiQL from files embedded in the binary, so the playground
// works without reaching a CDN (closed networks, air-gapped installs, the browser test).
package playground

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed index.html assets
var files embed.FS

// Page serves the playground page.
func Page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := files.ReadFile("index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(page)
	})
}

// Assets serves the scripts and styles under /playground/.
func Assets() http.Handler {
	sub, _ := fs.Sub(files, "assets")
	fileServer := http.StripPrefix("/playground/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fileServer.ServeHTTP(w, r)
	})
}
