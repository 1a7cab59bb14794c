package server

import (
	"os/exec"
	"strings"
	"testing"
)

// The arrows of ARCHITECTURE.md: server reaches neither the compute wing
// nor any node package; config and modelpaths import nothing of comfyd.
func TestImportBoundaries(t *testing.T) {
	for pkg, allowed := range map[string][]string{
		"github.com/comfyd/comfyd/server":     {"api", "config", "node", "graph", "executor", "imageio", "modelpaths", "queue", "web", "server"},
		"github.com/comfyd/comfyd/config":     {"config"},
		"github.com/comfyd/comfyd/modelpaths": {"modelpaths"},
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Skip("go list unavailable:", err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rest, ok := strings.CutPrefix(dep, "github.com/comfyd/comfyd/")
			if !ok {
				continue
			}
			if !contains(allowed, rest) {
				t.Errorf("%s imports %s", pkg, dep)
			}
		}
	}
}
