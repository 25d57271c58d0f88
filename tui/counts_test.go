package tui_test

import (
	"strings"
	"testing"
)

// TestCountsAfterExclusionAndRefetch checks the console's counts against
// the simulator: excluding a new user's creation holds back the rest of
// that user's changes, and the review, the apply and the summary all count
// the same changes; a fetch after the apply starts a new run whose summary
// counts only its own plan.
func TestCountsAfterExclusionAndRefetch(t *testing.T) {
	d, e := start(t, envOpts{})
	d.press("/")
	d.typ("user:ben.okafor action:create")
	d.press("enter")
	if d.m.Shown() != 1 {
		t.Fatalf("filter shows %d rows; want ben's creation", d.m.Shown())
	}
	d.press("space", "esc")
	d.until("the estimate", func() bool { return !d.m.Estimating() })
	cost := d.m.Cost()
	if len(cost.Excluded.Chosen) != 1 || len(cost.Excluded.Held) != 1 {
		t.Fatalf("exclusions %+v; want ben's creation chosen and his group add held", cost.Excluded)
	}
	plan := d.m.Plan()
	toSend := len(plan.Changes) - 2
	if v := d.m.View(); !strings.Contains(v, "To send: 29 changes") || !strings.Contains(v, "1 held with them") {
		t.Errorf("review header does not count the held change:\n%s", v)
	}
	before := e.actionRequests(t)

	d.press("A")
	d.typ("4")
	d.press("enter")
	d.until("the summary", func() bool { return d.screen() == "Summary" })
	o := e.b.Outcome()
	s := o.Summary
	if s.ToSend != toSend || s.Excluded != 1 || s.Held != 1 || s.Succeeded+s.Failed != toSend || s.NotSent != 0 {
		t.Errorf("summary %+v; want %d to send, 1 excluded, 1 held, all sent", s, toSend)
	}
	if got := e.actionRequests(t) - before; got != s.Requests {
		t.Errorf("the simulators received %d action requests; the summary says %d", got, s.Requests)
	}
	for _, u := range e.state(t).Users {
		if u.Email == "ben.okafor@example.org" {
			t.Errorf("ben, whose creation was excluded, is in the org")
		}
	}
	if v := d.m.View(); !strings.Contains(v, "1 excluded (+1 held with them)") || !strings.Contains(v, "exit code 3") {
		t.Errorf("summary view:\n%s", v)
	}

	// A new fetch is a new plan; the summary says its run is of the
	// earlier one until the new plan is applied.
	d.press("1", "r")
	d.until("a fresh review", func() bool {
		running, _, _ := d.m.FetchState()
		return !running && d.screen() == "Review" && d.m.Plan() != plan
	})
	d.press("6")
	if v := d.m.View(); !strings.Contains(v, "an earlier plan") {
		t.Errorf("after a new fetch the summary does not say it is of the earlier plan:\n%s", v)
	}
	newPlan := d.m.Plan()
	d.press("2", "A", "y")
	d.until("the second summary", func() bool { return d.screen() == "Summary" && e.b.Outcome() != o })
	o2 := e.b.Outcome()
	if o2.Run.ID == o.Run.ID || o2.Plan != newPlan {
		t.Fatalf("the second apply reused run %s", o.Run.ID)
	}
	if o2.Summary.Planned != len(newPlan.Changes) || o2.Summary.Succeeded+o2.Summary.Failed != len(newPlan.Changes) {
		t.Errorf("second summary %+v; want the %d changes of the new plan", o2.Summary, len(newPlan.Changes))
	}
	if v := d.m.View(); strings.Contains(v, "an earlier plan") {
		t.Errorf("the summary of the new plan's apply says it is of an earlier plan:\n%s", v)
	}
}
