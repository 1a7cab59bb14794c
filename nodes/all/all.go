// Package all registers every built-in node class by blank-importing the
// node packages (caddy's modules/standard). cmd/comfyd imports it; it has
// no code of its own.
package all

import (
	_ "github.com/comfyd/comfyd/nodes/image"
	_ "github.com/comfyd/comfyd/nodes/mask"
	_ "github.com/comfyd/comfyd/nodes/postprocess"
	_ "github.com/comfyd/comfyd/nodes/primitive"
	_ "github.com/comfyd/comfyd/nodes/upscale"
)
