package run_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
	"github.com/usersync/usersync/store"
)

func TestExcludeHoldsDependents(t *testing.T) {
	plan := &core.Plan{Changes: []core.Change{
		{ID: 0, Org: "primary", Key: "k-dee", Action: core.ActionCreate},
		{ID: 1, Org: "primary", Key: "k-dee", Action: core.ActionAddGroups},
		{ID: 2, Org: "eu", Key: "k-dee", Action: core.ActionAddGroups}, // another org: its own account
		{ID: 3, Org: "primary", Key: "k-bo", Action: core.ActionUpdate},
		{ID: 4, Org: "primary", Key: "k-bo", Action: core.ActionAddGroups},
	}}
	for _, tc := range []struct {
		name    string
		exclude map[int]bool
		want    []int
	}{
		{"nothing", nil, nil},
		{"a create holds its user's changes", map[int]bool{0: true}, []int{0, 1}},
		{"a group add alone holds nothing more", map[int]bool{1: true}, []int{1}},
		{"an update holds nothing more", map[int]bool{3: true}, []int{3}},
	} {
		in := map[int]bool{}
		for k, v := range tc.exclude {
			in[k] = v
		}
		x := run.Exclude(plan, in, nil)
		got := x.IDs()
		if len(got) == 0 {
			got = nil
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s: Exclude(%v).IDs() (-want +got):\n%s", tc.name, tc.exclude, d)
		}
		if !cmp.Equal(in, tc.exclude) && !(len(in) == 0 && len(tc.exclude) == 0) {
			t.Errorf("%s: Exclude changed its argument to %v", tc.name, in)
		}
		for id := range x.Held {
			if tc.exclude[id] {
				t.Errorf("%s: change %d is both chosen and held", tc.name, id)
			}
		}
	}
}

func TestResumableRun(t *testing.T) {
	const (
		applying    = store.StatusApplying
		interrupted = store.StatusInterrupted
		applied     = store.StatusApplied
		planned     = store.StatusPlanned
		failed      = store.StatusFailed
	)
	type rec struct {
		status string
		sent   bool // the journal records a request
	}
	for _, tc := range []struct {
		name string
		runs []rec // oldest first
		want int   // index of the run picked; -1: none
	}{
		{"none", nil, -1},
		{"killed", []rec{{applied, true}, {applying, true}}, 1},
		{"interrupted, then plans", []rec{{interrupted, true}, {planned, false}, {planned, false}}, 0},
		{"interrupted, then a finished sync", []rec{{interrupted, true}, {applied, true}}, -1},
		{"interrupted, then a sync that failed reading", []rec{{interrupted, true}, {failed, false}}, 0},
		{"failed mid-apply", []rec{{applied, true}, {failed, true}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := store.Open(filepath.Join(t.TempDir(), "usersync.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var ids []string
			start := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
			for i, r := range tc.runs {
				info, err := db.CreateRun(store.RunInfo{ID: store.NewRunID(start.Add(time.Duration(i) * time.Minute)), Command: "sync", Status: r.status})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.SavePlan(info.ID, &core.Plan{}); err != nil {
					t.Fatal(err)
				}
				if r.sent {
					db.Journal(info.ID).Sending(1, core.PrimaryOrg, core.ActionRequest{}, []int{0})
				}
				ids = append(ids, info.ID)
			}
			d, err := (&run.Engine{Store: db.RunStore()}).Resumable("")
			var got run.Record
			if d != nil {
				got = d.Run
			}
			switch {
			case tc.want < 0 && err == nil:
				t.Errorf("resumable = %s; want none", got.ID)
			case tc.want >= 0 && (err != nil || got.ID != ids[tc.want]):
				t.Errorf("resumable = %q, %v; want run %d (%s)", got.ID, err, tc.want, ids[tc.want])
			}
		})
	}
}
