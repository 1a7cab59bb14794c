package web

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// The page is plain files loaded by the browser without a build step, so a missing or
// misspelt file only shows in a browser. These checks catch that in `go test`: every file
// index.html names and every ES module import must be embedded.

var (
	htmlRef   = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	jsImport  = regexp.MustCompile(`(?m)(?:^\s*import\s[^'"]*|^\s*export\s[^'"]*\sfrom\s|import\()\s*['"]([^'"]+)['"]`)
	vendorLic = []string{"vendor/litegraph/LICENSE", "vendor/litegraph/VERSION.md"}
)

func TestIndexReferencesExist(t *testing.T) {
	b, err := fs.ReadFile(Files, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range htmlRef.FindAllStringSubmatch(string(b), -1) {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") || strings.Contains(ref, "://") || strings.HasPrefix(ref, "#") {
			continue
		}
		n++
		if _, err := fs.Stat(Files, strings.TrimPrefix(ref, "/")); err != nil {
			t.Errorf("index.html refers to %q, which is not embedded: %v", ref, err)
		}
	}
	if n < 3 {
		t.Fatalf("index.html names only %d local files", n)
	}
}

func TestModuleImportsResolve(t *testing.T) {
	imports := 0
	err := fs.WalkDir(Files, "js", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(Files, p)
		if err != nil {
			return err
		}
		for _, m := range jsImport.FindAllStringSubmatch(string(b), -1) {
			spec := m[1]
			imports++
			if !strings.HasPrefix(spec, ".") {
				t.Errorf("%s imports %q: only relative imports work without a bundler", p, spec)
				continue
			}
			target := path.Join(path.Dir(p), spec)
			if _, err := fs.Stat(Files, target); err != nil {
				t.Errorf("%s imports %q (%s), which is not embedded", p, spec, target)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if imports < 10 {
		t.Fatalf("found only %d imports: the pattern no longer matches the modules", imports)
	}
}

func TestVendoredLibraryCarriesItsLicence(t *testing.T) {
	for _, f := range vendorLic {
		if _, err := fs.Stat(Files, f); err != nil {
			t.Errorf("%s missing: %v", f, err)
		}
	}
}
