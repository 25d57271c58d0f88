package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usersync/usersync/core"
	bolt "go.etcd.io/bbolt"
)

// TestMain lets the test binary play a usersync process that dies in the
// middle of an apply (see startDyingApply).
func TestMain(m *testing.M) {
	if path := os.Getenv("USERSYNC_STORE_DIE_APPLYING"); path != "" {
		os.Exit(dieApplying(path))
	}
	os.Exit(m.Run())
}

// dieApplying opens the database, starts an apply of 5 changes, records
// two answered requests (3 changes succeeded, 1 failed) and a third sent
// but never answered, prints the run ID and waits to be killed.
func dieApplying(path string) int {
	db, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	run, err := db.CreateRun(RunInfo{Command: "sync", Status: StatusApplying, Changes: 5})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	j := db.Journal(run.ID)
	req := core.ActionRequest{}
	steps := []error{
		j.Sending(1, core.PrimaryOrg, req, []int{1, 2}),
		j.Sent(1, []core.ChangeResult{{ChangeID: 1, Outcome: core.OutcomeSucceeded}, {ChangeID: 2, Outcome: core.OutcomeSucceeded}}),
		j.Sending(2, core.PrimaryOrg, req, []int{3, 4}),
		j.Sent(2, []core.ChangeResult{{ChangeID: 3, Outcome: core.OutcomeSucceeded}, {ChangeID: 4, Outcome: core.OutcomeFailed}}),
		j.Sending(3, core.PrimaryOrg, req, []int{5}),
	}
	if err := errors.Join(steps...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(run.ID)
	select {} // until killed
}

// startDyingApply runs dieApplying in a child process, kills it with
// SIGKILL once it has written its journal, and returns the run ID.
func startDyingApply(t *testing.T, path string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "USERSYNC_STORE_DIE_APPLYING="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	id := strings.TrimSpace(string(buf[:n]))
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if id == "" {
		t.Fatalf("the dying apply printed no run ID; stderr: %s", stderr.String())
	}
	return id
}

// TestKilledApplyReadsInterrupted is defect 1 of issue 13: a run whose
// process was killed mid-apply read as "applying, exit 0, 0 succeeded".
// It must read as interrupted with the journal's counts, both to a
// read-only open (history, show) and after a writer's open rewrote it.
func TestKilledApplyReadsInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usersync.db")
	id := startDyingApply(t, path)

	check := func(t *testing.T, db *DB) {
		t.Helper()
		if !db.Unclean {
			t.Errorf("Open after a killed writer: Unclean = false; want true")
		}
		runs, err := db.Runs(0)
		if err != nil {
			t.Fatal(err)
		}
		one, err := db.Run(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []RunInfo{runs[0], one} {
			if r.Status != StatusInterrupted || r.Succeeded != 3 || r.Failed != 1 || r.Requests != 3 || r.ExitCode != ExitKilled {
				t.Errorf("killed run reads status %s, %d succeeded, %d failed, %d requests, exit %d; want interrupted, 3, 1, 3, exit %d",
					r.Status, r.Succeeded, r.Failed, r.Requests, r.ExitCode, ExitKilled)
			}
			if !strings.Contains(r.Error, "killed or crashed") || r.Finished.IsZero() {
				t.Errorf("killed run: error %q, finished %v; want an error saying the process ended and a last sign of life", r.Error, r.Finished)
			}
		}
	}
	t.Run("read-only", func(t *testing.T) {
		db, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		check(t, db)
	})
	t.Run("writer rewrites the record", func(t *testing.T) {
		db, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		check(t, db)
		must(t, db.Close())
		// The record on disk now says interrupted, for any reader.
		b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		b.View(func(tx *bolt.Tx) error {
			if v := tx.Bucket(bucketRuns).Bucket([]byte(id)).Get(keyInfo); !bytes.Contains(v, []byte(`"status":"interrupted"`)) {
				t.Errorf("stored record %q; want status interrupted", v)
			}
			if tx.Bucket(bucketMeta).Get(keyOpen) != nil {
				t.Error("a clean Close left the open marker")
			}
			return nil
		})
	})
	t.Run("clean close is not unclean", func(t *testing.T) {
		db, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if db.Unclean {
			t.Error("Open after a clean Close: Unclean = true")
		}
	})
}

// TestLiveApplyIsNotInterrupted: the process that is applying sees its
// own run as applying.
func TestLiveApplyIsNotInterrupted(t *testing.T) {
	db := openTemp(t)
	run, err := db.CreateRun(RunInfo{Command: "sync", Status: StatusPlanned})
	must(t, err)
	run.Status = StatusApplying
	must(t, db.UpdateRun(run))
	got, err := db.Run(run.ID)
	must(t, err)
	if got.Status != StatusApplying {
		t.Errorf("own live apply reads %s; want applying", got.Status)
	}
}

// filledDB writes a database with a run, a snapshot of several chunks, a
// plan and a journal, closes it and returns its path and the run ID.
func filledDB(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "usersync.db")
	db, err := Open(path, Options{})
	must(t, err)
	run, err := db.CreateRun(RunInfo{Command: "sync", Status: StatusPlanned})
	must(t, err)
	must(t, db.SaveSnapshot(run.ID, generate(3*chunkSize)))
	must(t, db.SavePlan(run.ID, &core.Plan{Changes: []core.Change{{ID: 1, Action: core.ActionRemoveFromOrg}}}))
	j := db.Journal(run.ID)
	must(t, j.Sending(1, core.PrimaryOrg, core.ActionRequest{}, []int{1}))
	must(t, j.Sent(1, []core.ChangeResult{{ChangeID: 1, Outcome: core.OutcomeSucceeded}}))
	must(t, db.Close())
	return path, run.ID
}

