package adobeconsole

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/connectors/umapi"
	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core"
)

// startSim serves seed over real HTTP on loopback.
func startSim(t *testing.T, seed *sim.Seed, faults string) *sim.Server {
	t.Helper()
	srv, err := sim.New(sim.Options{Seed: seed, Faults: faults, FaultSeed: 7})
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	if _, err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("sim.Start: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// consoleYAML is a connector-adobe-console.yml pointing at the simulator.
func consoleYAML(url, orgID, secret, extra string) string {
	return fmt.Sprintf(`authentication_method: oauth
%sserver:
  host: %s
  auth_host: %s
  retries: 9
integration:
  org_id: %q
  client_id: %s
  client_secret: %s
`, extra, url, url, orgID, sim.DefaultClientID, secret)
}

// instantClock lets the client's backoff and Retry-After waits pass at
// once while recording them.
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

// newSimSource builds the source the way cmd does: the UMAPI client from
// Config (Attempts = retries + 1, never test mode), then New.
func newSimSource(t *testing.T, yaml string) (*Source, *instantClock) {
	t.Helper()
	cfg, err := parseYAML(t, yaml, nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	clock := &instantClock{}
	client, err := umapi.New(umapi.Options{
		Name: "adobe_console", Host: cfg.Host, Endpoint: cfg.Endpoint, AuthHost: cfg.AuthHost, AuthEndpoint: cfg.AuthEndpoint,
		OrgID: cfg.OrgID, ClientID: cfg.ClientID.Reveal(), ClientSecret: cfg.ClientSecret.Reveal(),
		Timeout: cfg.Timeout, Retries: cfg.Attempts(), SSLVerify: cfg.SSLVerify, Clock: clock,
	})
	if err != nil {
		t.Fatalf("umapi.New: %v", err)
	}
	return New(cfg, client, nil), clock
}

// simHarness runs the conformance suite against the simulator.
type simHarness struct{}

func (simHarness) Features() connectortest.Features { return connectortest.Features{AllUsers: true} }

func (simHarness) NewSource(t *testing.T, d connectortest.Data) core.Source {
	seed := &sim.Seed{OrgID: "SRC0000000000000@AdobeOrg", ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret,
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}}}
	for _, g := range d.Groups {
		seed.Groups = append(seed.Groups, sim.SeedGroup{Name: g, Type: "USER_GROUP"})
	}
	for _, u := range d.Users {
		if u.Service {
			continue
		}
		a := adobeUserOf(u)
		seed.Users = append(seed.Users, sim.SeedUser{Email: a.Email, Username: a.Username, Domain: a.Domain, Type: string(a.Type),
			Firstname: a.Firstname, Lastname: a.Lastname, Country: a.Country, Groups: a.Groups})
	}
	srv := startSim(t, seed, "")
	src, _ := newSimSource(t, consoleYAML(srv.URL(), seed.OrgID, sim.DefaultClientSecret, ""))
	return src
}

func (simHarness) Unreadable(t *testing.T) core.Source {
	srv := startSim(t, nil, "")
	src, _ := newSimSource(t, consoleYAML(srv.URL(), sim.DefaultOrgID, "wrong-secret", ""))
	return src
}

func TestConformanceSimulator(t *testing.T) { connectortest.Run(t, simHarness{}) }

// bigSeed has n federated users (more than one 2,000-user page), every
// third in "Design Team" (spelt in lower case in the org), every fifth in
// the "All Apps" profile, and some enterprise and Adobe ID users.
func bigSeed(n int) *sim.Seed {
	seed := &sim.Seed{OrgID: sim.DefaultOrgID, ClientID: sim.DefaultClientID, ClientSecret: sim.DefaultClientSecret,
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}, {Name: "corp.example", Type: "enterpriseID"}},
		Groups: []sim.SeedGroup{{Name: "design team", Type: "USER_GROUP"},
			{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud"}}}
	for i := range n {
		u := sim.SeedUser{Email: fmt.Sprintf("u%05d@example.org", i), Type: "federatedID", Firstname: "F", Lastname: fmt.Sprint(i), Country: "US"}
		if i%3 == 0 {
			u.Groups = append(u.Groups, "design team")
		}
		if i%5 == 0 {
			u.Groups = append(u.Groups, "All Apps")
		}
		seed.Users = append(seed.Users, u)
	}
	seed.Users = append(seed.Users,
		sim.SeedUser{Email: "ent@corp.example", Type: "enterpriseID", Groups: []string{"design team"}},
		sim.SeedUser{Email: "someone@gmail.example", Type: "adobeID", Groups: []string{"design team"}})
	return seed
}

func TestSimulatorReadsAllPagesAndFilters(t *testing.T) {
	const n = 2500
	srv := startSim(t, bigSeed(n), "")
	tests := []struct {
		name      string
		extra     string
		q         core.SourceQuery
		wantCount int
	}{
		{name: "members of a group, any type", q: core.SourceQuery{Groups: []string{"Design Team"}}, wantCount: (n+2)/3 + 2},
		{name: "federated members only", extra: "identity_type_filter: federatedID\n", q: core.SourceQuery{Groups: []string{"Design Team"}}, wantCount: (n + 2) / 3},
		{name: "all users", q: core.SourceQuery{AllUsers: true}, wantCount: n + 2},
		{name: "enterprise only, all users", extra: "identity_type_filter: enterpriseid\n", q: core.SourceQuery{AllUsers: true}, wantCount: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, _ := newSimSource(t, consoleYAML(srv.URL(), sim.DefaultOrgID, sim.DefaultClientSecret, tc.extra))
			got, err := src.Users(context.Background(), tc.q, nil)
			if err != nil {
				t.Fatalf("Users: %v", err)
			}
			if len(got.Users) != tc.wantCount {
				t.Errorf("Users() returned %d users; want %d", len(got.Users), tc.wantCount)
			}
		})
	}

	src, _ := newSimSource(t, consoleYAML(srv.URL(), sim.DefaultOrgID, sim.DefaultClientSecret, ""))
	got, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design Team", "No Such Group"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"No Such Group"}, got.MissingGroups); diff != "" {
		t.Errorf("MissingGroups (-want +got):\n%s", diff)
	}
	var u0 *core.DirectoryUser
	for i := range got.Users {
		if got.Users[i].Email == "u00000@example.org" {
			u0 = &got.Users[i]
		}
	}
	if u0 == nil {
		t.Fatal("u00000@example.org not returned")
	}
	if diff := cmp.Diff([]string{"Design Team"}, u0.Groups); diff != "" {
		t.Errorf("Groups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"All Apps", "design team"}, sortedCopy(u0.MemberGroups)); diff != "" {
		t.Errorf("MemberGroups (-want +got):\n%s", diff)
	}
	if st := srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("action requests = %d; the source org must only be read", st.Requests.Action)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// throttleRecorder counts throttle waits passed through the source.
type throttleRecorder struct {
	recorder
	mu    sync.Mutex
	waits []core.ThrottleWait
}

func (r *throttleRecorder) Throttled(w core.ThrottleWait) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, w)
}

