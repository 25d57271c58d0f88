package tui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/csv"
	"github.com/usersync/usersync/connectors/umapi"
	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/run"
	"github.com/usersync/usersync/store"
	"github.com/usersync/usersync/tui/live"
	"github.com/usersync/usersync/tui/tuitest"
)

// The console's tests drive the real backend: the run engine and the
// store over a CSV directory and the simulator over HTTP, on a manual
// clock shared by the simulator and the client, so that throttle waits
// are driven by the test instead of slept.

// epoch is the time the manual clock starts at.
var epoch = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

// envOpts shape one test's org and connections.
type envOpts struct {
	// limit is max_adobe_only_users (default 10).
	limit string
	// testMode runs the plan in test mode.
	testMode bool
	// throttle is the simulator's throttle ("realistic" or off).
	throttle string
	// secret replaces the client secret of the connection (a wrong one
	// makes the fetch fail).
	secret string
	// wrap, when set, serves the primary simulator through it (to hold or
	// watch requests).
	wrap func(http.Handler) http.Handler
	// users adds this many new directory users (u000…) in Design.
	users int
	// primaryOnly leaves the secondary org out of the configuration.
	primaryOnly bool
	// mapping, when set, replaces the directory_users.groups items.
	mapping string
	// limits are more lines of the limits section (indented by two).
	limits string
	// rename renames a directory group in users.csv ("old=new"): the
	// fixture's guard case, a renamed group whose members would all lose
	// its mapped groups.
	rename string
}

// env is one real backend over the fixture org.
type env struct {
	b      *live.Backend
	eng    *run.Engine
	db     *store.DB
	srv    *sim.Server
	sec    *sim.Server
	clock  *tuitest.Clock
	dir    string
	url    string // the primary simulator's base URL
	secURL string
}

// actionRequests is the number of action requests both simulators
// received, from their /_sim/stats.
func (e *env) actionRequests(t testing.TB) int {
	t.Helper()
	var p, s sim.Stats
	getJSON(t, e.url+"/_sim/stats", &p)
	getJSON(t, e.secURL+"/_sim/stats", &s)
	return int(p.Requests.Action + s.Requests.Action)
}

// state reads the primary simulator's /_sim/state.
func (e *env) state(t testing.TB) sim.Seed {
	t.Helper()
	var s sim.Seed
	getJSON(t, e.url+"/_sim/state", &s)
	return s
}

