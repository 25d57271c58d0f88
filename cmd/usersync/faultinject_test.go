package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/store"
)

// simProcess is a `usersync sim` running in its own process, so that the
// test can kill it as a crash would.
type simProcess struct {
	t   *testing.T
	cmd *exec.Cmd
	url string
}

// startSimProcess starts `usersync sim` with an empty org, every UMAPI
// request slowed by delay (so a kill lands inside a read or an apply),
// then loads seed through POST /_sim/reset.
func startSimProcess(t *testing.T, bin string, seed *sim.Seed, delay string) *simProcess {
	t.Helper()
	cmd := exec.Command(bin, "sim", "--addr", "127.0.0.1:0", "--faults", "slow=1,slow-delay="+delay)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &simProcess{t: t, cmd: cmd}
	t.Cleanup(p.kill)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			p.url = strings.TrimSpace(u)
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if p.url == "" {
		t.Fatalf("usersync sim did not say where it listens: %s", stderr.String())
	}
	body, err := json.Marshal(seed)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(p.url+"/_sim/reset", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /_sim/reset = %d %s", resp.StatusCode, data)
	}
	return p
}

func (p *simProcess) get(path string, v any) {
	p.t.Helper()
	resp, err := http.Get(p.url + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
}

// killWhen polls the simulator's stats until cond holds, takes its state
// (GET /_sim/state, what a restart starts from) and kills it with SIGKILL.
func (p *simProcess) killWhen(cond func(sim.Stats) bool) *sim.Seed {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st sim.Stats
		p.get("/_sim/stats", &st)
		if cond(st) {
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the simulator never reached the point to kill it at: %+v", st)
		}
		time.Sleep(2 * time.Millisecond)
	}
	var state sim.Seed
	p.get("/_sim/state", &state)
	p.kill()
	return &state
}

func (p *simProcess) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// TestSimulatorKilledMidReadAndMidApply is the fault-injection test of
// issue 13: the simulator (the org) dies with SIGKILL in the middle of
// the read, then, restarted from its last /_sim/state, in the middle of
// the apply. The read fails closed (nothing planned from half an org,
// nothing sent); after each restart from the last state a rerun converges
// the org exactly to what an undisturbed sync makes of it.
func TestSimulatorKilledMidReadAndMidApply(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs simulator processes")
	}
	bin := binary(t)
	users := manyUsersCSV(120)
	ref := newFixture(t, fixtureOpts{csv: users})
	if r := ref.run(context.Background(), "sync"); r.code != exitOK {
		t.Fatalf("reference sync: %v", r)
	}
	want := emails(ref.srv.State())

	f := newFixture(t, fixtureOpts{csv: users})
	// One attempt per call: a dead server fails the call at once (the
	// retries and their backoff are tested elsewhere).
	f.editUMAPI("server:\n", "server:\n  retries: 1\n")
	point := func(from, to string) {
		f.editUMAPI("host: "+from, "host: "+to)
		f.editUMAPI("auth_host: "+from, "auth_host: "+to)
	}
	runSync := func() chan result {
		done := make(chan result, 1)
		go func() { done <- f.run(context.Background(), "sync") }()
		return done
	}

	// 1. Killed mid-read.
	a := startSimProcess(t, bin, f.seed, "300ms")
	point(f.url, a.url)
	done := runSync()
	stateA := a.killWhen(func(st sim.Stats) bool { return st.Requests.Users >= 1 })
	r := <-done
	if r.code != exitFatal || !strings.Contains(r.stdout+r.stderr, "nothing was sent") {
		t.Fatalf("sync with the org killed mid-read: %v; want exit 1 saying nothing was sent", r)
	}
	t.Logf("killed mid-read: %s", tail(r.stdout+r.stderr, 400))
	if last := f.runs()[0]; last.Status != store.StatusFailed || last.Requests != 0 || last.Succeeded != 0 {
		t.Errorf("run killed mid-read recorded as %s, %d requests, %d succeeded; want failed, nothing sent", last.Status, last.Requests, last.Succeeded)
	}
	if d := cmp.Diff(emails(f.seed), emails(stateA)); d != "" {
		t.Errorf("the org changed although the read failed (-seed +state):\n%s", d)
	}

	// 2. Restarted from its last state, then killed mid-apply.
	b := startSimProcess(t, bin, stateA, "100ms")
	point(a.url, b.url)
	done = runSync()
	stateB := b.killWhen(func(st sim.Stats) bool { return st.Requests.Action >= 3 })
	r = <-done
	if r.code == exitOK {
		t.Fatalf("sync with the org killed mid-apply exited 0: %v", r)
	}
	t.Logf("killed mid-apply: exit %d: %s", r.code, tail(r.stdout+r.stderr, 400))
	if cmp.Equal(want, emails(stateB)) {
		t.Fatal("the apply had finished before the kill; nothing was tested")
	}

	// 3. Restarted from its last state: the rerun converges.
	c := startSimProcess(t, bin, stateB, "1ms")
	point(b.url, c.url)
	if r := <-runSync(); r.code != exitOK {
		t.Fatalf("rerun after the restart: %v", r)
	}
	var final sim.Seed
	c.get("/_sim/state", &final)
	if d := cmp.Diff(want, emails(&final)); d != "" {
		t.Errorf("org after the kills and the rerun differs from an undisturbed sync (-want +got):\n%s", d)
	}
	if r := f.run(context.Background(), "plan", "--detailed-exitcode"); r.code != exitOK {
		t.Errorf("plan after the rerun: %v; want exit 0, nothing left to do", r)
	}
}
