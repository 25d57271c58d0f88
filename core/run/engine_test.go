package run_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
	"github.com/usersync/usersync/store"
)

func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "usersync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSummarizeCountsWhatWasApplied: the summary counts results, not the
// plan: a cancelled apply counts only what went out.
func TestSummarizeCountsWhatWasApplied(t *testing.T) {
	plan := &core.Plan{Counters: core.Counters{Created: 3, Updated: 1}, Changes: []core.Change{
		{ID: 0, Org: core.PrimaryOrg, Key: "a", Action: core.ActionCreate},
		{ID: 1, Org: core.PrimaryOrg, Key: "a", Action: core.ActionAddGroups},
		{ID: 2, Org: core.PrimaryOrg, Key: "b", Action: core.ActionCreate},
		{ID: 3, Org: core.PrimaryOrg, Key: "b", Action: core.ActionAddGroups},
		{ID: 4, Org: core.PrimaryOrg, Key: "c", Action: core.ActionCreate},
		{ID: 5, Org: core.PrimaryOrg, Key: "d", Action: core.ActionUpdate},
	}, Withheld: []core.Change{{ID: 6, Org: core.PrimaryOrg, Key: "e", Action: core.ActionDelete, AdobeOnly: true}}}
	x := run.Exclude(plan, map[int]bool{2: true}, nil) // b's creation; b's group add is held
	res := &core.ApplyResult{Requests: 1, Cancelled: true, Results: []core.ChangeResult{
		{ChangeID: 0, Outcome: core.OutcomeSucceeded},
		{ChangeID: 1, Outcome: core.OutcomeSucceeded},
		{ChangeID: 2, Outcome: core.OutcomeSkipped, Message: "excluded"},
		{ChangeID: 3, Outcome: core.OutcomeSkipped, Message: "excluded"},
		{ChangeID: 5, Outcome: core.OutcomeFailed},
		{ChangeID: 4, Outcome: core.OutcomeSkipped, Message: "not sent"},
	}}
	s := run.Summarize(plan, x, nil, res)
	want := run.Summary{Planned: 6, Excluded: 1, Held: 1, ToSend: 4, Succeeded: 2, Failed: 1, NotSent: 1, Requests: 1,
		Applied: map[core.Action]int{core.ActionCreate: 1, core.ActionAddGroups: 1}, NotSentIDs: []int{4},
		Counters: core.Counters{Created: 1, Updated: 0}, Withheld: plan.Withheld}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("Summarize (-want +got):\n%s", d)
	}
	o := &run.Outcome{Plan: plan, Result: *res, Summary: s}
	if o.Kind() != run.Interrupted {
		t.Errorf("Kind() = %v; want interrupted", o.Kind())
	}
}

// TestApplyRecordErrorIsFatal: a run whose record cannot be written says
// so and sends nothing.
func TestApplyRecordErrorIsFatal(t *testing.T) {
	db := openStore(t)
	eng := &run.Engine{Store: db.RunStore(), Options: &core.Options{}, Targets: map[string]core.Target{}}
	rec, err := eng.Start("sync")
	if err != nil {
		t.Fatal(err)
	}
	snap := &core.Snapshot{Adobe: map[string]core.OrgSnapshot{}}
	d, err := eng.Plan(context.Background(), rec, snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteRun(rec.ID); err != nil {
		t.Fatal(err)
	}
	o := eng.Apply(context.Background(), d, nil, nil)
	if o.Kind() != run.Fatal || o.Err == nil || !strings.Contains(o.Err.Error(), "nothing was sent") {
		t.Errorf("Apply after the run's record was lost: kind %v, err %v; want a fatal error saying nothing was sent", o.Kind(), o.Err)
	}
}

// TestPruneDraftsFirst: console drafts go before any scheduled run.
func TestPruneDraftsFirst(t *testing.T) {
	db := openStore(t)
	start := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	var ids []string
	for i, cmd := range []string{"sync", "console", "console", "sync", "console"} {
		info, err := db.CreateRun(store.RunInfo{ID: store.NewRunID(start.Add(time.Duration(i) * time.Minute)), Command: cmd, Status: store.StatusPlanned})
		if err != nil {
			t.Fatal(err)
		}
		if cmd == "sync" {
			info.Status = store.StatusApplied
			db.UpdateRun(info)
		}
		ids = append(ids, info.ID)
	}
	n := 0
	eng := &run.Engine{Store: db.RunStore(), Options: &core.Options{}, KeepRuns: 3,
		NewID: func() string { n++; return store.NewRunID(start.Add(time.Hour + time.Duration(n)*time.Minute)) }}
	rec, err := eng.Start("plan")
	if err != nil {
		t.Fatal(err)
	}
	d, err := eng.Plan(context.Background(), rec, &core.Snapshot{Adobe: map[string]core.OrgSnapshot{}})
	if err != nil {
		t.Fatal(err)
	}
	if o := eng.Planned(d); o.RecordErr != nil {
		t.Fatal(o.RecordErr)
	}
	runs, err := db.Runs(0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.ID)
	}
	// Kept: the plan just made, the two syncs; every draft went first.
	want := []string{rec.ID, ids[3], ids[0]}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("runs after pruning to 3 (-want +got):\n%s", d)
	}
}