func getJSON(t testing.TB, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// The fixture org: sixteen directory people, of whom seven have Adobe
// accounts (one with a stale last name, one with a group the directory
// no longer gives), five Adobe-only accounts, a group to create and a
// secondary org.
type person struct {
	first, last, country string
	groups               []string
}

var directory = []person{
	{"Ana", "Ruiz", "ES", []string{"Design", "Marketing"}},
	{"Ben", "Okafor", "NG", []string{"Design"}},
	{"Chloé", "Durand", "FR", []string{"Marketing"}},
	{"Dev", "Sharma", "IN", []string{"Engineering"}},
	{"Eva", "Nowak", "PL", []string{"Sales"}},
	{"Finn", "Berg", "NO", []string{"Design"}},
	{"Gia", "Rossi", "IT", []string{"Sales", "Design"}},
	{"Hana", "Sato", "JP", []string{"Marketing"}},
	{"Ivan", "Petrov", "BG", []string{"Engineering", "Design"}},
	{"Jo", "Smith", "GB", []string{"Sales"}},
	{"Kai", "Müller", "DE", []string{"Design"}},
	{"Lea", "Martin", "FR", []string{"Design"}},
	{"Mia", "Jensen", "DK", []string{"Marketing"}},
	{"Nina", "Patel", "GB", []string{"Sales"}},
	{"Omar", "Haddad", "AE", []string{"Design"}},
	{"Pia", "Lind", "SE", []string{"Engineering"}},
}

// partners are the people whose email is in a domain the org has not
// claimed: usersync cannot know that, and the org refuses their create,
// which gives the fixture a failure at the server.
var partners = map[string]string{"Finn": "partner.example"}

func email(first, last string) string {
	domain := "example.org"
	if d, ok := partners[first]; ok {
		domain = d
	}
	return strings.ToLower(strings.NewReplacer("é", "e", "ü", "ue").Replace(first+"."+last)) + "@" + domain
}

const mapping = `    - directory_group: Design
      adobe_groups: [Design Team, All Apps]
    - directory_group: Marketing
      adobe_groups: [Marketing Team]
    - directory_group: Sales
      adobe_groups: [Acrobat Pro]
    - directory_group: Engineering
      adobe_groups: ["secondary::Dev Tools"]
    - directory_group: Contractors
      adobe_groups: [Contractor Access]
`

func seedUser(first, last, country string, groups ...string) sim.SeedUser {
	return sim.SeedUser{Email: email(first, last), Type: "federatedID", Domain: "example.org",
		Firstname: first, Lastname: last, Country: country, Groups: groups}
}

func withLast(u sim.SeedUser, last string) sim.SeedUser {
	u.Lastname = last
	return u
}

func primarySeed() *sim.Seed {
	d := directory
	users := []sim.SeedUser{
		seedUser(d[9].first, d[9].last, d[9].country, "Acrobat Pro"),
		withLast(seedUser(d[10].first, d[10].last, d[10].country, "Design Team", "All Apps"), "Mueller"), // Müller in the directory
		seedUser(d[11].first, d[11].last, d[11].country, "Design Team", "All Apps"),
		withLast(seedUser(d[12].first, d[12].last, d[12].country), "Jenssen"), // Jensen, and Marketing Team to add
		seedUser(d[13].first, d[13].last, d[13].country, "Acrobat Pro", "Design Team"),
		seedUser(d[14].first, d[14].last, d[14].country, "Design Team", "All Apps"),
		seedUser(d[15].first, d[15].last, d[15].country),
		seedUser("Zoe", "Adams", "US", "Design Team"),
		seedUser("Yuri", "Ivanov", "US", "Acrobat Pro"),
		seedUser("Xena", "Wolf", "US"),
		seedUser("Walt", "Kim", "US", "All Apps"),
		{Email: "admin@example.org", Type: "federatedID", Domain: "example.org", Firstname: "Ad", Lastname: "Min", Country: "US", Groups: []string{"_org_admin"}},
	}
	return &sim.Seed{OrgID: "F1X7F1X7F1X7F1X7@AdobeOrg", ClientID: "tui-client", ClientSecret: "tui-secret-value",
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}},
		Groups: []sim.SeedGroup{{Name: "Design Team", Type: "USER_GROUP"},
			{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud"},
			{Name: "Acrobat Pro", Type: "PRODUCT_PROFILE", ProductName: "Acrobat"}},
		Users: users}
}

func secondarySeed() *sim.Seed {
	p := directory[15]
	return &sim.Seed{OrgID: "5EC05EC05EC05EC0@AdobeOrg", ClientID: "sec-client", ClientSecret: "sec-secret-value",
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}},
		Groups:  []sim.SeedGroup{{Name: "Dev Tools", Type: "PRODUCT_PROFILE", ProductName: "Substance"}},
		Users:   []sim.SeedUser{seedUser(p.first, p.last, p.country, "Dev Tools")}}
}

func usersCSV(extra int) string {
	var b strings.Builder
	b.WriteString("firstname,lastname,email,country,groups\n")
	for _, p := range directory {
		fmt.Fprintf(&b, "%s,%s,%s,%s,\"%s\"\n", p.first, p.last, email(p.first, p.last), p.country, strings.Join(p.groups, ","))
	}
	for i := range extra {
		fmt.Fprintf(&b, "U,%d,u%03d@example.org,US,Design\n", i, i)
	}
	return b.String()
}

