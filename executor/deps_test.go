package executor

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the layering of ARCHITECTURE.md: the executor sees api,
// graph and node only (no server, queue, node implementations or ml).
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	ok := map[string]bool{"github.com/comfyd/comfyd/executor": true, "github.com/comfyd/comfyd/api": true,
		"github.com/comfyd/comfyd/graph": true, "github.com/comfyd/comfyd/node": true}
	for _, d := range strings.Fields(string(out)) {
		if strings.HasPrefix(d, "github.com/comfyd/comfyd/") && !ok[d] {
			t.Errorf("executor imports %s", d)
		}
	}
}
