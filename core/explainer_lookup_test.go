package core

import (
	"context"
	"strings"
	"testing"
)

func TestExplainFromDisabledUser(t *testing.T) {
	d := dirU("eve@x.com", "Marketing")
	d.Origin = "entra user 0e07 (eve@x.com)"
	d.Disabled = "disabled (accountEnabled is false)"
	s := planSnap([]DirectoryUser{dirU("ana@x.com", "Marketing")}, nil)
	o := planOpts(func(o *Options) { o.Users = UsersMapped })
	ex, err := ExplainFrom(context.Background(), s, lookupSource{u: &d}, o, "eve@x.com")
	if err != nil {
		t.Fatal(err)
	}
	var sel *ExplainStep
	for i, st := range ex.Steps {
		if st.Stage == "source" && st.Outcome == "not found" {
			t.Errorf("a disabled user the directory has is explained as not found: %+v", st)
		}
		if st.Stage == "selection" {
			if st.Outcome == "selected" {
				t.Errorf("a disabled user is selected: %+v", st)
			}
			sel = &ex.Steps[i]
		}
	}
	if sel == nil || sel.Outcome != "not selected" || !strings.Contains(sel.Detail, "0e07") || !strings.Contains(sel.Detail, "disabled") {
		t.Errorf("selection step = %+v; want not selected, naming the object id and that the account is disabled (steps %q)", sel, explainStages(ex))
	}
	if len(ex.Changes) != 0 {
		t.Errorf("changes for a disabled user = %+v; want none", ex.Changes)
	}
	// Without the lookup's user, "not found" names what was searched.
	ex, err = ExplainFrom(context.Background(), s, lookupSource{}, o, "eve@x.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := explainStages(ex); len(got) == 0 || got[0] != "source:not found" || !strings.Contains(ex.Steps[0].Detail, "dc=x") {
		t.Errorf("steps = %q (%+v); want not found naming what was searched", got, ex.Steps)
	}
}

func TestDisabledUserNeverSelected(t *testing.T) {
	d := dirU("eve@x.com", "Marketing")
	d.Disabled = "suspended"
	s := planSnap([]DirectoryUser{dirU("ana@x.com", "Marketing"), d}, nil)
	plan := mustBuildPlan(t, s, planOpts())
	for _, c := range plan.Changes {
		if c.User.Email == "eve@x.com" {
			t.Errorf("a suspended directory user got a change: %+v", c)
		}
	}
	if plan.Counters.DirectoryUsersSelected != 1 {
		t.Errorf("selected = %d; want 1 (ana only)", plan.Counters.DirectoryUsersSelected)
	}
}
