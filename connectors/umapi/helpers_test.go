package umapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core"
)

// instantClock tells the real time but never waits: After fires at once
// and records the wait asked for, so retry and throttle waits cost nothing.
type instantClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *instantClock) Now() time.Time { return time.Now() }

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

func (c *instantClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// seenRequest is what the recording middleware saw of one request.
type seenRequest struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// recorder wraps a handler, recording requests; intercept, when set, may
// answer a request itself (returning true) to force a behaviour.
type recorder struct {
	mu        sync.Mutex
	reqs      []seenRequest
	next      http.Handler
	intercept func(n int, w http.ResponseWriter, r *http.Request) bool
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		body = buf.Bytes()
		r.Body.Close()
		r.Body = readCloser{bytes.NewReader(body)}
	}
	rec.mu.Lock()
	n := len(rec.reqs)
	rec.reqs = append(rec.reqs, seenRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
	intercept := rec.intercept
	rec.mu.Unlock()
	if intercept != nil && intercept(n, w, r) {
		return
	}
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) requests(pathPrefix string) []seenRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []seenRequest
	for _, r := range rec.reqs {
		if strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// testSeed is a small org: two claimed domains, user groups and profiles.
func testSeed() *sim.Seed {
	return &sim.Seed{
		OrgID: sim.DefaultOrgID, ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret,
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}, {Name: "ent.example.com", Type: "enterpriseID"}},
		Groups: []sim.SeedGroup{
			{Name: "Design Team", Type: "USER_GROUP"},
			{Name: "Marketing", Type: "USER_GROUP"},
			{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud"},
			{Name: "Acrobat", Type: "PRODUCT_PROFILE", ProductName: "Acrobat Pro"},
		},
		Users: []sim.SeedUser{
			{Email: "ana@example.org", Type: "federatedID", Firstname: "Ana", Lastname: "Ruiz", Country: "ES", Groups: []string{"Design Team", "All Apps"}},
			{Email: "li@ent.example.com", Type: "enterpriseID", Firstname: "Li", Lastname: "Wei", Country: "SG", Groups: []string{"Acrobat"}},
			{Email: "pat@gmail.com", Type: "adobeID", Groups: []string{"Acrobat"}},
		},
	}
}

// bigSeed adds n federated users u00000@example.org... to testSeed.
func bigSeed(n int, groups ...string) *sim.Seed {
	s := testSeed()
	for i := range n {
		s.Users = append(s.Users, sim.SeedUser{Email: fmt.Sprintf("u%05d@example.org", i), Type: "federatedID",
			Firstname: "U", Lastname: fmt.Sprint(i), Country: "US", Groups: groups})
	}
	return s
}

type env struct {
	sim   *sim.Server
	rec   *recorder
	url   string
	clock *instantClock
	logs  *bytes.Buffer
}

// startSim serves a simulator over real HTTP behind the recorder.
func startSim(t testing.TB, opts sim.Options) *env {
	t.Helper()
	if opts.Seed == nil {
		opts.Seed = testSeed()
	}
	s, err := sim.New(opts)
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	rec := &recorder{next: s.Handler()}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return &env{sim: s, rec: rec, url: srv.URL, clock: &instantClock{}, logs: &bytes.Buffer{}}
}

// client returns a client of e's simulator that never waits for real.
func (e *env) client(t testing.TB, mod func(*Options)) *Client {
	t.Helper()
	o := Options{
		Host: e.url, AuthHost: e.url, OrgID: sim.DefaultOrgID, ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret,
		SSLVerify: true, Clock: e.clock, Retries: 3, Timeout: 10 * time.Second, NoPacing: true,
		Logger: slog.New(slog.NewTextHandler(&syncWriter{w: e.logs}, nil)),
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (e *env) logText() string {
	return e.logs.String()
}

// recReporter records throttle waits and progress.
type recReporter struct {
	mu        sync.Mutex
	throttles []core.ThrottleWait
	progress  []core.Progress
	done      []core.ChangeResult
}

func (r *recReporter) Progress(p core.Progress) {
	r.mu.Lock()
	r.progress = append(r.progress, p)
	r.mu.Unlock()
}
func (r *recReporter) Throttled(w core.ThrottleWait) {
	r.mu.Lock()
	r.throttles = append(r.throttles, w)
	r.mu.Unlock()
}
func (r *recReporter) ChangeDone(c core.ChangeResult) {
	r.mu.Lock()
	r.done = append(r.done, c)
	r.mu.Unlock()
}

// waits returns the waits that started and checks that each ended, in
// order, with the same fields.
func (r *recReporter) waits(t *testing.T) []core.ThrottleWait {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var starts []core.ThrottleWait
	var open *core.ThrottleWait
	for _, w := range r.throttles {
		if !w.End {
			if open != nil {
				t.Errorf("wait %+v started before the wait %+v ended", w, *open)
			}
			starts = append(starts, w)
			open = &starts[len(starts)-1]
			continue
		}
		if open == nil {
			t.Errorf("wait end %+v without a start", w)
			continue
		}
		e := *open
		e.End = true
		if e != w {
			t.Errorf("wait end %+v does not match its start %+v", w, *open)
		}
		open = nil
	}
	if open != nil {
		t.Errorf("wait %+v never ended", *open)
	}
	return starts
}

var bg = context.Background()
