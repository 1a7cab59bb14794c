package graph

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the layering of ARCHITECTURE.md: graph sees only api
// and node of comfyd's packages.
func TestImports(t *testing.T) {
	checkDeps(t, ".", "github.com/comfyd/comfyd/api", "github.com/comfyd/comfyd/node")
}

func checkDeps(t *testing.T, pkg string, allowed ...string) {
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	self, _ := exec.Command("go", "list", pkg).Output()
	ok := map[string]bool{strings.TrimSpace(string(self)): true}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, d := range strings.Fields(string(out)) {
		if strings.HasPrefix(d, "github.com/comfyd/comfyd/") && !ok[d] {
			t.Errorf("%s imports %s", pkg, d)
		}
	}
}
