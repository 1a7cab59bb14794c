//go:build !linux

package server

import "os"

// ctime falls back to the modification time where st_ctim is not at hand.
func ctime(fi os.FileInfo) float64 { return float64(fi.ModTime().UnixNano()) / 1e9 }
