package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestUnwritableRecordSaysSoAndFails is defect 10 of issue 13: store
// writes whose errors were ignored. The database's file may not grow (a
// file-size limit, as on a full disk), so the run's record cannot be
// written: the run must say so and exit non-zero, never 0. (Which write
// fails first depends on the pages bbolt can reuse: the snapshot, the
// journal before the first request or after a few.)
func TestUnwritableRecordSaysSoAndFails(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("builds the binary; needs ulimit -f")
	}
	bin := binary(t)
	f := newFixture(t, fixtureOpts{csv: manyUsersCSV(300)})
	if r := f.run(context.Background(), "plan"); r.code != exitOK {
		t.Fatalf("plan: %v", r)
	}
	fi, err := os.Stat(filepath.Join(f.dir, "usersync.db"))
	if err != nil {
		t.Fatal(err)
	}
	// ulimit -f counts 512-byte blocks; the file may not grow at all.
	script := fmt.Sprintf("ulimit -f %d && exec %q sync -c %q --action-rate %s", fi.Size()/512, bin, f.cfg, f.rate)
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != exitFatal {
		t.Errorf("sync whose record cannot be written: exit %d; want %d\n%s", code, exitFatal, tail(string(out), 3000))
	}
	if !strings.Contains(string(out), "CRITICAL main - the run's record could not be written: ") || !strings.Contains(string(out), "file too large") {
		t.Errorf("the log does not say the record could not be written:\n%s", tail(string(out), 3000))
	}
}
