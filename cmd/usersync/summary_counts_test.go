package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/store"
)

// TestSummaryCountsWhatWasApplied is defect 4 of issue 13: after SIGTERM
// mid-apply the Action Summary counted what was planned ("Number of new
// Adobe users added: 2600" when 1,091 were created). The run is cancelled
// (what SIGTERM does) after a few requests against a throttled simulator;
// the summary's counts must be those of the org as the simulator holds it.
func TestSummaryCountsWhatWasApplied(t *testing.T) {
	if testing.Short() {
		t.Skip("throttled apply")
	}
	strays := smallSeed()
	for i := range 300 {
		strays.Users = append(strays.Users, sim.SeedUser{Email: fmt.Sprintf("gone%03d@example.org", i), Type: "federatedID", Country: "US"})
	}
	for _, tc := range []struct {
		name string
		seed *sim.Seed
		csv  string
		// planned are the creates and removals the plan holds.
		plannedAdded, plannedRemoved int
	}{
		// 300 creates, then cy's removal: cancelled among the creates.
		{"creates", smallSeed(), manyUsersCSV(300), 300, 1},
		// dee's create, then 301 removals: cancelled among the removals.
		{"removals", strays, smallCSV, 1, 301},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{seed: tc.seed, csv: tc.csv, limit: "1000", throttle: "realistic", timeScale: 30})
			before := emails(f.srv.State())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				deadline := time.Now().Add(60 * time.Second)
				for f.srv.Stats().Requests.Action < 12 && time.Now().Before(deadline) {
					time.Sleep(2 * time.Millisecond)
				}
				cancel()
			}()
			r := f.run(ctx, "sync")
			if r.code != exitInterrupt {
				t.Fatalf("sync cancelled mid-apply: %v; want exit 130", r)
			}
			after := emails(f.srv.State())
			added, removed := 0, 0
			for e := range after {
				if _, ok := before[e]; !ok {
					added++
				}
			}
			for e := range before {
				if _, ok := after[e]; !ok {
					removed++
				}
			}
			if added == tc.plannedAdded && removed == tc.plannedRemoved {
				t.Fatalf("the run finished before it was cancelled (%d added, %d removed); nothing was tested", added, removed)
			}
			if got := summaryCount(t, r.stdout, "Number of new Adobe users added"); got != added {
				t.Errorf("summary says %d users added; the org has %d new users (planned %d)", got, added, tc.plannedAdded)
			}
			if got := summaryCount(t, r.stdout, "Number of Adobe-only users removed"); got != removed {
				t.Errorf("summary says %d Adobe-only users removed; %d left the org (planned %d)", got, removed, tc.plannedRemoved)
			}
			// The run's record, which history, show and notifications read,
			// counts the same.
			db, err := store.Open(filepath.Join(f.dir, "usersync.db"), store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			runs, err := db.Runs(1)
			if err != nil || len(runs) != 1 {
				t.Fatalf("Runs: %v, %v", runs, err)
			}
			if c := runs[0].Counters; c.Created != added || c.StraysProcessed != removed {
				t.Errorf("the run's record counts %d created and %d Adobe-only processed; the org has %d new users and %d left", c.Created, c.StraysProcessed, added, removed)
			}
		})
	}
}

// summaryCount is the number on the Action Summary line labelled label.
func summaryCount(t *testing.T, log, label string) int {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(label) + `: (\d+)\n`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no %q line in the summary:\n%s", label, tail(log, 3000))
	}
	n, _ := strconv.Atoi(m[1])
	if strings.Count(log, label+":") != 1 {
		t.Errorf("%q is logged %d times; want once", label, strings.Count(log, label+":"))
	}
	return n
}
