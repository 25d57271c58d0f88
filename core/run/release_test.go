package run_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
)

// TestReleaseGroupHold: released group removals move into the changes to
// send, are recorded with the run's plan, and the summary counts them as
// released, not withheld; a licence-quota hold cannot be released.
func TestReleaseGroupHold(t *testing.T) {
	db := openStore(t)
	user := func(email string, groups ...string) core.AdobeUser {
		return core.AdobeUser{Type: core.FederatedID, Email: email, Username: email, Firstname: "F", Lastname: "L", Country: "US", Groups: groups}
	}
	dir := func(email string, groups ...string) core.DirectoryUser {
		return core.DirectoryUser{Type: core.FederatedID, Email: email, Username: email, Firstname: "F", Lastname: "L", Country: "US", Groups: groups}
	}
	// a, b and c left Marketing (All Apps): 3 removals over a limit of 1.
	// d joined Docs, whose profile has no seat left.
	snap := &core.Snapshot{
		Directory: core.DirectoryResult{Users: []core.DirectoryUser{dir("a@x.org"), dir("b@x.org"), dir("c@x.org"), dir("d@x.org", "Docs")}},
		Adobe: map[string]core.OrgSnapshot{core.PrimaryOrg: {Query: core.AdobeQuery{All: true},
			Users: []core.AdobeUser{user("a@x.org", "All Apps"), user("b@x.org", "All Apps"), user("c@x.org", "All Apps"), user("d@x.org")},
			Groups: []core.AdobeGroup{{Name: "All Apps", Type: "PRODUCT_PROFILE", MemberCount: 3},
				{Name: "Acrobat", Type: "PRODUCT_PROFILE", MemberCount: 0, LicenseQuota: "0"}}}},
	}
	opts := &core.Options{Strategy: core.StrategySync, Users: core.UsersAll, AdobeUsers: core.AdobeUsersAll, ProcessGroups: true,
		AdobeOnlyAction: core.AdobeOnlyPreserve, DefaultIdentityType: core.FederatedID, DefaultCountry: "US",
		GroupMapping: []core.GroupMapping{{DirectoryGroup: "Marketing", AdobeGroups: []string{"All Apps"}},
			{DirectoryGroup: "Docs", AdobeGroups: []string{"Acrobat"}}},
		MaxAdobeOnly: core.Limit{Set: true, Count: 200, Text: "200"}}
	opts.Safety.MaxGroupRemovals = core.Limit{Set: true, Count: 1, Text: "1"}
	eng := &run.Engine{Store: db.RunStore(), Options: opts, Targets: map[string]core.Target{}}
	rec, err := eng.Start("console")
	if err != nil {
		t.Fatal(err)
	}
	d, err := eng.Plan(context.Background(), rec, snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Plan.GroupHolds) != 1 || len(d.Plan.GroupHolds[0].Changes) != 3 {
		t.Fatalf("GroupHolds = %+v; want one hold of 3 changes", d.Plan.GroupHolds)
	}
	quota := -1
	for _, c := range d.Plan.Withheld {
		if c.Held == core.HoldLicenseQuota {
			quota = c.ID
		}
	}
	if quota < 0 {
		t.Fatalf("no licence-quota hold in %+v", d.Plan.Withheld)
	}
	before := d.Plan
	if err := eng.Release(d, run.Release{Hold: core.HoldLicenseQuota}); err == nil {
		t.Errorf("Release(licence quota) = nil; want a refusal")
	}
	if err := eng.Release(d, run.Release{Hold: core.HoldGroupRemovals, Org: core.PrimaryOrg, Group: "design team"}); err == nil {
		t.Errorf("Release(a group with no hold) = nil; want a refusal")
	}
	if d.Plan != before || len(d.Plan.Withheld) != 4 {
		t.Fatalf("a refused release changed the draft: %d withheld", len(d.Plan.Withheld))
	}
	ids := d.Plan.GroupHolds[0].Changes
	if err := eng.Release(d, run.Release{Hold: core.HoldGroupRemovals, Org: core.PrimaryOrg, Group: "all apps"}); err != nil {
		t.Fatal(err)
	}
	if len(before.Withheld) != 4 {
		t.Errorf("Release modified the old plan: %d withheld; want 4", len(before.Withheld))
	}
	saved, err := db.Plan(rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, c := range run.Released(saved) {
		if c.Held != core.HoldGroupRemovals {
			t.Errorf("released change %d names %q; want %q", c.ID, c.Held, core.HoldGroupRemovals)
		}
		got = append(got, c.ID)
	}
	if d := cmp.Diff(ids, got); d != "" {
		t.Errorf("released changes in the recorded plan (-want +got):\n%s", d)
	}
	if len(saved.Withheld) != 1 || saved.Withheld[0].ID != quota {
		t.Errorf("recorded plan still withholds %+v; want only the licence-quota change %d", saved.Withheld, quota)
	}

	// Every change to send succeeded: the run is withheld only for the
	// quota, and the summary counts the released removals as sent.
	res := &core.ApplyResult{Requests: 1}
	for _, c := range d.Plan.Changes {
		res.Results = append(res.Results, core.ChangeResult{ChangeID: c.ID, Outcome: core.OutcomeSucceeded})
	}
	x := run.Exclude(d.Plan, nil, nil)
	s := run.Summarize(d.Plan, x, nil, res)
	if s.ToSend != len(d.Plan.Changes) || s.Succeeded != s.ToSend || len(s.Released) != 3 || len(s.Withheld) != 1 {
		t.Errorf("Summarize: to send %d, succeeded %d, released %d, withheld %d; want %d, %d, 3, 1",
			s.ToSend, s.Succeeded, len(s.Released), len(s.Withheld), len(d.Plan.Changes), len(d.Plan.Changes))
	}
	// a, b and c were unchanged while their removals were withheld; sent,
	// they are updated.
	if got, want := s.Counters.Unchanged, d.Plan.Counters.Unchanged-3; got != want || s.Counters.Updated != 3 {
		t.Errorf("Summarize counters: unchanged %d, updated %d; want %d, 3", got, s.Counters.Updated, want)
	}
	if n := s.Applied[core.ActionRemoveGroups]; n != 3 {
		t.Errorf("Summarize: %d group removals applied; want 3", n)
	}
	o := &run.Outcome{Plan: d.Plan, Result: *res, Summary: s}
	if o.Kind() != run.Withheld {
		t.Errorf("Kind() = %v; want withheld (the quota hold remains)", o.Kind())
	}
	// Without the quota hold nothing is withheld any more.
	s.Withheld = nil
	if o := (&run.Outcome{Plan: d.Plan, Result: *res, Summary: s}); o.Kind() != run.OK {
		t.Errorf("Kind() with every hold released = %v; want ok", o.Kind())
	}
}
