package tui_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usersync/usersync/core"
)

// TestFlow drives the console end to end through the real backend: fetch,
// filter, exclude one change, approve the deletions by typing their number,
// apply through a throttle wait, and read the summary.
func TestFlow(t *testing.T) {
	e := newEnv(t, envOpts{wrap: throttleAction(2, "42")})
	clock := e.clock
	d := ready(t, e.b, clock, 80, 24)

	d.press("/")
	d.typ("group:design")
	if got := d.m.ShownUsers(); len(got) == 0 {
		t.Fatalf("filter group:design shows nothing")
	}
	d.press("enter")
	// Exclude lea? She is not in the plan; exclude the first design create.
	c := d.m.CursorChange()
	if c == nil {
		t.Fatal("no change under the cursor")
	}
	excluded := c.ID
	d.press("space")
	if got := d.m.Excluded(); !got[excluded] || len(got) != 1 {
		t.Fatalf("after space, excluded = %v; want only %d", got, excluded)
	}
	d.press("esc") // clear the filter
	if d.m.Shown() != 31 {
		t.Fatalf("after esc, shown = %d; want every change (31)", d.m.Shown())
	}

	d.press("A")
	open, need := d.m.Dialog()
	if !open || need != 4 {
		t.Fatalf("Dialog() = %v, %d; want open, 4 deletions to type", open, need)
	}
	d.typ("3")
	d.press("enter")
	if open, _ := d.m.Dialog(); !open || d.screen() != "Review" {
		t.Fatalf("typing the wrong number approved the plan")
	}
	d.press("backspace")
	d.typ("4")
	d.press("enter")
	if d.screen() != "Apply" {
		t.Fatalf("screen = %s after approval; want Apply", d.screen())
	}

	d.until("the throttle wait", func() bool { _, th, _ := d.m.Applying(); return th })
	view := d.m.View()
	if !strings.Contains(view, "waiting 42s (throttled by the server: HTTP 429") {
		t.Errorf("apply view during the wait lacks the countdown:\n%s", view)
	}
	d.advance(20 * time.Second)
	if view := d.m.View(); !strings.Contains(view, "waiting 22s") {
		t.Errorf("countdown after 20s does not say 22s:\n%s", view)
	}
	d.advance(22 * time.Second)
	d.until("the summary", func() bool { return d.screen() == "Summary" })

	res := d.m.ApplyResult()
	if res == nil || res.Cancelled {
		t.Fatalf("ApplyResult() = %+v; want a finished apply", res)
	}
	if slices.Contains(succeeded(res), excluded) {
		t.Errorf("excluded change %d was applied", excluded)
	}
	var failed []core.ChangeResult
	for _, r := range res.Results {
		if r.Outcome == core.OutcomeFailed {
			failed = append(failed, r)
		}
	}
	// Finn's domain is not claimed by the org: his creation fails, and
	// with it the group add of the same command.
	if len(failed) != 2 || failed[0].Code != "error.domain.trust.nonexistent" {
		t.Errorf("failures = %+v; want finn's create refused for his domain", failed)
	}
	if got, want := len(succeeded(res)), 31-1-2; got != want {
		t.Errorf("applied %d changes; want %d (all but the excluded and the failed)", got, want)
	}
	d.until("the history", func() bool { runs, _ := d.m.Runs(); return len(runs) == 1 })
	view = d.m.View()
	for _, want := range []string{"✓ 28 succeeded", "✗ 2 failed", "1 excluded", "error.domain.trust", "console", "exit code 3"} {
		if !strings.Contains(view, want) {
			t.Errorf("summary lacks %q:\n%s", want, view)
		}
	}
	d.press("enter")
	d.until("the run's detail", func() bool { _, det := d.m.Runs(); return det != nil })
	if view := d.m.View(); !strings.Contains(view, "Excluded in this run") && !strings.Contains(view, "Per-user results") {
		t.Errorf("run detail view:\n%s", view)
	}
}
