package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Parse(nil, env(map[string]string{"HOME": "/home/u"}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Listen, []string{"127.0.0.1"}) || c.Port != 8188 {
		t.Errorf("listen %v port %d", c.Listen, c.Port)
	}
	if c.BaseDir != "/home/u/.local/share/comfyd" {
		t.Errorf("base %s", c.BaseDir)
	}
	if c.MaxUploadBytes() != 100*1024*1024 {
		t.Errorf("max upload %d", c.MaxUploadBytes())
	}
	if v, isFloat := c.MaxUploadFeature(); v != 104857600 || isFloat {
		t.Errorf("feature %v %v", v, isFloat)
	}
	if c.CacheKind != "classic" || c.PreviewMethod != "none" || c.PreviewSize != 512 || c.HashFunction != "sha256" || c.Verbose != "INFO" {
		t.Errorf("defaults %+v", c)
	}
	c, _ = Parse(nil, env(map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "/x"}))
	if c.BaseDir != "/x/comfyd" {
		t.Errorf("xdg base %s", c.BaseDir)
	}
}

func TestArgparseForms(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(c *Config) bool
	}{
		{[]string{"--listen"}, func(c *Config) bool { return reflect.DeepEqual(c.Listen, []string{"0.0.0.0", "::"}) }},
		{[]string{"--listen", "--port", "9000"}, func(c *Config) bool { return len(c.Listen) == 2 && c.Port == 9000 }},
		{[]string{"--listen", "10.0.0.1,127.0.0.1"}, func(c *Config) bool { return reflect.DeepEqual(c.Listen, []string{"10.0.0.1", "127.0.0.1"}) }},
		{[]string{"--listen=::1", "--port=81"}, func(c *Config) bool { return c.Listen[0] == "::1" && c.Port == 81 }},
		{[]string{"--enable-cors-header"}, func(c *Config) bool { return c.CORSOrigin == "*" }},
		{[]string{"--enable-cors-header", "http://a.example"}, func(c *Config) bool { return c.CORSOrigin == "http://a.example" }},
		{[]string{"--max-upload-size", "50"}, func(c *Config) bool {
			v, f := c.MaxUploadFeature()
			return v == 52428800 && f && c.MaxUploadBytes() == 52428800
		}},
		{[]string{"--extra-model-paths-config", "a.yaml", "b.yaml", "--extra-model-paths-config", "c.yaml"}, func(c *Config) bool {
			return reflect.DeepEqual(c.ExtraModelPaths, []string{"a.yaml", "b.yaml", "c.yaml"})
		}},
		{[]string{"--cache-lru", "10"}, func(c *Config) bool { return c.CacheKind == "lru" && c.CacheLRU == 10 }},
		{[]string{"--cache-none"}, func(c *Config) bool { return c.CacheKind == "none" }},
		{[]string{"--verbose"}, func(c *Config) bool { return c.Verbose == "DEBUG" }},
		{[]string{"--verbose", "WARNING"}, func(c *Config) bool { return c.Verbose == "WARNING" }},
		{[]string{"--out", "/o"}, func(c *Config) bool { return c.OutputDir == "/o" }}, // unique prefix
		{[]string{"--cpu", "--lowvram", "--cuda-device", "0", "--multi-user"}, func(c *Config) bool { return c.MultiUser }},
		{[]string{"--auth-token", "s3cret", "--sync-writes"}, func(c *Config) bool { return c.AuthToken == "s3cret" && c.SyncWrites }},
		{[]string{"--preview-method", "auto", "--preview-size", "256", "--default-hashing-function", "md5"}, func(c *Config) bool {
			return c.PreviewMethod == "auto" && c.PreviewSize == 256 && c.HashFunction == "md5"
		}},
	} {
		c, err := Parse(tc.args, env(map[string]string{"HOME": "/h"}))
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if !tc.check(c) {
			t.Errorf("%v: unexpected %+v", tc.args, c)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--port"}, {"--port", "x"}, {"--nope"}, {"stray"}, {"--preview-method", "bogus"},
		{"--cache-none", "--cache-lru", "3"}, {"--multi-user=yes"}, {"--max-upload-size", "0"},
		{"--c"}, // ambiguous prefix
		{"--tls-keyfile", "k"},
	} {
		if _, err := Parse(args, env(nil)); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, err := Parse([]string{"--help"}, env(nil)); err != ErrHelp {
		t.Errorf("help: %v", err)
	}
	if !strings.Contains(Usage(), "--auth-token") {
		t.Error("usage lacks --auth-token")
	}
}

func TestDirs(t *testing.T) {
	c, _ := Parse([]string{"--base-directory", "/b", "--temp-directory", "/t", "--output-directory", "/o"}, env(map[string]string{"COMFYD_AUTH_TOKEN": "tok"}))
	in, out, tmp, user := c.Dirs()
	if in != filepath.FromSlash("/b/input") || out != "/o" || tmp != "/t/temp" || user != "/b/user" {
		t.Errorf("dirs %s %s %s %s", in, out, tmp, user)
	}
	if c.AuthToken != "tok" {
		t.Errorf("env token %q", c.AuthToken)
	}
}
