package server

import (
	"os"
	"syscall"
)

// ctime is os.path.getctime: the inode change time on Linux.
func ctime(fi os.FileInfo) float64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return float64(st.Ctim.Sec) + float64(st.Ctim.Nsec)/1e9
	}
	return float64(fi.ModTime().UnixNano()) / 1e9
}