// newEnv builds the real backend over the fixture org.
func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	if o.limit == "" {
		o.limit = "10"
	}
	clock := tuitest.NewClock(epoch)
	start := func(seed *sim.Seed, wrap func(http.Handler) http.Handler) (*sim.Server, string) {
		srv, err := sim.New(sim.Options{Seed: seed, Throttle: o.throttle, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		h := srv.Handler()
		if wrap != nil {
			h = wrap(h)
		}
		hs := httptest.NewServer(h)
		t.Cleanup(hs.Close)
		return srv, hs.URL
	}
	prim, primURL := start(primarySeed(), o.wrap)
	sec, secURL := start(secondarySeed(), nil)
	// The environment works in its own directory, so that the file names
	// the screens quote (users.csv:3) are the same in every run.
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secret := "tui-secret-value"
	if o.secret != "" {
		secret = o.secret
	}
	csvText := usersCSV(o.users)
	if from, to, ok := strings.Cut(o.rename, "="); ok {
		csvText = strings.ReplaceAll(csvText, from, to)
	}
	write("users.csv", csvText)
	write("connector-umapi.yml", fmt.Sprintf("server:\n  host: %s\n  auth_host: %s\nenterprise:\n  org_id: %s\n  client_id: tui-client\n  client_secret: %s\n",
		primURL, primURL, primarySeed().OrgID, secret))
	write("connector-secondary.yml", fmt.Sprintf("server:\n  host: %s\n  auth_host: %s\nenterprise:\n  org_id: %s\n  client_id: sec-client\n  client_secret: sec-secret-value\n",
		secURL, secURL, secondarySeed().OrgID))
	write("connector-csv.yml", "delimiter: ','\n")
	umapiConns := "\n      - connector-umapi.yml\n      - secondary: connector-secondary.yml"
	groups := mapping
	if o.mapping != "" {
		groups = o.mapping
	}
	if o.primaryOnly {
		umapiConns = " connector-umapi.yml"
		groups = strings.Replace(mapping, "    - directory_group: Engineering\n      adobe_groups: [\"secondary::Dev Tools\"]\n", "", 1)
	}
	write("user-sync-config.yml", fmt.Sprintf(`adobe_users:
  connectors:
    umapi:%s
  exclude_adobe_groups: [_org_admin]
directory_users:
  user_identity_type: federatedID
  connectors:
    csv: connector-csv.yml
  groups:
%s  group_sync_options:
    auto_create: True
limits:
  max_adobe_only_users: %s
%slogging:
  log_to_file: False
invocation_defaults:
  adobe_only_user_action: delete
  process_groups: Yes
  update_user_info: Yes
  test_mode: %v
  connector: [csv, users.csv]
`, umapiConns, groups, o.limit, o.limits, o.testMode))

	cfg, err := config.Load(filepath.Join(dir, "user-sync-config.yml"), config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := cfg.Options
	targets := map[string]core.Target{}
	for org, u := range cfg.UMAPI {
		c, err := umapi.New(umapi.Options{Name: u.Name, Host: u.Host, Endpoint: u.Endpoint, AuthHost: u.AuthHost,
			AuthEndpoint: u.AuthEndpoint, OrgID: u.OrgID, ClientID: u.ClientID, ClientSecret: u.ClientSecret,
			Timeout: 10 * time.Second, Retries: 4, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		targets[org] = c
	}
	db, err := store.Open(filepath.Join(dir, "usersync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng := &run.Engine{Store: db.RunStore(), Source: csv.New(csv.Config{FilePath: "users.csv", IdentityType: core.FederatedID}),
		Targets: targets, Options: &opts, KeepRuns: 100, Clock: clock, Now: clock.Now, ConfigFile: cfg.File,
		ExitCode: func(o *run.Outcome) int { return exitCodes[o.Kind()] }}
	n := 0
	eng.NewID = func() string {
		n++
		return fmt.Sprintf("%s-%04d", clock.Now().UTC().Format("20060102T150405.000Z"), n)
	}
	return &env{b: live.New(eng, db, nil), eng: eng, db: db, srv: prim, sec: sec, clock: clock, dir: dir, url: primURL, secURL: secURL}
}

// exitCodes are DESIGN.md's exit codes by kind of outcome, as the
// command maps them.
var exitCodes = map[run.Kind]int{run.OK: 0, run.Pending: 0, run.Failed: 3, run.Withheld: 4, run.Interrupted: 130, run.Fatal: 1}
