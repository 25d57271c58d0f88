package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
	bolt "go.etcd.io/bbolt"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "usersync.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLockHeldByAnotherOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usersync.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(path, Options{Timeout: 50 * time.Millisecond})
	if core.Code(err) != core.CodeLocked {
		t.Fatalf("second Open = %v; want a CodeLocked error", err)
	}
	if want := "another usersync is using " + path; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usersync.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucket(bucketMeta)
		return m.Put(keySchema, []byte(fmt.Sprint(SchemaVersion+1)))
	})
	b.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "newer usersync") {
		t.Fatalf("Open of a newer schema = %v; want a 'newer usersync' error", err)
	}
}

func TestReadOnlyMissingFile(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "none.db"), Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only Open of a missing file succeeded")
	}
}

func sampleSnapshot() *core.Snapshot {
	return &core.Snapshot{
		FetchedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Directory: core.DirectoryResult{
			Users: []core.DirectoryUser{
				{Type: core.FederatedID, Username: "ana", Domain: "example.org", Email: "ana@example.org",
					Firstname: "Ana", Lastname: "Ruíz", Country: "ES", Groups: []string{"Design", "Marketing"},
					MemberGroups: []string{"acl-photoshop"}, Origin: "users.csv:2",
					Attributes: map[string]any{"bc": "1", "mail": []string{"a@x", "b@x"}, "none": nil}},
				{Email: "bo@example.org", Groups: []string{"Design"}},
			},
			MissingGroups: []string{"Sales"},
		},
		Adobe: map[string]core.OrgSnapshot{
			core.PrimaryOrg: {
				Users:  []core.AdobeUser{{Type: core.FederatedID, Username: "ana", Domain: "example.org", Email: "ana@example.org", Groups: []string{"All Apps"}, Status: "active"}},
				Groups: []core.AdobeGroup{{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud", MemberCount: 1}},
				Query:  core.AdobeQuery{All: true},
			},
			"trustee": {Query: core.AdobeQuery{Groups: []string{"x"}}},
		},
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	db := openTemp(t)
	run, err := db.CreateRun(RunInfo{Command: "sync", Status: StatusPlanned})
	if err != nil {
		t.Fatal(err)
	}
	want := sampleSnapshot()
	if err := db.SaveSnapshot(run.ID, want); err != nil {
		t.Fatal(err)
	}
	got, err := db.Snapshot(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	// An org read with no users comes back as an empty, non-nil list.
	want.Adobe["trustee"] = core.OrgSnapshot{Users: []core.AdobeUser{}, Query: want.Adobe["trustee"].Query}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Snapshot round trip (-want +got):\n%s", d)
	}
	// Saving again replaces, never appends.
	if err := db.SaveSnapshot(run.ID, sampleSnapshot()); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Snapshot(run.ID)
	if len(got.Directory.Users) != 2 {
		t.Errorf("after a second save, %d directory users; want 2", len(got.Directory.Users))
	}
}

func TestSnapshotManyChunks(t *testing.T) {
	db := openTemp(t)
	run, _ := db.CreateRun(RunInfo{Command: "sync"})
	s := generate(3*chunkSize + 17)
	if err := db.SaveSnapshot(run.ID, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.Snapshot(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s.Directory.Users, got.Directory.Users); d != "" {
		t.Errorf("directory users differ (-want +got):\n%.2000s", d)
	}
	if d := cmp.Diff(s.Adobe[core.PrimaryOrg].Users, got.Adobe[core.PrimaryOrg].Users); d != "" {
		t.Errorf("adobe users differ (-want +got):\n%.2000s", d)
	}
}

func TestCorruptChunkIsAnError(t *testing.T) {
	db := openTemp(t)
	run, _ := db.CreateRun(RunInfo{Command: "sync"})
	if err := db.SaveSnapshot(run.ID, sampleSnapshot()); err != nil {
		t.Fatal(err)
	}
	db.bolt.Update(func(tx *bolt.Tx) error {
		b, _ := runBucket(tx, run.ID)
		return b.Bucket(keyDirectory).Put(chunkKey(0), []byte("garbage"))
	})
	if _, err := db.Snapshot(run.ID); err == nil {
		t.Fatal("Snapshot of a corrupt chunk succeeded")
	}
}

func TestRunsPlanResultsAndPrune(t *testing.T) {
	db := openTemp(t)
	var ids []string
	for i := range 5 {
		r, err := db.CreateRun(RunInfo{ID: fmt.Sprintf("20261122T10000%dZ-0000", i), Command: "sync", Status: StatusPlanned})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	p := &core.Plan{Version: 1, Strategy: core.StrategySync, Orgs: []string{core.PrimaryOrg},
		Changes: []core.Change{{ID: 0, Org: core.PrimaryOrg, Action: core.ActionCreate, Key: "k", Rule: "new"}}}
	if err := db.SavePlan(ids[4], p); err != nil {
		t.Fatal(err)
	}
	got, err := db.Plan(ids[4])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(p, got); d != "" {
		t.Errorf("Plan round trip (-want +got):\n%s", d)
	}
	if _, err := db.Plan(ids[0]); core.Code(err) != core.CodeNotFound {
		t.Errorf("Plan of a run without one = %v; want CodeNotFound", err)
	}
	res := []core.ChangeResult{{ChangeID: 0, Org: core.PrimaryOrg, Outcome: core.OutcomeSucceeded}}
	if err := db.SaveResults(ids[4], res); err != nil {
		t.Fatal(err)
	}
	gotRes, _ := db.Results(ids[4])
	if d := cmp.Diff(res, gotRes); d != "" {
		t.Errorf("Results (-want +got):\n%s", d)
	}
	info, _ := db.Run(ids[4])
	info.Status, info.ExitCode = StatusApplied, 0
	if err := db.UpdateRun(info); err != nil {
		t.Fatal(err)
	}
	latest, ok, _ := db.LatestRun(StatusApplied)
	if !ok || latest.ID != ids[4] {
		t.Errorf("LatestRun(applied) = %v, %v; want %s", latest.ID, ok, ids[4])
	}
	n, err := db.Prune(2)
	if err != nil || n != 3 {
		t.Fatalf("Prune(2) = %d, %v; want 3", n, err)
	}
	runs, _ := db.Runs(0)
	if len(runs) != 2 || runs[0].ID != ids[4] || runs[1].ID != ids[3] {
		t.Errorf("after prune runs = %v; want newest two, newest first", runs)
	}
	if _, err := db.Run(ids[0]); core.Code(err) != core.CodeNotFound {
		t.Errorf("pruned run still readable: %v", err)
	}
}

func TestJournalResume(t *testing.T) {
	db := openTemp(t)
	run, _ := db.CreateRun(RunInfo{Command: "sync"})
	j := db.Journal(run.ID)
	req := core.ActionRequest{Commands: []core.Command{{User: "a@x", Steps: []core.Step{{Kind: core.StepAdd, Groups: []string{"g"}}}}}}
	must(t, j.Sending(0, core.PrimaryOrg, req, []int{0, 1}))
	must(t, j.Sent(0, []core.ChangeResult{
		{ChangeID: 0, Outcome: core.OutcomeSucceeded},
		{ChangeID: 1, Outcome: core.OutcomeFailed, Code: "error.group.not_found"}}))
	// Change 4 is spread over requests 1 and 2: request 1 answers, 2 never does.
	must(t, j.Sending(1, core.PrimaryOrg, req, []int{4}))
	must(t, j.Sent(1, []core.ChangeResult{{ChangeID: 4, Outcome: core.OutcomeSucceeded}}))
	must(t, j.Sending(2, core.PrimaryOrg, req, []int{2, 3, 4}))
	// The process dies here: request 2 has no reply.
	done, inFlight, err := db.ResumeState(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[int]bool{0: true}, done); d != "" {
		t.Errorf("done (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{2, 3, 4}, inFlight); d != "" {
		t.Errorf("inFlight (-want +got):\n%s", d)
	}
	entries, _ := db.JournalEntries(run.ID)
	if len(entries) != 3 || entries[0].State != JournalSent || entries[2].State != JournalSending {
		t.Errorf("journal = %+v", entries)
	}
	res, _ := db.Results(run.ID)
	if len(res) != 3 {
		t.Errorf("results recorded by the journal = %d; want 3", len(res))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestExclusions(t *testing.T) {
	db := openTemp(t)
	e := core.Exclusion{Org: core.PrimaryOrg, Key: "federatedid,ana,example.org,ana@example.org", Action: core.ActionRemoveGroups, Note: "on leave"}
	must(t, db.RememberExclusion(e))
	must(t, db.RememberExclusion(e))
	got, _ := db.Exclusions()
	if d := cmp.Diff([]core.Exclusion{e}, got); d != "" {
		t.Errorf("Exclusions (-want +got):\n%s", d)
	}
	must(t, db.ForgetExclusion(e))
	if got, _ := db.Exclusions(); len(got) != 0 {
		t.Errorf("after forget: %v", got)
	}
}

func TestFilePermissions(t *testing.T) {
	db := openTemp(t)
	fi, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("database mode %v; want no access for group and others", fi.Mode().Perm())
	}
}
