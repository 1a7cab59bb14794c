// Package web embeds comfyd's browser UI so that `go build` alone produces
// a binary that serves it at /. Files is rooted at the UI's index.html.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Files is the UI's file tree (index.html at its root).
var Files fs.FS = mustSub(dist, "dist")

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}
