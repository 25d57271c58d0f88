package sim

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestThrottleRealistic(t *testing.T) {
	c := newTestSim(t, Options{Throttle: "realistic"})
	action := func() *http.Response {
		resp, _ := c.do("POST", "/action/"+testOrg, `[{"user":"ana@example.org","do":[{"add":{"group":["Acrobat"]}}]}]`)
		return resp
	}
	for i := range 10 {
		if r := action(); r.StatusCode != 200 {
			t.Fatalf("action %d = %d; want 200 (10 a minute)", i+1, r.StatusCode)
		}
		c.clock.Advance(time.Second)
	}
	resp, body := c.do("POST", "/action/"+testOrg, `[]`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "50" || resp.Header.Get("Retry-After-Ms") != "50000" {
		t.Errorf("11th action (10s after the first) = %d Retry-After %q Retry-After-Ms %q; want 429, 50, 50000",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Retry-After-Ms"))
	}
	if strings.TrimSpace(string(body)) != `{"error_code":"429050","message":"Too many requests"}` {
		t.Errorf("429 body = %s", body)
	}
	// Reads have their own budgets: 25 a minute for users, 5 for groups.
	for i := range 25 {
		if r, _ := c.do("GET", "/users/"+testOrg+"/0", ""); r.StatusCode != 200 {
			t.Fatalf("users read %d = %d; want 200", i+1, r.StatusCode)
		}
	}
	if r, _ := c.do("GET", "/organizations/"+testOrg+"/users/ana@example.org", ""); r.StatusCode != 429 {
		t.Errorf("26th users read = %d; want 429", r.StatusCode)
	}
	for i := range 5 {
		if r, _ := c.do("GET", "/groups/"+testOrg+"/0", ""); r.StatusCode != 200 {
			t.Fatalf("groups read %d = %d; want 200", i+1, r.StatusCode)
		}
	}
	if r, _ := c.do("GET", "/groups/"+testOrg+"/0", ""); r.StatusCode != 429 || r.Header.Get("Retry-After") != "60" {
		t.Errorf("6th groups read = %d Retry-After %q; want 429, 60", r.StatusCode, r.Header.Get("Retry-After"))
	}
	// The window slides: the first request leaves it 60s after it was made.
	c.clock.Advance(49 * time.Second)
	if r := action(); r.StatusCode != 429 {
		t.Errorf("action 59s after the first = %d; want 429", r.StatusCode)
	}
	c.clock.Advance(time.Second)
	if r := action(); r.StatusCode != 200 {
		t.Errorf("action once the first left the window = %d; want 200", r.StatusCode)
	}
	if got := c.sim.Stats().Throttled; got != 4 {
		t.Errorf("throttled = %d; want 4 (action, users, groups, action)", got)
	}
}

func TestThrottleTimeScale(t *testing.T) {
	c := newTestSim(t, Options{Throttle: "realistic", TimeScale: 60})
	for range 10 {
		c.do("POST", "/action/"+testOrg, `[{"user":"ana@example.org","do":[{"remove":"all"}]}]`)
	}
	c.clock.Advance(250 * time.Millisecond)
	resp, _ := c.do("POST", "/action/"+testOrg, `[{"user":"ana@example.org","do":[{"remove":"all"}]}]`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" || resp.Header.Get("Retry-After-Ms") != "750" {
		t.Errorf("throttled at scale 60 = %d, Retry-After %q, Retry-After-Ms %q; want 429, 1, 750",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Retry-After-Ms"))
	}
	c.clock.Advance(750 * time.Millisecond)
	if resp, _ := c.do("POST", "/action/"+testOrg, `[{"user":"ana@example.org","do":[{"remove":"all"}]}]`); resp.StatusCode != 200 {
		t.Errorf("after the scaled wait = %d; want 200", resp.StatusCode)
	}
}

func TestParseFaults(t *testing.T) {
	got, err := ParseFaults("5xx=0.05, reset=0.01,slow=0.02,429=0.02,slow-delay=300ms")
	want := Faults{Gateway: 0.05, Reset: 0.01, Slow: 0.02, Throttle: 0.02, SlowDelay: 300 * time.Millisecond}
	if err != nil || got != want {
		t.Errorf("ParseFaults = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"5xx", "5xx=2", "boom=0.1", "5xx=0.6,reset=0.6", "slow-delay=soon"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) = nil error; want one", bad)
		}
	}
}

// faultRun sends n reads to a fresh simulator and lists what each got.
func faultRun(t *testing.T, spec string, seed int64, n int) ([]string, *testClient) {
	t.Helper()
	c := newTestSim(t, Options{Faults: spec, FaultSeed: seed})
	c.hc = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var out []string
	for range n {
		req, _ := http.NewRequest("GET", c.base+"/v2/usermanagement/users/"+testOrg+"/0", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("X-Api-Key", c.key)
		resp, err := c.hc.Do(req)
		if err != nil {
			out = append(out, "reset")
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out = append(out, fmt.Sprint(resp.StatusCode))
	}
	return out, c
}

func TestFaultsRepeatable(t *testing.T) {
	const spec = "5xx=0.3,reset=0.2,slow=0.1,429=0.2,slow-delay=1ms"
	a, _ := faultRun(t, spec, 42, 60)
	b, _ := faultRun(t, spec, 42, 60)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same fault seed, different faults (-first +second):\n%s", diff)
	}
	kinds := map[string]int{}
	for _, o := range a {
		kinds[o]++
	}
	for _, k := range []string{"200", "429", "reset"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in %v", k, a)
		}
	}
	if kinds["502"]+kinds["503"]+kinds["504"] == 0 {
		t.Errorf("no 5xx in %v", a)
	}
	other, _ := faultRun(t, spec, 43, 60)
	if cmp.Equal(a, other) {
		t.Errorf("fault seeds 42 and 43 gave the same faults")
	}
}

func TestFaultResetAppliesSomeActions(t *testing.T) {
	c := newTestSim(t, Options{Faults: "reset=1", FaultSeed: 7})
	c.hc = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	const n = 20
	for i := range n {
		body := fmt.Sprintf(`[{"user":"r%d@example.org","do":[{"createFederatedID":{"email":"r%d@example.org","firstname":"R","lastname":"S","country":"DE"}}]}]`, i, i)
		req, _ := http.NewRequest("POST", c.base+"/v2/usermanagement/action/"+testOrg, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("X-Api-Key", c.key)
		if resp, err := c.hc.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("request %d got %s; want a dropped connection", i, resp.Status)
		}
	}
	applied := 0
	for i := range n {
		if c.user(fmt.Sprintf("r%d@example.org", i)) != nil {
			applied++
		}
	}
	if applied == 0 || applied == n {
		t.Errorf("%d of %d reset requests were applied; want some but not all (reset before and after processing)", applied, n)
	}
	if got := c.sim.Stats(); got.Commands != int64(applied) || got.Requests.Action != n {
		t.Errorf("stats = %+v; want %d commands, %d action requests", got, applied, n)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Options{TLSDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Errorf("base URL = %s; want https://127.0.0.1:PORT", base)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("ca.pem holds no certificate")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, u := range []string{base, strings.Replace(base, "127.0.0.1", "localhost", 1)} {
		resp, err := hc.Get(u + "/status")
		if err != nil {
			t.Fatalf("GET %s/status with the CA: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s/status = %d", u, resp.StatusCode)
		}
	}
	if _, err := http.Get(base + "/status"); err == nil {
		t.Errorf("GET without the CA succeeded; want a certificate error")
	}

	// The reset fault drops TLS connections too.
	rs, err := New(Options{TLSDir: t.TempDir(), Faults: "reset=1"})
	if err != nil {
		t.Fatal(err)
	}
	rbase, err := rs.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	caPEM, _ = os.ReadFile(filepath.Join(rs.opts.TLSDir, "ca.pem"))
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	if resp, err := hc.Get(rbase + "/v2/usermanagement/groups/" + DefaultOrgID + "/0"); err == nil {
		resp.Body.Close()
		t.Errorf("GET with reset=1 over TLS = %s; want a dropped connection", resp.Status)
	}
}

func TestMainCommand(t *testing.T) {
	dir := t.TempDir()
	seedPath := filepath.Join(dir, "seed.json")
	os.WriteFile(seedPath, []byte(testSeedJSON), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--seed", seedPath, "--throttle", "realistic",
			"--time-scale", "60", "--faults", "slow=0.1,slow-delay=1ms", "--fault-seed", "3"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first line: %v", err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line = %q; want listening on http://127.0.0.1:PORT", line)
	}
	go io.Copy(io.Discard, pr)
	resp, err := http.Get(base + "/_sim/state")
	if err != nil {
		t.Fatal(err)
	}
	var st Seed
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if len(st.Users) != 5 {
		t.Errorf("state has %d users; want the seed's 5", len(st.Users))
	}
	// An empty reset restores the seed file's org.
	http.Post(base+"/_sim/reset", "application/json", strings.NewReader(`{"users":[]}`))
	resp, err = http.Post(base+"/_sim/reset", "application/json", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("empty reset = %v, %v", resp, err)
	}
	var rr map[string]any
	json.NewDecoder(resp.Body).Decode(&rr)
	resp.Body.Close()
	if rr["users"] != 5.0 {
		t.Errorf("empty reset = %v; want the seed file's 5 users back", rr)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit code after interrupt = %d; want 0 (stderr %s)", code, stderr.String())
	}

	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"--throttle", "sometimes"}, 2},
		{[]string{"--time-scale", "0"}, 2},
		{[]string{"--faults", "5xx=3"}, 2},
		{[]string{"extra"}, 2},
		{[]string{"--bogus"}, 2},
		{[]string{"--help"}, 0},
		{[]string{"--seed", filepath.Join(dir, "missing.json")}, 1},
		{[]string{"--addr", "256.0.0.1:0"}, 1},
	} {
		var out, errOut strings.Builder
		if code := run(context.Background(), tt.args, &out, &errOut); code != tt.code {
			t.Errorf("run(%v) = %d; want %d (stderr %s)", tt.args, code, tt.code, errOut.String())
		}
	}
}