// checkDamaged asserts err is the one-line damaged-database error.
func checkDamaged(t *testing.T, what string, err error, path string) {
	t.Helper()
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("%s: error %v; want a damaged-database error", what, err)
	}
	msg := err.Error()
	for _, want := range []string{path, "move it aside", "the Adobe org is not"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%s: error %q does not say %q", what, msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("%s: error %q is more than one line", what, msg)
	}
}

// TestTruncatedDatabase is defect 2 of issue 13: a truncated file made
// bbolt panic. Every truncation must give the damaged error, never a
// panic, both to a writer and to a reader.
func TestTruncatedDatabase(t *testing.T) {
	src, _ := filledDB(t)
	full, err := os.ReadFile(src)
	must(t, err)
	// Pages past bbolt's high-water mark are unused; cut below it.
	b, err := bolt.Open(src, 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	var used int
	b.View(func(tx *bolt.Tx) error { used = int(tx.Size()); return nil })
	b.Close()
	for _, size := range []int{100, 4096, 4096*2 + 10, 4096 * 5, used / 2, used - 4096} {
		for _, ro := range []bool{false, true} {
			name := fmt.Sprintf("%d bytes read-only=%v", size, ro)
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "usersync.db")
				must(t, os.WriteFile(path, full[:size], 0o600))
				db, err := Open(path, Options{ReadOnly: ro})
				if err == nil {
					// Whatever opened must fail when read, not panic.
					_, err = db.Runs(0)
					db.Close()
				}
				checkDamaged(t, name, err, path)
				// The failed open let go of the file: opening it again
				// says damaged again, not "another usersync is using".
				_, err = Open(path, Options{ReadOnly: ro, Timeout: 50 * time.Millisecond})
				checkDamaged(t, name+", second open", err, path)
			})
		}
	}
}

// flipInValue finds the stored bytes of the value at key in the bucket
// path and flips one byte of them in the file, as random damage would.
func flipInValue(t *testing.T, path string, bucket [][]byte, key []byte) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	must(t, err)
	var v []byte
	b.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucket[0])
		for _, p := range bucket[1:] {
			bk = bk.Bucket(p)
		}
		v = bytes.Clone(bk.Get(key))
		return nil
	})
	b.Close()
	if len(v) < 8 {
		t.Fatalf("value %q at %q too short to damage", v, key)
	}
	data, err := os.ReadFile(path)
	must(t, err)
	// Copy-on-write leaves old copies in free pages: damage them all.
	n := 0
	for off := 0; ; {
		i := bytes.Index(data[off:], v)
		if i < 0 {
			break
		}
		data[off+i+len(v)-3] ^= 0x20
		off += i + len(v)
		n++
	}
	if n == 0 {
		t.Fatal("value not found in the file")
	}
	must(t, os.WriteFile(path, data, 0o600))
}

