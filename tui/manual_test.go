package tui_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// capture is a marker in docs/console.md followed by a text block that
// quotes testdata/<name>.golden.
var capture = regexp.MustCompile("(?m)^<!-- capture: ([a-z0-9_]+) -->\n(?:\n```text\n(?s:.*?)```\n)?")

// TestDocsCaptures keeps the screen captures of the manual equal to the
// golden files; with -update it rewrites them.
func TestDocsCaptures(t *testing.T) {
	path := filepath.Join("..", "docs", "console.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no manual page: %v", err)
	}
	found := 0
	var missing []string
	out := capture.ReplaceAllFunc(doc, func(m []byte) []byte {
		name := string(capture.FindSubmatch(m)[1])
		found++
		g, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err != nil {
			missing = append(missing, name)
			return m
		}
		lines := strings.Split(strings.TrimRight(string(g), "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		return []byte("<!-- capture: " + name + " -->\n\n```text\n" + strings.Join(lines, "\n") + "\n```\n")
	})
	if len(missing) > 0 {
		t.Errorf("%s quotes golden files that do not exist: %v", path, missing)
	}
	if found == 0 {
		t.Fatalf("%s has no capture markers", path)
	}
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(doc), string(out)); diff != "" {
		t.Errorf("%s is out of date with testdata; run go test ./tui -update (-doc +golden):\n%s", path, diff)
	}
}
