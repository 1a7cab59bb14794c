// Package config owns comfyd's command line and environment: ComfyUI's
// flags with their names, defaults and meaning (comfy/cli_args.py), parsed
// the way Python's argparse does (--flag value, --flag=value, flags with an
// optional value, unique prefixes), plus comfyd's own --auth-token and
// --sync-writes. It is the only package that reads os.Args and os.Getenv.
//
// It imports nothing of comfyd.
package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is the parsed command line.
type Config struct {
	// Argv is the command line as given (for /system_stats).
	Argv []string
	// Getenv reads the environment (for $VARS in extra_model_paths.yaml).
	Getenv func(string) string `json:"-"`

	Listen []string // bind addresses, each on Port
	Port   int

	TLSKeyFile, TLSCertFile string

	// BaseDir is the root of input/ output/ temp/ user/ models/ custom_nodes/.
	BaseDir string
	// Directory overrides ("" = under BaseDir). TempParent is the value of
	// --temp-directory: the temp dir becomes TempParent/temp (ComfyUI).
	InputDir, OutputDir, TempParent, UserDir string

	ExtraModelPaths []string

	// MaxUploadSizeMB is --max-upload-size; MaxUploadSizeSet records that
	// it was given (the feature flag is then a float: ComfyUI's quirk).
	MaxUploadSizeMB  float64
	MaxUploadSizeSet bool

	// CORSOrigin is --enable-cors-header's origin ("" = flag absent).
	CORSOrigin string

	MultiUser       bool
	DisableMetadata bool
	PreviewMethod   string // none|auto|latent2rgb|taesd
	PreviewSize     int
	CacheKind       string // classic|lru|none
	CacheLRU        int

	FrontEndRoot string
	Verbose      string // DEBUG|INFO|WARNING|ERROR|CRITICAL

	DontPrintServer  bool
	CompressResponse bool
	HashFunction     string // md5|sha1|sha256|sha512

	// AuthToken (--auth-token or COMFYD_AUTH_TOKEN) guards every route.
	AuthToken string
	// SyncWrites makes the queue fsync before acknowledging a prompt.
	SyncWrites bool
}

// MaxUploadBytes is the request body limit: round(MB*1024*1024).
func (c *Config) MaxUploadBytes() int64 {
	return int64(math.Round(c.MaxUploadSizeMB * 1024 * 1024))
}

// MaxUploadFeature is the max_upload_size feature flag: an int by default,
// a float64 when the flag was given (argparse parsed it as a float).
func (c *Config) MaxUploadFeature() (v float64, isFloat bool) {
	return c.MaxUploadSizeMB * 1024 * 1024, c.MaxUploadSizeSet
}

// Dirs returns the resolved absolute input, output, temp and user folders.
func (c *Config) Dirs() (input, output, temp, user string) {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return filepath.Clean(p)
		}
		return a
	}
	base := abs(c.BaseDir)
	input, output, temp, user = filepath.Join(base, "input"), filepath.Join(base, "output"), filepath.Join(base, "temp"), filepath.Join(base, "user")
	if c.InputDir != "" {
		input = abs(c.InputDir)
	}
	if c.OutputDir != "" {
		output = abs(c.OutputDir)
	}
	if c.TempParent != "" {
		temp = filepath.Join(abs(c.TempParent), "temp")
	}
	if c.UserDir != "" {
		user = abs(c.UserDir)
	}
	return
}

// Load parses os.Args and the environment.
func Load() (*Config, error) {
	return Parse(os.Args[1:], os.Getenv)
}

// ErrHelp is returned for -h/--help; Usage holds the text.
var ErrHelp = errors.New("help requested")

type kind int

const (
	kBool     kind = iota // store_true
	kValue                // exactly one value
	kOptional             // nargs='?': const when no value follows
	kList                 // nargs='+' action='append'
)

type flagDef struct {
	name    string
	kind    kind
	konst   string   // value for kOptional without an argument
	choices []string // allowed values
	set     func(c *Config, v string) error
	help    string
	ignored bool // a ComfyUI flag that changes nothing here
}

func intFlag(dst func(c *Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("invalid int value: '%s'", v)
		}
		*dst(c) = n
		return nil
	}
}

