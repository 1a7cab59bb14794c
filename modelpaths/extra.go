package modelpaths

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadExtraConfig reads an extra_model_paths.yaml as ComfyUI does
// (utils/extra_config.py): each top-level section may set base_path
// (~ and $VARS expanded, relative to the YAML's directory) and is_default
// (new dirs go first); every other key is a folder name whose value is one
// path or several separated by newlines, joined to base_path or, without
// one, resolved against the YAML's directory. It returns the (folder, dir)
// pairs it added, in order.
func (p *Paths) LoadExtraConfig(path string) ([][2]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	yamlDir := filepath.Dir(abs)
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: top level is not a mapping", path)
	}
	var added [][2]string
	for i := 0; i+1 < len(top.Content); i += 2 {
		sec := top.Content[i+1]
		if sec.Kind != yaml.MappingNode {
			continue // a null section is skipped, like ComfyUI's "if conf is None"
		}
		base := ""
		isDefault := false
		type kv struct{ k, v string }
		var entries []kv
		for j := 0; j+1 < len(sec.Content); j += 2 {
			k, v := sec.Content[j].Value, sec.Content[j+1]
			switch k {
			case "base_path":
				base = p.expand(v.Value)
				if !filepath.IsAbs(base) {
					base = filepath.Join(yamlDir, base)
				}
			case "is_default":
				var b bool
				if err := v.Decode(&b); err != nil {
					return nil, fmt.Errorf("%s: is_default: %w", path, err)
				}
				isDefault = b
			default:
				if v.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("%s: %s: expected a path string", path, k)
				}
				entries = append(entries, kv{k, v.Value})
			}
		}
		for _, e := range entries {
			for _, line := range strings.Split(e.v, "\n") {
				if line == "" {
					continue
				}
				full := line
				if base != "" {
					full = filepath.Join(base, line)
				} else if !filepath.IsAbs(full) {
					full = filepath.Join(yamlDir, line)
				}
				full = filepath.Clean(full)
				p.AddPath(e.k, full, isDefault)
				added = append(added, [2]string{MapLegacy(e.k), full})
			}
		}
	}
	return added, nil
}

// expand is os.path.expandvars(os.path.expanduser(s)), with the
// environment given by config (the only reader of the environment).
func (p *Paths) expand(s string) string {
	get := p.Getenv
	if get == nil {
		get = func(string) string { return "" }
	}
	if s == "~" || strings.HasPrefix(s, "~/") {
		if home := get("HOME"); home != "" {
			s = home + s[1:]
		}
	}
	return os.Expand(s, func(k string) string {
		if v := get(k); v != "" {
			return v
		}
		return "${" + k + "}" // Python leaves unknown variables as written
	})
}
