//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package safetensors

import "os"

func mapFile(f *os.File, size int64) ([]byte, func() error, error) { return readFile(f, size) }