func strFlag(dst func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *dst(c) = v; return nil }
}

func boolFlag(dst func(c *Config) *bool) func(*Config, string) error {
	return func(c *Config, _ string) error { *dst(c) = true; return nil }
}

var flags = []flagDef{
	{name: "listen", kind: kOptional, konst: "0.0.0.0,::", help: "IP addresses to listen on, comma separated (bare: 0.0.0.0,::)",
		set: func(c *Config, v string) error {
			c.Listen = nil
			for _, a := range strings.Split(v, ",") {
				if a = strings.TrimSpace(a); a != "" {
					c.Listen = append(c.Listen, a)
				}
			}
			return nil
		}},
	{name: "port", kind: kValue, set: intFlag(func(c *Config) *int { return &c.Port }), help: "listen port (8188)"},
	{name: "tls-keyfile", kind: kValue, set: strFlag(func(c *Config) *string { return &c.TLSKeyFile })},
	{name: "tls-certfile", kind: kValue, set: strFlag(func(c *Config) *string { return &c.TLSCertFile })},
	{name: "enable-cors-header", kind: kOptional, konst: "*", set: strFlag(func(c *Config) *string { return &c.CORSOrigin }), help: "enable CORS with this origin (bare: *)"},
	{name: "max-upload-size", kind: kValue, help: "request body limit in MB (100)", set: func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fmt.Errorf("invalid float value: '%s'", v)
		}
		c.MaxUploadSizeMB, c.MaxUploadSizeSet = f, true
		return nil
	}},
	{name: "base-directory", kind: kValue, set: strFlag(func(c *Config) *string { return &c.BaseDir }), help: "root of models/ input/ output/ temp/ user/"},
	{name: "extra-model-paths-config", kind: kList, help: "extra_model_paths.yaml files", set: func(c *Config, v string) error {
		c.ExtraModelPaths = append(c.ExtraModelPaths, v)
		return nil
	}},
	{name: "output-directory", kind: kValue, set: strFlag(func(c *Config) *string { return &c.OutputDir })},
	{name: "temp-directory", kind: kValue, set: strFlag(func(c *Config) *string { return &c.TempParent }), help: "the temp dir becomes DIR/temp"},
	{name: "input-directory", kind: kValue, set: strFlag(func(c *Config) *string { return &c.InputDir })},
	{name: "user-directory", kind: kValue, set: strFlag(func(c *Config) *string { return &c.UserDir })},
	{name: "front-end-root", kind: kValue, set: strFlag(func(c *Config) *string { return &c.FrontEndRoot }), help: "serve this folder as the web root"},
	{name: "multi-user", kind: kBool, set: boolFlag(func(c *Config) *bool { return &c.MultiUser })},
	{name: "disable-metadata", kind: kBool, set: boolFlag(func(c *Config) *bool { return &c.DisableMetadata })},
	{name: "preview-method", kind: kValue, choices: []string{"none", "auto", "latent2rgb", "taesd"}, set: strFlag(func(c *Config) *string { return &c.PreviewMethod })},
	{name: "preview-size", kind: kValue, set: intFlag(func(c *Config) *int { return &c.PreviewSize })},
	{name: "cache-classic", kind: kBool, set: func(c *Config, _ string) error { c.CacheKind = "classic"; return nil }},
	{name: "cache-lru", kind: kValue, set: func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("invalid int value: '%s'", v)
		}
		c.CacheKind, c.CacheLRU = "lru", n
		return nil
	}},
	{name: "cache-none", kind: kBool, set: func(c *Config, _ string) error { c.CacheKind = "none"; return nil }},
	{name: "verbose", kind: kOptional, konst: "DEBUG", choices: []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}, set: strFlag(func(c *Config) *string { return &c.Verbose })},
	{name: "dont-print-server", kind: kBool, set: boolFlag(func(c *Config) *bool { return &c.DontPrintServer })},
	{name: "enable-compress-response-body", kind: kBool, set: boolFlag(func(c *Config) *bool { return &c.CompressResponse })},
	{name: "default-hashing-function", kind: kValue, choices: []string{"md5", "sha1", "sha256", "sha512"}, set: strFlag(func(c *Config) *string { return &c.HashFunction })},
	{name: "auth-token", kind: kValue, set: strFlag(func(c *Config) *string { return &c.AuthToken }), help: "require Authorization: Bearer TOKEN (or ?token=TOKEN); env COMFYD_AUTH_TOKEN"},
	{name: "sync-writes", kind: kBool, set: boolFlag(func(c *Config) *bool { return &c.SyncWrites }), help: "fsync the queue before acknowledging a prompt"},
}

