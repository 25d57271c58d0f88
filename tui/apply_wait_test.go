package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
)

// TestApplyWaitLine: a pacing wait shows its cause, org and countdown and
// the time left for the whole apply, counts down with the clock, and goes
// when its end arrives, even before its time is up.
func TestApplyWaitLine(t *testing.T) {
	m := newTestModel(t)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	rl := core.RateLimit{Requests: 10, Window: 15 * time.Second}
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 35})
	m.apply = applyState{
		run: 2, running: true, total: 250, started: now, plan: &core.Plan{Orgs: []string{core.PrimaryOrg}},
		est:      core.Estimate{Requests: 25, PerOrg: map[string]int{core.PrimaryOrg: 25}, RateLimit: rl},
		progress: map[string]core.Progress{}, bar: progress.New(progress.WithoutPercentage()),
	}
	m.screen = scrApply
	m.Update(progressMsg{run: 2, p: core.Progress{Phase: core.PhaseApply, Org: core.PrimaryOrg, RequestsSent: 10, RequestsTotal: 25}})
	w := core.ThrottleWait{Org: core.PrimaryOrg, Kind: core.WaitPacing, Wait: 12 * time.Second, Until: now.Add(12 * time.Second), Cause: "rate limit"}
	m.Update(throttleMsg{run: 2, w: w})
	if !m.ticking {
		t.Errorf("a wait started no tick")
	}
	// 12s of this wait, then one more window for the last 5 requests.
	view := m.View()
	for _, want := range []string{
		"⏳ waiting 12s (pacing to the rate limit, org primary)",
		"Time left ≈ 27s for the whole apply (this wait, then 15 requests to send at 10 requests per 15s)",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("Apply view lacks %q:\n%s", want, view)
		}
	}
	now = now.Add(5 * time.Second)
	view = m.View()
	for _, want := range []string{"⏳ waiting 7s (pacing", "Time left ≈ 22s "} {
		if !strings.Contains(view, want) {
			t.Errorf("5s later, the Apply view lacks %q:\n%s", want, view)
		}
	}
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if view = m.View(); !strings.Contains(view, "Time left ≈ 22s for the whole apply\n") && !strings.Contains(view, "Time left ≈ 22s for the whole apply ") {
		t.Errorf("at 80 columns the time left is not on its own short line:\n%s", view)
	}
	for _, l := range strings.Split(view, "\n") {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line of %d columns at 80: %q", n, l)
		}
	}
	end := w
	end.End = true
	m.Update(throttleMsg{run: 2, w: end})
	if view = m.View(); strings.Contains(view, "⏳") || m.apply.throttle != nil {
		t.Errorf("the wait is still shown after its end:\n%s", view)
	}
	// Progress no longer ends a typed wait: only its end does.
	m.Update(throttleMsg{run: 2, w: w})
	m.Update(progressMsg{run: 2, p: core.Progress{Phase: core.PhaseApply, Org: core.PrimaryOrg, RequestsSent: 11, RequestsTotal: 25}})
	if m.apply.throttle == nil {
		t.Errorf("a progress report ended a wait that had not ended")
	}
}
