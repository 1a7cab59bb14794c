package modelpaths

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrUnsafePath is returned for a path that would leave its root.
var ErrUnsafePath = errors.New("path escapes its folder")

// checkRel refuses what can never be a name inside a folder: absolute
// paths, ".." components (also "%2e%2e" left encoded by a client that
// double-encodes), NUL bytes and Windows drive or UNC forms.
func checkRel(rel string) error {
	if strings.ContainsRune(rel, 0) {
		return ErrUnsafePath
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") || strings.HasPrefix(rel, `\`) || filepath.VolumeName(rel) != "" {
		return ErrUnsafePath
	}
	for _, part := range strings.FieldsFunc(rel, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." || strings.EqualFold(part, "%2e%2e") || strings.EqualFold(part, ".%2e") || strings.EqualFold(part, "%2e.") {
			return ErrUnsafePath
		}
	}
	return nil
}

// Within reports whether path is root or lies below it (both cleaned).
func Within(root, path string) bool {
	root, path = filepath.Clean(root), filepath.Clean(path)
	if root == path {
		return true
	}
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator)
	}
	return strings.HasPrefix(path, root)
}

// SafeJoin joins rel ("/"-separated, "" = root itself) to root and checks
// that the result stays inside root, lexically and after resolving
// symlinks: the deepest existing ancestor of the result is resolved with
// filepath.EvalSymlinks and must lie inside the resolved root. Every file
// route of the server goes through it.
func SafeJoin(root, rel string) (string, error) {
	if err := checkRel(rel); err != nil {
		return "", err
	}
	root = filepath.Clean(root)
	full := filepath.Join(root, filepath.FromSlash(rel))
	if !Within(root, full) {
		return "", ErrUnsafePath
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return full, nil // nothing exists yet: nothing can point out
		}
		return "", err
	}
	// Resolve the deepest existing ancestor (the file itself if it exists).
	probe := full
	for {
		real, err := filepath.EvalSymlinks(probe)
		if err == nil {
			if !Within(realRoot, real) {
				return "", ErrUnsafePath
			}
			return full, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if lfi, lerr := os.Lstat(probe); lerr == nil && lfi.Mode()&os.ModeSymlink != 0 {
			// A dangling link would let a later write land outside.
			target, _ := os.Readlink(probe)
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(probe), target)
			}
			if !Within(realRoot, filepath.Clean(target)) && !Within(root, filepath.Clean(target)) {
				return "", ErrUnsafePath
			}
		}
		parent := filepath.Dir(probe)
		if parent == probe || !Within(root, parent) {
			return full, nil
		}
		probe = parent
	}
}
