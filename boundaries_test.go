package usersync_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/usersync/usersync"

// TestPackageBoundaries enforces the import table of DESIGN.md: core imports
// no connector, store, tui or terminal library; connectors and store import
// only core of ours; tui imports core and store only.
func TestPackageBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			if msg := violation(rel, imp); msg != "" {
				t.Errorf("%s imports %s: %s", p.ImportPath, imp, msg)
			}
		}
		checked++
	}
	if checked < 3 {
		t.Fatalf("checked only %d packages", checked)
	}
}

func under(rel, top string) bool { return rel == top || strings.HasPrefix(rel, top+"/") }

func violation(pkg, imp string) string {
	ours := strings.HasPrefix(imp, module+"/") || imp == module
	impRel := strings.TrimPrefix(imp, module+"/")
	switch {
	case under(pkg, "core"):
		if ours && !under(impRel, "core") {
			return "core may import only core"
		}
		if strings.HasPrefix(imp, "github.com/charmbracelet/") || strings.Contains(imp, "bbolt") || strings.Contains(imp, "go-ldap") {
			return "core may not import terminal, storage or directory libraries"
		}
	case under(pkg, "connectors"):
		if ours && !under(impRel, "core") && !sameConnector(pkg, impRel) {
			return "a connector may import only core (and its own subpackages)"
		}
		if strings.HasPrefix(imp, "github.com/charmbracelet/") {
			return "connectors may not import terminal libraries"
		}
	case under(pkg, "store"):
		if ours && !under(impRel, "core") && !under(impRel, "store") {
			return "store may import only core"
		}
	case under(pkg, "tui"):
		if ours && !under(impRel, "core") && !under(impRel, "store") && !under(impRel, "tui") {
			return "tui may import only core and store"
		}
	}
	return ""
}

// sameConnector allows a connector's own subpackages and test helpers
// (connectors/umapi may use connectors/umapi/sim in its tests' helpers;
// connectortest may import every connector it checks).
func sameConnector(pkg, imp string) bool {
	p := strings.Split(pkg, "/")
	i := strings.Split(imp, "/")
	if len(p) >= 2 && p[1] == "connectortest" {
		return under(imp, "connectors")
	}
	return len(p) >= 2 && len(i) >= 2 && p[1] == i[1]
}

func TestViolation(t *testing.T) {
	for _, tc := range []struct {
		pkg, imp string
		bad      bool
	}{
		{"core", module + "/store", true},
		{"core", "github.com/charmbracelet/lipgloss", true},
		{"core/config", module + "/core", false},
		{"connectors/ldap", module + "/core", false},
		{"connectors/ldap", module + "/store", true},
		{"connectors/umapi", module + "/connectors/umapi/sim", false},
		{"connectors/okta", module + "/connectors/ldap", true},
		{"store", module + "/core", false},
		{"store", module + "/tui", true},
		{"tui", module + "/store", false},
		{"tui", module + "/connectors/umapi", true},
		{"cmd/usersync", module + "/tui", false},
	} {
		if got := violation(tc.pkg, tc.imp) != ""; got != tc.bad {
			t.Errorf("violation(%q, %q) = %v; want %v", tc.pkg, tc.imp, got, tc.bad)
		}
	}
}