func TestSimulatorFaultsAreRetriedOrFail(t *testing.T) {
	srv := startSim(t, bigSeed(4500), "5xx=0.3,429=0.3")
	src, _ := newSimSource(t, consoleYAML(srv.URL(), sim.DefaultOrgID, sim.DefaultClientSecret, ""))
	rec := &throttleRecorder{}
	got, err := src.Users(context.Background(), core.SourceQuery{AllUsers: true}, rec)
	if err != nil {
		// With 10 attempts a page, a complete failure is unlikely; if it
		// happens it must be an error with no users, never a short list.
		if len(got.Users) != 0 {
			t.Fatalf("Users() = %d users with error %v; want none", len(got.Users), err)
		}
		t.Skipf("read failed after retries (allowed): %v", err)
	}
	if len(got.Users) != 4502 {
		t.Errorf("Users() returned %d users; want 4502", len(got.Users))
	}
	if len(rec.waits) == 0 {
		t.Errorf("no throttle or backoff waits were reported through the source")
	}
}

func TestSimulatorBadCredentials(t *testing.T) {
	srv := startSim(t, nil, "")
	src, _ := newSimSource(t, consoleYAML(srv.URL(), sim.DefaultOrgID, "wrong-secret", ""))
	got, err := src.Users(context.Background(), core.SourceQuery{AllUsers: true}, nil)
	if err == nil || len(got.Users) != 0 {
		t.Fatalf("Users() = %d users, %v; want an error", len(got.Users), err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error %q shows the secret", err)
	}
	if c := core.Code(err); c != core.CodeUnauthenticated && c != core.CodePermissionDenied {
		t.Errorf("error code = %v; want unauthenticated", c)
	}
}
