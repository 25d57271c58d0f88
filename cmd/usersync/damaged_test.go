package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTruncatedDatabaseOneLineExit1 is defect 2 of issue 13 end to end: a
// truncated database made usersync panic with exit 2. Every command that
// opens it must say in one line that the file is damaged and what to do,
// and exit 1; the org is not touched.
func TestTruncatedDatabaseOneLineExit1(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	if r := f.run(context.Background(), "plan"); r.code != exitOK {
		t.Fatalf("plan: %v", r)
	}
	db := filepath.Join(f.dir, "usersync.db")
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(db, fi.Size()/3); err != nil {
		t.Fatal(err)
	}
	before := f.srv.Stats().Requests.Action
	for _, args := range [][]string{{"history"}, {"show", "latest"}, {"sync"}, {"plan"}} {
		r := f.run(context.Background(), args...)
		out := r.stdout + r.stderr
		if r.code != exitFatal {
			t.Errorf("%s on a truncated database: exit %d; want 1\n%v", args[0], r.code, r)
		}
		if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
			t.Errorf("%s on a truncated database panicked:\n%v", args[0], r)
		}
		var line string
		for l := range strings.Lines(out) {
			if strings.Contains(l, "is damaged") {
				line = l
			}
		}
		for _, want := range []string{db, "move it aside", "history it held is lost, the Adobe org is not"} {
			if !strings.Contains(line, want) {
				t.Errorf("%s on a truncated database: no line saying %q:\n%v", args[0], want, r)
			}
		}
	}
	if after := f.srv.Stats().Requests.Action; after != before {
		t.Errorf("%d action requests sent with a damaged database", after-before)
	}
}
