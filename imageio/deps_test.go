package imageio

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// imageio sits at the bottom of the tree: it must import nothing of comfyd.
func TestImportsNothingOfOurs(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			if strings.HasPrefix(strings.Trim(imp.Path.Value, `"`), "github.com/comfyd/comfyd") {
				t.Errorf("%s imports %s", f, imp.Path.Value)
			}
		}
	}
}