func TestFaultSlowAndGatewayRetryAfter(t *testing.T) {
	c := newTestSim(t, Options{FaultSpec: &Faults{Slow: 1, SlowDelay: time.Millisecond}})
	if r, _ := c.do("GET", "/users/"+testOrg+"/0", ""); r.StatusCode != 200 {
		t.Errorf("slow request = %d; want 200 after the delay", r.StatusCode)
	}
	c = newTestSim(t, Options{Faults: "5xx=1", TimeScale: 10})
	seen := map[int]bool{}
	for range 30 {
		r, _ := c.do("GET", "/users/"+testOrg+"/0", "")
		seen[r.StatusCode] = true
		if r.StatusCode == 503 && (r.Header.Get("Retry-After") != "1" || r.Header.Get("Retry-After-Ms") != "500") {
			t.Errorf("503 Retry-After %q, Retry-After-Ms %q; want 1 and 500 at time scale 10",
				r.Header.Get("Retry-After"), r.Header.Get("Retry-After-Ms"))
		}
	}
	if !seen[502] || !seen[503] || !seen[504] || len(seen) != 3 {
		t.Errorf("statuses with 5xx=1: %v; want 502, 503 and 504 only", seen)
	}
	if st := c.sim.Stats(); st.Requests.Users != 30 || st.Commands != 0 {
		t.Errorf("stats = %+v; want 30 users requests counted", st)
	}
}