// TestDamagedValuesNeverDriveAChange: a snapshot chunk, a plan or a
// journal entry damaged in the middle of the file is refused by its
// checksum, so it can never turn into a removal.
func TestDamagedValuesNeverDriveAChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bucket func(id string) [][]byte
		key    []byte
		read   func(db *DB, id string) error
	}{
		{"snapshot chunk", func(id string) [][]byte { return [][]byte{bucketRuns, []byte(id), keyDirectory} }, chunkKey(1),
			func(db *DB, id string) error { _, err := db.Snapshot(id); return err }},
		{"plan", func(id string) [][]byte { return [][]byte{bucketRuns, []byte(id)} }, keyPlan,
			func(db *DB, id string) error { _, err := db.Plan(id); return err }},
		{"journal entry", func(id string) [][]byte { return [][]byte{bucketRuns, []byte(id), keyJournal} }, u64(1),
			func(db *DB, id string) error { _, _, err := db.ResumeState(id); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, id := filledDB(t)
			flipInValue(t, path, tc.bucket(id), tc.key)
			db, err := Open(path, Options{})
			must(t, err)
			defer db.Close()
			checkDamaged(t, tc.name, tc.read(db, id), path)
		})
	}
}

// TestFailedWriteIsRemembered is the store side of defect 10: a write that
// failed is reported again by Err and Close, so a caller that dropped it
// still ends with an error.
func TestFailedWriteIsRemembered(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "usersync.db"), Options{})
	must(t, err)
	if err := db.Err(); err != nil {
		t.Fatalf("Err on a fresh database = %v", err)
	}
	werr := db.UpdateRun(RunInfo{ID: "no-such-run", Status: StatusApplied})
	if werr == nil {
		t.Fatal("UpdateRun of a missing run succeeded")
	}
	if err := db.Err(); !errors.Is(err, werr) {
		t.Errorf("Err after a failed write = %v; want %v", err, werr)
	}
	if err := db.Close(); err == nil || !strings.Contains(err.Error(), "no-such-run") {
		t.Errorf("Close after a failed write = %v; want the failed write", err)
	}
}

// TestSealedDatabaseRefusesUnsealedValues: in a database created with
// checksums, a value without one is damage, not an old format.
func TestSealedDatabaseRefusesUnsealedValues(t *testing.T) {
	path, id := filledDB(t)
	b, err := bolt.Open(path, 0o600, nil)
	must(t, err)
	must(t, b.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).Bucket([]byte(id)).Put(keyInfo, []byte(`{"id":"x","status":"applied"}`))
	}))
	must(t, b.Close())
	db, err := Open(path, Options{ReadOnly: true})
	must(t, err)
	defer db.Close()
	_, err = db.Run(id)
	checkDamaged(t, "unsealed record", err, path)
}

// TestUncleanOpenRunsConsistencyCheck: damage in a page that opening does
// not read (a snapshot's leaf) is found by bbolt's consistency check when
// the last writer died, and only then; a clean open leaves it to the read
// that reaches it, which reports it as damage instead of panicking.
func TestUncleanOpenRunsConsistencyCheck(t *testing.T) {
	path, id := filledDB(t)
	data, err := os.ReadFile(path)
	must(t, err)
	i := bytes.Index(data, chunkKey(0))
	if i < 0 {
		t.Fatal("no snapshot chunk key in the file")
	}
	const pageSize = 4096
	page := i / pageSize * pageSize
	data[page+8], data[page+9] = 0, 0 // page flags: no type
	must(t, os.WriteFile(path, data, 0o600))

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("clean Open of a file with a damaged snapshot page = %v; want it to open (no check)", err)
	}
	_, err = db.Snapshot(id)
	checkDamaged(t, "reading the damaged snapshot", err, path)
	db.bolt.Close() // as a killed process would: the open marker stays

	for _, ro := range []bool{true, false} {
		_, err = Open(path, Options{ReadOnly: ro})
		checkDamaged(t, fmt.Sprintf("unclean Open (read-only=%v)", ro), err, path)
		if err != nil && !strings.Contains(err.Error(), "consistency check") {
			t.Errorf("unclean Open: %v; want it to name the consistency check", err)
		}
	}
}
