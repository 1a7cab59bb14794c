package safetensors

import (
	"fmt"
	"io"
	"os"
)

// readFile is the fallback where mapping is unavailable: the whole file in
// memory.
func readFile(f *os.File, size int64) ([]byte, func() error, error) {
	if int64(int(size)) != size {
		return nil, nil, fmt.Errorf("file of %d bytes does not fit in memory", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), b); err != nil {
		return nil, nil, err
	}
	return b, nil, nil
}