// Flags ComfyUI accepts that change nothing in comfyd (devices, memory
// modes, node loading, browser launch): accepted so that existing launch
// scripts keep working.
var ignoredBool = []string{
	"auto-launch", "disable-auto-launch", "cpu", "gpu-only", "highvram", "normalvram", "lowvram", "novram",
	"cpu-vae", "force-fp32", "force-fp16", "fp32-unet", "fp64-unet", "bf16-unet", "fp16-unet", "fp8_e4m3fn-unet",
	"fp8_e5m2-unet", "fp8_e8m0fnu-unet", "fp16-vae", "fp32-vae", "bf16-vae", "fp8_e4m3fn-text-enc",
	"fp8_e5m2-text-enc", "fp16-text-enc", "fp32-text-enc", "bf16-text-enc", "force-channels-last",
	"disable-ipex-optimize", "use-split-cross-attention", "use-quad-cross-attention", "use-pytorch-cross-attention",
	"use-sage-attention", "use-flash-attention", "disable-xformers", "force-upcast-attention", "dont-upcast-attention",
	"disable-smart-memory", "deterministic", "fast", "mmap-torch-files", "disable-mmap", "dont-print-server",
	"quick-test-for-ci", "windows-standalone-build", "disable-all-custom-nodes", "disable-api-nodes",
	"log-stdout", "supports-fp8-compute", "disable-pinned-memory", "async-offload",
}

var ignoredValue = []string{
	"cuda-device", "default-device", "cuda-malloc", "disable-cuda-malloc", "directml", "oneapi-device-selector",
	"reserve-vram", "front-end-version", "comfy-api-base", "database-url", "whitelist-custom-nodes",
}

func init() {
	for _, n := range ignoredBool {
		if n == "dont-print-server" {
			continue
		}
		flags = append(flags, flagDef{name: n, kind: kBool, ignored: true, set: func(*Config, string) error { return nil }})
	}
	for _, n := range ignoredValue {
		k := kValue
		if n == "cuda-malloc" || n == "disable-cuda-malloc" {
			k = kBool
		}
		if n == "directml" || n == "fast" || n == "whitelist-custom-nodes" {
			k = kList
		}
		flags = append(flags, flagDef{name: n, kind: k, ignored: true, set: func(*Config, string) error { return nil }})
	}
}

// Defaults returns the configuration without any flag.
func Defaults(getenv func(string) string) *Config {
	return &Config{
		Listen:          []string{"127.0.0.1"},
		Port:            8188,
		BaseDir:         DefaultBaseDir(getenv),
		MaxUploadSizeMB: 100,
		PreviewMethod:   "none",
		PreviewSize:     512,
		CacheKind:       "classic",
		Verbose:         "INFO",
		HashFunction:    "sha256",
	}
}

// DefaultBaseDir is $XDG_DATA_HOME/comfyd, else ~/.local/share/comfyd.
func DefaultBaseDir(getenv func(string) string) string {
	if x := getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "comfyd")
	}
	home := getenv("HOME")
	if home == "" {
		home = "."
	}
	return filepath.Join(home, ".local", "share", "comfyd")
}

func lookup(name string) (*flagDef, error) {
	for i := range flags {
		if flags[i].name == name {
			return &flags[i], nil
		}
	}
	// argparse accepts any unique prefix of a long option.
	var match *flagDef
	var names []string
	for i := range flags {
		if strings.HasPrefix(flags[i].name, name) {
			match = &flags[i]
			names = append(names, "--"+flags[i].name)
		}
	}
	switch len(names) {
	case 0:
		return nil, fmt.Errorf("unrecognized arguments: --%s", name)
	case 1:
		return match, nil
	}
	return nil, fmt.Errorf("ambiguous option: --%s could match %s", name, strings.Join(names, ", "))
}

