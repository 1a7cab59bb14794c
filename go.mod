module github.com/comfyd/comfyd

go 1.26.8

require (
	github.com/coder/websocket v1.8.14
	github.com/gen2brain/webp v0.5.5
	go.etcd.io/bbolt v1.4.3
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/ebitengine/purego v0.8.3 // indirect
	github.com/tetratelabs/wazero v1.9.0 // indirect
	golang.org/x/sys v0.29.0 // indirect
)
