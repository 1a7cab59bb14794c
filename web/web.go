// Package web embeds comfyd's browser UI so that `go build` alone produces
// a binary that serves it at /. Files is rooted at the UI's index.html.
//
// The UI is plain ES modules and a vendored graph editor (dist/vendor): no
// build step, nothing to generate. Its sources, tests and their tooling live
// beside dist (see README.md). This package imports only the standard
// library; nothing of comfyd imports it except the server.
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