func isFlag(s string) bool {
	if !strings.HasPrefix(s, "-") || s == "-" {
		return false
	}
	// argparse treats negative numbers as values when no option looks like one.
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return false
	}
	return true
}

// Parse parses args (without the program name) like ComfyUI's argparse
// parser, with getenv for the environment.
func Parse(args []string, getenv func(string) string) (*Config, error) {
	c := Defaults(getenv)
	c.Argv = append([]string{"comfyd"}, args...)
	c.Getenv = getenv
	if t := getenv("COMFYD_AUTH_TOKEN"); t != "" {
		c.AuthToken = t
	}
	cacheFlags := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" {
			return nil, ErrHelp
		}
		if a == "--" {
			if i+1 < len(args) {
				return nil, fmt.Errorf("unrecognized arguments: %s", strings.Join(args[i+1:], " "))
			}
			break
		}
		if !strings.HasPrefix(a, "--") {
			return nil, fmt.Errorf("unrecognized arguments: %s", a)
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		f, err := lookup(name)
		if err != nil {
			return nil, err
		}
		var vals []string
		switch f.kind {
		case kBool:
			if hasVal {
				return nil, fmt.Errorf("argument --%s: ignored explicit argument '%s'", f.name, val)
			}
			vals = []string{""}
		case kValue:
			if !hasVal {
				if i+1 >= len(args) || isFlag(args[i+1]) {
					return nil, fmt.Errorf("argument --%s: expected one argument", f.name)
				}
				i++
				val = args[i]
			}
			vals = []string{val}
		case kOptional:
			if !hasVal {
				if i+1 < len(args) && !isFlag(args[i+1]) {
					i++
					val = args[i]
				} else {
					val = f.konst
				}
			}
			vals = []string{val}
		case kList:
			if hasVal {
				vals = []string{val}
			}
			for i+1 < len(args) && !isFlag(args[i+1]) {
				i++
				vals = append(vals, args[i])
			}
			if len(vals) == 0 {
				return nil, fmt.Errorf("argument --%s: expected at least one argument", f.name)
			}
		}
		for _, v := range vals {
			if len(f.choices) > 0 && !contains(f.choices, v) {
				return nil, fmt.Errorf("argument --%s: invalid choice: '%s' (choose from %s)", f.name, v, quoteList(f.choices))
			}
			if err := f.set(c, v); err != nil {
				return nil, fmt.Errorf("argument --%s: %v", f.name, err)
			}
		}
		if strings.HasPrefix(f.name, "cache-") {
			cacheFlags++
		}
	}
	if cacheFlags > 1 {
		return nil, errors.New("argument --cache-*: not allowed with another --cache-* argument")
	}
	if c.Port < 0 || c.Port > 65535 {
		return nil, fmt.Errorf("argument --port: %d out of range", c.Port)
	}
	if c.MaxUploadSizeMB <= 0 || math.IsNaN(c.MaxUploadSizeMB) || math.IsInf(c.MaxUploadSizeMB, 0) {
		return nil, errors.New("argument --max-upload-size: must be a positive number")
	}
	if c.PreviewSize <= 0 {
		return nil, errors.New("argument --preview-size: must be positive")
	}
	if c.CacheLRU < 0 {
		return nil, errors.New("argument --cache-lru: must not be negative")
	}
	if (c.TLSKeyFile == "") != (c.TLSCertFile == "") {
		return nil, errors.New("--tls-keyfile and --tls-certfile must be given together")
	}
	if len(c.Listen) == 0 {
		return nil, errors.New("argument --listen: no address")
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

// Usage is the --help text.
func Usage() string {
	var b strings.Builder
	b.WriteString("usage: comfyd [options]\n\ncomfyd serves ComfyUI's HTTP and WebSocket API. Options (ComfyUI's names;\nComfyUI's device and memory flags are accepted and ignored):\n")
	for _, f := range flags {
		if f.ignored {
			continue
		}
		arg := ""
		switch f.kind {
		case kValue:
			arg = " VALUE"
		case kOptional:
			arg = " [VALUE]"
		case kList:
			arg = " VALUE..."
		}
		fmt.Fprintf(&b, "  --%s%s", f.name, arg)
		if f.help != "" {
			fmt.Fprintf(&b, "\n        %s", f.help)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
