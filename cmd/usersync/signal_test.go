package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/usersync/usersync/store"
)

// TestSIGTERMWhileReadingHugeGroupsCell is defect 3 of issue 13: a CSV
// groups cell of a million names ran for over ten minutes and ignored
// SIGTERM. SIGTERM while the directory is read must end the run with exit
// 130 promptly, nothing sent, the run recorded as interrupted. (The bound
// asserted is loose, 5 s, so a loaded machine does not fail it; the old
// behaviour took minutes.)
func TestSIGTERMWhileReadingHugeGroupsCell(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds the binary; needs POSIX signals")
	}
	bin := binary(t)
	var cell strings.Builder
	for i := range 2_000_000 {
		if i > 0 {
			cell.WriteByte(',')
		}
		fmt.Fprintf(&cell, "g%d", i%500_000)
	}
	csv := "firstname,lastname,email,country,groups\nAna,Ruiz,ana@example.org,ES,\"Design," + cell.String() + "\"\n"
	f := newFixture(t, fixtureOpts{csv: csv})
	cmd := exec.Command(bin, "sync", "-c", f.cfg, "--action-rate", f.rate)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(io.TeeReader(stdout, &out))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Start Load from Directory") {
			break
		}
	}
	signalled := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	// A run that ignores the signal is killed after 30 s and fails below.
	watchdog := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
	defer watchdog.Stop()
	io.Copy(&out, stdout)
	cmd.Wait()
	took := time.Since(signalled)
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupt {
		t.Fatalf("exit %d after SIGTERM while reading; want 130\n%s%s", code, tail(out.String(), 2000), tail(errOut.String(), 2000))
	}
	if took > 5*time.Second {
		t.Errorf("SIGTERM while reading took %s to end the run; want well under a second", took)
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("%d action requests sent after SIGTERM while reading", st.Requests.Action)
	}
	if last := f.runs()[0]; last.Status != store.StatusInterrupted {
		t.Errorf("run status %q; want interrupted", last.Status)
	}
	t.Logf("SIGTERM to exit: %s", took)
}
