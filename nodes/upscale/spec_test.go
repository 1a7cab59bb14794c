package upscale

import (
	"testing"

	"github.com/comfyd/comfyd/internal/testutil"
)

// Every node this package registers must give ComfyUI 0.3.64's exact
// /object_info entry (testdata copied from golden/comfyui-captures).
func TestObjectInfo(t *testing.T) {
	testutil.CheckObjectInfo(t, "testdata/object_info.json", nil)
}