// TestConcurrentClients runs readers and writers at once; with -race it
// checks the locking.
func TestConcurrentClients(t *testing.T) {
	c := newTestSim(t, Options{})
	done := make(chan bool)
	for w := range 4 {
		go func() {
			defer func() { done <- true }()
			for i := range 20 {
				if w%2 == 0 {
					c.action(fmt.Sprintf(`[{"user":"w%d-%d@example.org","do":[{"createFederatedID":{"email":"w%d-%d@example.org","firstname":"W","lastname":"C","country":"DE"}},{"add":{"group":["Design Team"]}}]}]`, w, i, w, i), false)
				} else {
					c.do("GET", "/users/"+testOrg+"/0/Design%20Team", "")
					c.do("GET", "/groups/"+testOrg+"/0", "")
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if n := len(c.sim.State().Users); n != 45 {
		t.Errorf("users = %d; want 45", n)
	}
}

func TestRequestLog(t *testing.T) {
	var log syncBuffer
	c := newTestSim(t, Options{Log: &log, FaultSpec: &Faults{Throttle: 0.5}, FaultSeed: 1})
	for range 6 {
		c.do("POST", "/action/"+testOrg+"?testOnly=true", `[{"user":"ana@example.org","do":[{"remove":"all"}]}]`)
	}
	c.hc.Post(c.base+"/ims/token/v3?client_secret=sim-secret&client_id=sim-client&grant_type=client_credentials&scope=user_management_sdk", "", nil)
	got := log.String()
	for _, want := range []string{"POST /ims/token/v2/ 200", "POST /v2/usermanagement/action/" + testOrg + "?testOnly=true 200 success completed=1 notCompleted=0",
		`429 retry-after=10000ms fault="429"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "sim-secret") {
		t.Errorf("log shows the client secret:\n%s", got)
	}
}

// syncBuffer is a strings.Builder safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
