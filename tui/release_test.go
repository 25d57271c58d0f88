package tui_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
)

// guard is the fixture's guard case: the directory group Design (mapped to
// Design Team and All Apps) was renamed, so its members would lose both.
var guard = envOpts{limits: "  max_group_removals: 2\n", rename: "Design=Design Studio", primaryOnly: true}

func members(s []string, group string) bool { return slices.Contains(s, group) }

// TestReleaseGroupRemovals: the banner names the held group; the wrong
// count refuses; the right count releases the removals, the apply sends
// them, and the run records them as released.
func TestReleaseGroupRemovals(t *testing.T) {
	d, e := start(t, guard)
	p := d.m.Plan()
	var allApps *core.GroupHold
	for i := range p.GroupHolds {
		if p.GroupHolds[i].Group == "all apps" {
			allApps = &p.GroupHolds[i]
		}
	}
	if allApps == nil {
		t.Fatalf("no group hold on All Apps: %+v", p.GroupHolds)
	}
	view := d.m.View()
	if !strings.Contains(view, "WITHHELD: 3 of 4 members of All Apps > max_group_removals 2; W, type 3") {
		t.Errorf("review lacks the All Apps hold in its banner:\n%s", view)
	}

	// Every hold of the plan, in the dialog's order: All Apps first.
	d.press("W")
	open, need := d.m.Releasing()
	if !open || need != allApps.Removals {
		t.Fatalf("Releasing() = %v, %d; want open, %d", open, need, allApps.Removals)
	}
	if view := d.m.View(); !strings.Contains(view, "Type 3 to release the 3 withheld removals from All Apps") {
		t.Errorf("release dialog lacks its prompt:\n%s", view)
	}
	d.typ("2")
	d.press("enter")
	if open, _ := d.m.Releasing(); !open || !strings.Contains(d.m.View(), "✗ Type 3") {
		t.Fatalf("typing the wrong count did not refuse:\n%s", d.m.View())
	}
	if len(d.m.Plan().Withheld) != len(p.Withheld) {
		t.Fatalf("the wrong count released changes")
	}
	d.press("backspace")
	d.typ("3")
	d.press("enter")
	d.until("the release", func() bool { open, _ := d.m.Releasing(); return !open && d.m.Plan() != p })
	np := d.m.Plan()
	if got, want := len(run.Released(np)), len(allApps.Changes); got != want {
		t.Fatalf("%d changes released; want %d", got, want)
	}
	for _, c := range np.Withheld {
		if slices.Contains(c.Groups, "all apps") {
			t.Errorf("change %d still withholds a removal from All Apps: %+v", c.ID, c)
		}
	}
	if view := d.m.View(); !strings.Contains(view, "Released by you: 3 removals from All Apps") {
		t.Errorf("review does not say the removals were released:\n%s", view)
	}

	d.press("A")
	if open, n := d.m.Dialog(); open && n > 0 {
		d.typ(strconv.Itoa(n))
	}
	d.press("enter")
	d.until("the summary", func() bool { return d.screen() == "Summary" })
	view = d.m.View()
	if !strings.Contains(view, "Released by you from the safety limits (3, sent): max_group_removals 3") {
		t.Errorf("summary does not list the released changes:\n%s", view)
	}

	// The org: the three matched members of the renamed group lost All
	// Apps; Design Team (also held, not released) kept its members.
	st := e.state(t)
	for _, u := range st.Users {
		switch u.Email {
		case email("Kai", "Müller"), email("Lea", "Martin"), email("Omar", "Haddad"):
			if members(u.Groups, "All Apps") {
				t.Errorf("%s still in All Apps after the release: %v", u.Email, u.Groups)
			}
			if !members(u.Groups, "Design Team") {
				t.Errorf("%s lost Design Team, whose removals were not released: %v", u.Email, u.Groups)
			}
		}
	}
	runs, err := e.db.Runs(1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs(1) = %v, %v", runs, err)
	}
	saved, err := e.db.Plan(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(run.Released(saved)); got != len(allApps.Changes) {
		t.Errorf("the recorded plan has %d released changes; want %d", got, len(allApps.Changes))
	}
}

// TestPendingUsersInReview: with a grace period, the Adobe-only users wait
// and the review lists them, with their action and due date, under
// is:pending.
func TestPendingUsersInReview(t *testing.T) {
	d, _ := start(t, envOpts{limits: "  adobe_only_grace_period: 7d\n", primaryOnly: true})
	p := d.m.Plan()
	if len(p.Pending) == 0 {
		t.Fatalf("the plan has no pending users")
	}
	view := d.m.View()
	want := strconv.Itoa(len(p.Pending)) + " Adobe-only users in grace period"
	if !strings.Contains(view, want) {
		t.Errorf("review lacks %q:\n%s", want, view)
	}
	d.press("/")
	d.typ("is:pending")
	d.press("enter")
	view = d.m.View()
	for _, u := range p.Pending {
		line := ""
		for _, l := range strings.Split(view, "\n") {
			if strings.Contains(l, u.Email) {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, string(u.Action)) || !strings.Contains(line, u.Due.Local().Format("2006-01-02")) {
			t.Errorf("pending user %s (%s, due %s) not listed: %q\n%s", u.Email, u.Action, u.Due, line, view)
		}
	}
}

// TestReleaseAdobeOnlyLimit: Adobe-only actions held by
// max_adobe_only_users are released the same way, and then counted among
// the accounts the approval asks for.
func TestReleaseAdobeOnlyLimit(t *testing.T) {
	d, _ := start(t, envOpts{limit: "2", primaryOnly: true})
	if view := d.m.View(); !strings.Contains(view, "LIMIT EXCEEDED") || !strings.Contains(view, "W, type 4") {
		t.Fatalf("review lacks the limit banner with its release:\n%s", view)
	}
	d.press("A")
	if _, need := d.m.Dialog(); need != 0 {
		t.Fatalf("before the release the approval asks for %d accounts; want none", need)
	}
	d.press("esc", "W")
	if open, need := d.m.Releasing(); !open || need != 4 {
		t.Fatalf("Releasing() = %v, %d; want open, 4", open, need)
	}
	d.typ("4")
	d.press("enter")
	d.until("the release", func() bool { open, _ := d.m.Releasing(); return !open && len(d.m.Plan().Withheld) == 0 })
	d.until("the estimate", func() bool { return !d.m.Estimating() })
	d.press("A")
	if open, need := d.m.Dialog(); !open || need != 4 {
		t.Errorf("after the release Dialog() = %v, %d; want open, 4 accounts to type", open, need)
	}
}
