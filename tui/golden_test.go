package tui_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testdata is absolute: the tests' environments change directory.
var testdata = func() string {
	p, err := filepath.Abs("testdata")
	if err != nil {
		panic(err)
	}
	return p
}()

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ (and the captures in docs/console.md)")

// golden compares the model's View with testdata/<name>.golden. Views are
// rendered with colours off (Options.NoColor pins the Ascii profile), so
// the files are plain text that the manual quotes.
func golden(t *testing.T, d *driver, name string) {
	t.Helper()
	d.until("the estimate and the detail", func() bool { return !d.m.Estimating() && d.m.DetailReady() })
	got := d.m.View() + "\n"
	path := filepath.Join(testdata, name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("View() differs from %s (-want +got):\n%s", path, diff)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if w, h := d.size(); len(lines) != h {
		t.Errorf("View() has %d lines; want %d", len(lines), h)
	} else {
		for i, l := range lines {
			if n := displayWidth(l); n != w {
				t.Errorf("View() line %d is %d cells wide; want %d: %q", i+1, n, w, l)
			}
		}
	}
}

type scene struct {
	name string
	cfg  envOpts
	w, h int
	// setup drives the console from the review (or, with fetchOnly, from
	// the start) to the state to capture.
	fetchOnly bool
	// holdToken holds the org's token answer until the directory is
	// read, so that a fetch that fails at the org is captured with the
	// directory side finished, whichever side would have been first.
	holdToken bool
	setup     func(d *driver)
}

func scenes() []scene {
	sizes := []struct {
		suffix string
		w, h   int
	}{{"80x24", 80, 24}, {"120x40", 120, 40}}
	base := []scene{
		{name: "fetch_throttled", cfg: envOpts{wrap: throttleFirstRead("42"), primaryOnly: true}, fetchOnly: true, setup: func(d *driver) {
			d.until("the fetch throttle", func() bool { _, th, _ := d.m.FetchState(); return th })
			// The directory is read alongside: the capture shows it read.
			d.until("the directory read", func() bool { return strings.Contains(d.m.View(), "✓ read") })
			d.advance(12 * time.Second)
		}},
		{name: "fetch_error", cfg: envOpts{secret: "not-the-secret", primaryOnly: true}, fetchOnly: true, holdToken: true, setup: func(d *driver) {
			d.until("the fetch error", func() bool { _, _, err := d.m.FetchState(); return err != nil })
		}},
		{name: "review", setup: func(d *driver) {}},
		{name: "review_filtered", setup: func(d *driver) {
			d.press("/")
			d.typ("group:design")
			d.press("enter", "down", "space", "down")
		}},
		{name: "review_detail", setup: func(d *driver) { d.press("down", "down", "enter") }},
		{name: "review_limit", cfg: envOpts{limit: "2", testMode: true}, setup: func(d *driver) { d.press("G") }},
		{name: "review_group_hold", cfg: guard, setup: func(d *driver) { d.press("G") }},
		{name: "review_release", cfg: guard, setup: func(d *driver) { d.press("W"); d.typ("3") }},
		{name: "review_pending", cfg: envOpts{limits: "  adobe_only_grace_period: 7d\n", primaryOnly: true}, setup: func(d *driver) {
			d.press("/")
			d.typ("is:pending")
			d.press("enter")
		}},
		{name: "review_approve", setup: func(d *driver) { d.press("A"); d.typ("4") }},
		{name: "review_help", setup: func(d *driver) { d.press("?") }},
		{name: "mappings", setup: func(d *driver) { d.press("3") }},
		{name: "mappings_misspelt", cfg: envOpts{mapping: misspelt}, setup: func(d *driver) { d.press("3", "j", "j") }},
		{name: "mappings_edited", cfg: envOpts{mapping: misspelt}, setup: func(d *driver) {
			d.press("3", "j", "j", "r", "enter")
			d.until("the replan", func() bool { return !d.m.MappingBusy() && len(d.m.MappingEdits()) == 1 })
		}},
		{name: "mappings_help", setup: func(d *driver) { d.press("3", "?") }},
		{name: "review_findings", cfg: envOpts{mapping: misspelt}, setup: func(d *driver) {}},
		{name: "explain", setup: func(d *driver) {
			d.press("4")
			d.typ("finn.berg@example.org")
			d.press("enter")
			d.until("the explanation", func() bool { return d.m.Explained() != nil })
		}},
		{name: "apply_throttled", cfg: envOpts{wrap: throttleAction(2, "42")}, setup: func(d *driver) {
			d.press("A")
			d.typ("4")
			d.press("enter")
			d.until("the throttle wait", func() bool { _, th, _ := d.m.Applying(); return th })
			d.advance(5 * time.Second)
		}},
		{name: "summary", setup: func(d *driver) {
			d.press("A")
			d.typ("4")
			d.press("enter")
			d.until("the history", func() bool { runs, _ := d.m.Runs(); return d.screen() == "Summary" && len(runs) == 1 })
		}},
		{name: "history_run", setup: func(d *driver) {
			d.press("6")
			d.until("the history", func() bool { runs, _ := d.m.Runs(); return len(runs) == 1 })
			d.press("enter")
			d.until("the run", func() bool { _, r := d.m.Runs(); return r != nil })
		}},
	}
	var out []scene
	for _, s := range base {
		for _, sz := range sizes {
			s := s
			s.name += "_" + sz.suffix
			s.w, s.h = sz.w, sz.h
			out = append(out, s)
		}
	}
	return out
}

// start drives a fresh console on the real backend into the scene.
func (s scene) start(t *testing.T) *driver {
	t.Helper()
	var gate chan struct{}
	if s.holdToken {
		gate = make(chan struct{})
		s.cfg.wrap = holdTokens(gate)
	}
	e := newEnv(t, s.cfg)
	b, clock := e.b, e.clock
	var d *driver
	if s.fetchOnly {
		d = newDriver(t, b, clock, s.w, s.h)
		if gate != nil {
			d.until("the directory read", func() bool { return strings.Contains(d.m.View(), "✓ read") })
			close(gate)
		}
	} else {
		d = ready(t, b, clock, s.w, s.h)
	}
	s.setup(d)
	return d
}

// TestGolden renders every screen at 80×24 and 120×40.
func TestGolden(t *testing.T) {
	for _, s := range scenes() {
		t.Run(s.name, func(t *testing.T) {
			golden(t, s.start(t), s.name)
		})
	}
}
