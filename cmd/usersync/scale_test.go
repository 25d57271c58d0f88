package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/umapi/sim"
)

// The scale figures measure `usersync plan` end to end: the CSV read, the
// UMAPI read over HTTP, the snapshot save to bbolt, the plan and its save.
// The command runs in this process (run()), so that its CPU time and
// memory can be read; the simulator runs as a subprocess (`usersync sim
// --seed FILE`, built from this module), so its own CPU and memory are not
// counted. The fixture files are written before the measurement starts.

const scaleGroups = 20

// scaleFixture is a directory file, a simulator seed and a configuration
// for n users on each side over 20 mapped groups, with 2% drift each side:
// 2% of directory users have no account (created), 2% of accounts have no
// directory user (Adobe-only), 2% of matched accounts miss a membership
// and 2% have a stale first name.
type scaleFixture struct {
	dir, cfg, seed string
}

func writeScaleFixture(tb testing.TB, n int) *scaleFixture {
	return writeScaleFixtureHook(tb, n, false)
}

// writeScaleFixtureHook is writeScaleFixture, with an extension hook that
// reads a source attribute of every user when hook is set.
func writeScaleFixtureHook(tb testing.TB, n int, hook bool) *scaleFixture {
	tb.Helper()
	dir := tb.TempDir()
	f := &scaleFixture{dir: dir, cfg: filepath.Join(dir, "user-sync-config.yml"), seed: filepath.Join(dir, "seed.json")}
	csvFile, err := os.Create(filepath.Join(dir, "users.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	seedFile, err := os.Create(f.seed)
	if err != nil {
		tb.Fatal(err)
	}
	cw, sw := bufio.NewWriterSize(csvFile, 1<<20), bufio.NewWriterSize(seedFile, 1<<20)
	cw.WriteString("firstname,lastname,email,country,groups\n")
	head := sim.Seed{OrgID: "5CA1E5CA1E5CA1E5@AdobeOrg", ClientID: testClientID, ClientSecret: testSecret,
		Domains: []sim.SeedDomain{{Name: "example.com", Type: "federatedID"}}}
	for g := range scaleGroups {
		head.Groups = append(head.Groups, sim.SeedGroup{Name: "Profile " + strconv.Itoa(g), Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud"})
	}
	// The seed is written a user at a time so that a million users never
	// sit in this process's memory.
	hb, err := json.Marshal(head)
	if err != nil {
		tb.Fatal(err)
	}
	sw.Write(hb[:len(hb)-len(`,"users":null}`)])
	sw.WriteString(`,"users":[`)
	first := true
	seedUser := func(u sim.SeedUser) {
		b, err := json.Marshal(u)
		if err != nil {
			tb.Fatal(err)
		}
		if !first {
			sw.WriteByte(',')
		}
		first = false
		sw.Write(b)
		sw.WriteByte('\n')
	}
	drift := n / 50
	for i := range n {
		email := "user" + strconv.Itoa(i) + "@example.com"
		g1, g2 := i%scaleGroups, (i/scaleGroups)%scaleGroups
		first := "First" + strconv.Itoa(i%1000)
		groups := []string{"Profile " + strconv.Itoa(g1)}
		if g2 != g1 {
			groups = append(groups, "Profile "+strconv.Itoa(g2))
		}
		a := sim.SeedUser{Email: email, Type: "federatedID", Firstname: first, Lastname: "Last", Country: "US", Groups: groups}
		row := func() {
			fmt.Fprintf(cw, "%s,Last,%s,US,\"Dept %d,Dept %d\"\n", first, email, g1, g2)
		}
		switch {
		case i < drift: // directory only: created
			row()
			continue
		case i < 2*drift: // Adobe only
			seedUser(a)
			continue
		case i < 3*drift: // a membership missing
			a.Groups = a.Groups[:1]
		case i < 4*drift: // a stale first name
			a.Firstname = "Old"
		}
		row()
		seedUser(a)
	}
	for i := range drift { // make both sides n long
		fmt.Fprintf(cw, "Extra,Last,extra%d@example.com,US,Dept %d\n", i, i%scaleGroups)
		seedUser(sim.SeedUser{Email: "stray" + strconv.Itoa(i) + "@example.com", Type: "federatedID",
			Country: "US", Groups: []string{"Profile " + strconv.Itoa(i%scaleGroups)}})
	}
	sw.WriteString("]}\n")
	for _, w := range []*bufio.Writer{cw, sw} {
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
	}
	csvFile.Close()
	seedFile.Close()

	var mapping strings.Builder
	for g := range scaleGroups {
		fmt.Fprintf(&mapping, "    - directory_group: Dept %d\n      adobe_groups: [Profile %d]\n", g, g)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	write("connector-csv.yml", "delimiter: ','\n")
	extension := ""
	if hook {
		write("extension-config.yml", "after_mapping_hook: |\n  if source_attributes['country'] is None:\n      target_attributes['country'] = 'US'\n")
		extension = "  extension: extension-config.yml\n"
	}
	write("user-sync-config.yml", fmt.Sprintf(`adobe_users:
  connectors:
    umapi: connector-umapi.yml
  exclude_adobe_groups: [_org_admin]
directory_users:
  user_identity_type: federatedID
%s  connectors:
    csv: connector-csv.yml
  groups:
%slimits:
  max_adobe_only_users: 5%%
logging:
  log_to_file: False
  console_log_level: warning
invocation_defaults:
  adobe_only_user_action: remove
  process_groups: Yes
  update_user_info: Yes
  connector: [csv, %q]
`, extension, mapping.String(), filepath.Join(dir, "users.csv")))
	return f
}

// startScaleSim starts `usersync sim` on the fixture's seed in a
// subprocess and points connector-umapi.yml at it.
func startScaleSim(tb testing.TB, f *scaleFixture) {
	tb.Helper()
	bin := scaleBinary(tb)
	cmd := exec.Command(bin, "sim", "--addr", "127.0.0.1:0", "--seed", f.seed)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		tb.Fatalf("usersync sim: %q, %v", line, err)
	}
	body := fmt.Sprintf("server:\n  host: %s\n  auth_host: %s\nenterprise:\n  org_id: 5CA1E5CA1E5CA1E5@AdobeOrg\n  client_id: %s\n  client_secret: %s\n",
		url, url, testClientID, testSecret)
	if err := os.WriteFile(filepath.Join(f.dir, "connector-umapi.yml"), []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// scaleBinary builds usersync for the simulator subprocess, into a
// directory removed with the test (the build cache makes a second build
// cheap).
func scaleBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "usersync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// planFigures are what one measured `usersync plan` cost this process.
type planFigures struct {
	cpu       float64 // user+system CPU seconds (getrusage)
	peakHeap  uint64  // sampled peak of Go heap objects plus goroutine stacks
	peakRSS   uint64  // VmHWM after a reset, 0 when the reset is not possible
	allocated uint64  // bytes allocated on the Go heap
}

// measurePlan runs `usersync plan` on the fixture and measures it. The
// peak heap is sampled every 2ms from runtime/metrics
// (/memory/classes/heap/objects:bytes plus
// /memory/classes/heap/stacks:bytes); the peak RSS is the kernel's VmHWM,
// reset through /proc/self/clear_refs just before the run.
func measurePlan(tb testing.TB, f *scaleFixture) planFigures {
	tb.Helper()
	runtime.GC()
	resetRSS := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
		var written uint64 // the peak when a heap profile was last written
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			if v := samples[0].Value.Uint64() + samples[1].Value.Uint64(); v > peak.Load() {
				if prof := os.Getenv("USERSYNC_SCALE_HEAPPROF"); prof != "" && v > written+64<<20 {
					written = v
					writeHeapProfile(fmt.Sprintf("%s.%d", prof, v>>20))
				}
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	cpu0 := cpuSeconds()
	var out, errb strings.Builder
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == "USERSYNC_DB" {
			return ""
		}
		return os.Getenv(k)
	}}
	code := runMain(context.Background(), e, []string{"plan", "-c", f.cfg, "--db", filepath.Join(f.dir, "usersync.db")})
	cpu := cpuSeconds() - cpu0
	close(stop)
	<-done
	runtime.ReadMemStats(&ms1)
	if code != exitOK {
		tb.Fatalf("usersync plan: exit %d\n%s", code, tail(errb.String(), 3000))
	}
	fig := planFigures{cpu: cpu, peakHeap: peak.Load(), allocated: ms1.TotalAlloc - ms0.TotalAlloc}
	if resetRSS {
		fig.peakRSS = vmHWM()
	}
	return fig
}

// writeHeapProfile writes what is live now to path. Two collections
// first, because a heap profile shows the heap as of the collection
// before last; they disturb the figures of the run, so profiles are only
// written on request: USERSYNC_SCALE_HEAPPROF=PREFIX writes PREFIX.MiB
// each time the sampled heap has grown by 64 MiB, and the largest shows
// what is live at the peak.
func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	runtime.GC()
	runtime.GC()
	pprof.Lookup("heap").WriteTo(f, 0)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// vmHWM is the process's peak resident memory in bytes (Linux).
func vmHWM() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

// BenchmarkPlanMillionEndToEnd runs `usersync plan` with 1,000,000
// directory users from a CSV file against a 1,000,000-user simulated org
// (20 mapped groups, 2% drift each side), and reports:
//
//   - cpu-s: user+system CPU seconds of this process during the command
//     (getrusage RUSAGE_SELF; the simulator is a subprocess and is not
//     counted, nor is writing the fixture files);
//   - peak-rss-MiB: the kernel's peak resident set (VmHWM), reset through
//     /proc/self/clear_refs just before the command (not reported where
//     the reset is refused);
//   - peak-heap-MiB: the sampled peak of Go heap objects plus goroutine
//     stacks (runtime/metrics, every 2ms);
//   - alloc-MiB: what the command allocated on the Go heap.
//
// Reproduce with
//
//	go test -run '^$' -bench PlanMillionEndToEnd -benchtime 1x ./cmd/usersync/
//
// Set USERSYNC_SCALE_USERS to run it at another size, and
// USERSYNC_SCALE_HOOK=1 to add an extension hook (which makes the CSV
// source build every user's source attributes). On a shared 2-core
// machine it measured 20.7 to 28.5 cpu-s, 3,414 to 3,746 peak-rss-MiB and
// 7,195 alloc-MiB before the decoders and encoders were rewritten (commit
// a015e0f), and 9.0 to 10.6 cpu-s, 933 to 966 peak-rss-MiB and 1,727 to
// 1,880 alloc-MiB after; docs/performance.md breaks the figures down by
// stage.
func BenchmarkPlanMillionEndToEnd(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("USERSYNC_SCALE_USERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	f := writeScaleFixtureHook(b, n, os.Getenv("USERSYNC_SCALE_HOOK") != "")
	startScaleSim(b, f)
	b.ResetTimer()
	var fig planFigures
	for b.Loop() {
		os.Remove(filepath.Join(f.dir, "usersync.db"))
		fig = measurePlan(b, f)
	}
	b.ReportMetric(fig.cpu, "cpu-s")
	b.ReportMetric(float64(fig.peakHeap)/(1<<20), "peak-heap-MiB")
	if fig.peakRSS > 0 {
		b.ReportMetric(float64(fig.peakRSS)/(1<<20), "peak-rss-MiB")
	}
	b.ReportMetric(float64(fig.allocated)/(1<<20), "alloc-MiB")
}

// The memory a 100,000-user `usersync plan` cost per user when it was
// last measured (peak-heap-MiB and alloc-MiB of
// USERSYNC_SCALE_USERS=100000 go test -run '^$' -bench PlanMillionEndToEnd -benchtime 1x ./cmd/usersync/:
// 110 to 123 MiB and 180 MiB). Before the decoders were rewritten they
// were 3,590 and 7,280 bytes a user. Lower them when memory use goes down
// for good.
const (
	baselinePeakHeapPerUser = 1260 // bytes
	baselineAllocPerUser    = 1900 // bytes
)

// TestMemoryPerUser runs `usersync plan` with 100,000 users on each side
// and fails when the peak heap or the bytes allocated per user have
// doubled against the recorded baseline. It measures memory, never time:
// both figures are steady from run to run on a loaded machine.
func TestMemoryPerUser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and plans 100,000 users")
	}
	const n = 100_000
	f := writeScaleFixture(t, n)
	startScaleSim(t, f)
	fig := measurePlan(t, f)
	peak, alloc := float64(fig.peakHeap)/n, float64(fig.allocated)/n
	t.Logf("%d users: peak heap %.0f B/user (baseline %d), allocated %.0f B/user (baseline %d), %.2f CPU-s",
		n, peak, baselinePeakHeapPerUser, alloc, baselineAllocPerUser, fig.cpu)
	if peak > 2*baselinePeakHeapPerUser {
		t.Errorf("peak heap %.0f B/user; want at most twice the baseline %d B/user", peak, baselinePeakHeapPerUser)
	}
	if alloc > 2*baselineAllocPerUser {
		t.Errorf("allocated %.0f B/user; want at most twice the baseline %d B/user", alloc, baselineAllocPerUser)
	}
}
