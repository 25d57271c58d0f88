package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/connectors/entra"
	"github.com/usersync/usersync/connectors/entra/fakegraph"
	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core/config"
)

// The Entra end-to-end tests run the real commands with --connector entra
// against a Graph stand-in and the UMAPI simulator, both over HTTP.

const entraTenant, entraClient, entraSecret = "7f1c0d2e-0000-4000-8000-00000000e2e0", "e2e-entra-app", "entra~Secret.value-42"

// entraTenantData: the mapped group Design holds ana, the disabled dan and
// the nested group Contractors; Contractors holds bo, zoë, wei (no
// usageLocation), nine more, and, closing a cycle, Design. Marketing is not
// mapped.
func entraTenantData() *fakegraph.Server {
	u := func(id, mail, given, sur, country string, enabled bool) fakegraph.User {
		p := map[string]any{"mail": mail, "userPrincipalName": mail, "givenName": given, "surname": sur, "accountEnabled": enabled}
		if country != "" {
			p["usageLocation"] = country
		}
		return fakegraph.User{ID: id, Props: p}
	}
	// Enough members for five pages of three.
	var extra []fakegraph.User
	contractors := []string{"6a1e0002-bo", "6a1e0004-zoe", "6a1e0005-wei", "9f0e0001-design"}
	for i := range entraExtra {
		id := fmt.Sprintf("6a1e01%02d-p", i)
		extra = append(extra, u(id, fmt.Sprintf("p%d@example.org", i), "Pía", fmt.Sprintf("Núñez %d", i), "mx", true))
		contractors = append(contractors, id)
	}
	g := &fakegraph.Server{
		TenantID: entraTenant, ClientID: entraClient, ClientSecret: entraSecret,
		PageSize: 3, ThrottleEvery: 5, RetryAfter: 1,
		Users: []fakegraph.User{
			u("6a1e0001-ana", "ana@example.org", "Ana", "Ruiz", "ES", true),
			u("6a1e0002-bo", "bo@example.org", "Bo", "Lindqvist", "SE", true),
			u("6a1e0003-dan", "dan@example.org", "Dan", "Disabled", "US", false),
			u("6a1e0004-zoe", "zoe@example.org", "Zoë", "Ørsted", "DK", true),
			u("6a1e0005-wei", "wei@example.org", "伟", "李", "", true),
			u("6a1e0006-max", "max@example.org", "Max", "Market", "DE", true),
		},
		Groups: []fakegraph.Group{
			{ID: "9f0e0001-design", DisplayName: "Design", Members: []string{"6a1e0001-ana", "6a1e0003-dan", "9f0e0002-contr"}},
			{ID: "9f0e0002-contr", DisplayName: "Contractors", Members: contractors},
			{ID: "9f0e0003-mkt", DisplayName: "Marketing", Members: []string{"6a1e0006-max"}},
		},
	}
	g.Users = append(g.Users, extra...)
	return g
}

// entraExtra is the number of plain members added to Contractors.
const entraExtra = 9

// entraSeed: ana is in Adobe already; cy is Adobe-only (removed); the
// admin is excluded.
func entraSeed() *sim.Seed {
	return &sim.Seed{OrgID: "E2E0E2E0E2E0E2E1@AdobeOrg", ClientID: testClientID, ClientSecret: testSecret,
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}},
		Groups: []sim.SeedGroup{{Name: "Design Team", Type: "USER_GROUP"},
			{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud"}},
		Users: []sim.SeedUser{
			{Email: "ana@example.org", Type: "federatedID", Firstname: "Ana", Lastname: "Ruiz", Country: "ES", Groups: []string{"Design Team", "All Apps"}},
			{Email: "cy@example.org", Type: "federatedID", Firstname: "Cy", Lastname: "Gone", Country: "US", Groups: []string{"All Apps"}},
			{Email: "admin@example.org", Type: "federatedID", Firstname: "Ad", Lastname: "Min", Country: "US", Groups: []string{"_org_admin"}},
		}}
}

// newEntraFixture writes a configuration that reads the directory from g
// with --connector entra; secret is the client_secret it gives.
func newEntraFixture(t *testing.T, g *fakegraph.Server, secret, mapping string) *fixture {
	t.Helper()
	graphURL := g.Start(t)
	seed := entraSeed()
	srv, err := sim.New(sim.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if mapping == "" {
		mapping = "    - directory_group: Design\n      adobe_groups: [Design Team, All Apps]\n"
	}
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("connector-umapi.yml", fmt.Sprintf("server:\n  host: %s\n  auth_host: %s\nenterprise:\n  org_id: %s\n  client_id: %s\n  client_secret: %s\n",
		url, url, seed.OrgID, testClientID, testSecret))
	write("connector-entra.yml", fmt.Sprintf("tenant_id: %s\nclient_id: %s\nclient_secret: %q\nauthority_host: %s\ngraph_host: %s\n",
		entraTenant, entraClient, secret, graphURL, graphURL))
	write("user-sync-config.yml", fmt.Sprintf(`adobe_users:
  connectors:
    umapi: connector-umapi.yml
  exclude_adobe_groups: [_org_admin]
directory_users:
  user_identity_type: federatedID
  default_country_code: US
  connectors:
    entra: connector-entra.yml
  groups:
%slimits:
  max_adobe_only_users: 10
logging:
  log_to_file: False
`, mapping))
	return &fixture{t: t, dir: dir, srv: srv, url: url, seed: seed, rate: "1000/1s", cfg: filepath.Join(dir, "user-sync-config.yml")}
}

var entraSyncArgs = []string{"sync", "--connector", "entra", "--users", "mapped", "--process-groups", "--adobe-only-user-action", "remove"}

func TestEntraSyncNestedThrottledPaged(t *testing.T) {
	g := entraTenantData()
	f := newEntraFixture(t, g, entraSecret, "")
	r := f.run(context.Background(), entraSyncArgs...)
	if r.code != exitOK {
		t.Fatalf("sync --connector entra: %v", r)
	}
	type person struct{ First, Last, Country string }
	got := map[string]person{}
	for _, u := range f.srv.State().Users {
		got[u.Email] = person{u.Firstname, u.Lastname, u.Country}
	}
	want := map[string]person{
		"ana@example.org":   {"Ana", "Ruiz", "ES"},
		"bo@example.org":    {"Bo", "Lindqvist", "SE"},
		"zoe@example.org":   {"Zoë", "Ørsted", "DK"},
		"wei@example.org":   {"伟", "李", "US"}, // no usageLocation: default_country_code
		"admin@example.org": {"Ad", "Min", "US"},
	}
	for i := range entraExtra {
		want[fmt.Sprintf("p%d@example.org", i)] = person{"Pía", fmt.Sprintf("Núñez %d", i), "MX"}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("org after sync (-want +got):\n%s", d)
	}
	groups := emails(f.srv.State())
	for e := range want {
		if e == "admin@example.org" {
			continue
		}
		if d := cmp.Diff([]string{"all apps", "design team"}, groups[e]); d != "" {
			t.Errorf("%s groups (-want +got):\n%s", e, d)
		}
	}
	for _, w := range []string{"Number of directory users read: 13", "Number of new Adobe users added: 12", "Number of Adobe-only users removed: 1"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("log lacks %q:\n%v", w, r)
		}
	}
	st := g.Stats()
	if st.Throttled == 0 || st.TokenRequests != 1 {
		t.Errorf("Graph stand-in stats %+v; want some 429s and one token", st)
	}
	if strings.Contains(r.stdout+r.stderr, entraSecret) {
		t.Error("the Entra client secret appears in the output")
	}
	if raw, _ := os.ReadFile(filepath.Join(f.dir, "usersync.db")); strings.Contains(string(raw), entraSecret) {
		t.Error("the Entra client secret is in the database")
	}

	// explain names the user's object id.
	r = f.run(context.Background(), "explain", "zoe@example.org", "--connector", "entra", "--users", "mapped")
	if !strings.Contains(r.stdout, "entra user 6a1e0004-zoe") {
		t.Errorf("explain does not name the object id:\n%v", r)
	}
}

// TestEntraExplainUnreadUsers: with --users mapped the disabled dan (in
// the mapped Design) and max (only in Marketing) are never read; explain
// looks them up and says why, never "not found".
func TestEntraExplainUnreadUsers(t *testing.T) {
	f := newEntraFixture(t, entraTenantData(), entraSecret, "")
	r := f.run(context.Background(), "explain", "dan@example.org", "--connector", "entra", "--users", "mapped")
	if r.code != exitOK || strings.Contains(r.stdout, "not found") || !strings.Contains(r.stdout, "entra user 6a1e0003-dan") ||
		!strings.Contains(r.stdout, "disabled") || !strings.Contains(r.stdout, "never selected") {
		t.Errorf("explain of a disabled member: %v; want its object id and that it is disabled, never selected, never not found", r)
	}
	r = f.run(context.Background(), "explain", "max@example.org", "--connector", "entra", "--users", "mapped")
	if r.code != exitOK || strings.Contains(r.stdout, "not found") || !strings.Contains(r.stdout, "entra user 6a1e0006-max") ||
		!strings.Contains(r.stdout, `"Marketing"`) {
		t.Errorf("explain of a user outside the mapped groups: %v; want its object id and its group Marketing", r)
	}
	r = f.run(context.Background(), "explain", "nobody@example.org", "--connector", "entra", "--users", "mapped")
	if r.code != exitOK || !strings.Contains(r.stdout, "not found") || !strings.Contains(r.stdout, entraTenant) {
		t.Errorf("explain of a user Entra does not have: %v; want not found, naming the tenant searched", r)
	}
}

func TestEntraFailedPageRemovesNothing(t *testing.T) {
	g := entraTenantData()
	g.FailMembersPage = map[string]int{"Design": 2}
	f := newEntraFixture(t, g, entraSecret, "")
	r := f.run(context.Background(), entraSyncArgs...)
	if r.code != exitFatal {
		t.Fatalf("sync with a failing member page: %v; want exit 1", r)
	}
	if !strings.Contains(r.stderr+r.stdout, `"Design" page 2`) || !strings.Contains(r.stderr+r.stdout, "503") {
		t.Errorf("the error does not name the failed page:\n%v", r)
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("%d action requests sent after a failed directory read", st.Requests.Action)
	}
	if _, ok := emails(f.srv.State())["cy@example.org"]; !ok {
		t.Error("the Adobe-only cy was removed after a failed directory read")
	}
}

func TestEntraWrongSecretRefused(t *testing.T) {
	g := entraTenantData()
	const wrong = "not-the-secret-0815"
	f := newEntraFixture(t, g, wrong, "")
	r := f.run(context.Background(), entraSyncArgs...)
	if r.code != exitFatal {
		t.Fatalf("sync with a wrong client secret: %v; want exit 1", r)
	}
	out := r.stdout + r.stderr
	if !strings.Contains(out, "refused the client credentials") || !strings.Contains(out, "AADSTS7000215") {
		t.Errorf("the message does not name the refusal:\n%v", r)
	}
	if strings.Contains(out, wrong) {
		t.Error("the client secret appears in the output")
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("%d action requests sent after a token refusal", st.Requests.Action)
	}
}

func TestEntraCheckReportsMissingGroups(t *testing.T) {
	g := entraTenantData()
	f := newEntraFixture(t, g, entraSecret, "    - directory_group: Design\n      adobe_groups: [Design Team]\n"+
		"    - directory_group: Desgn Team\n      adobe_groups: [All Apps]\n")
	r := f.run(context.Background(), "check", "--connector", "entra", "--users", "mapped")
	if r.code != exitFatal {
		t.Fatalf("check: %v; want exit 1", r)
	}
	if !strings.Contains(r.stdout, `FAIL  directory group "Desgn Team" is mapped but not found in the directory`) {
		t.Errorf("check does not report the missing group:\n%v", r)
	}
}

// TestEntraInitExample checks that init writes a connector-entra.yml that
// parses, with its secret from the keyring chain.
func TestEntraInitExample(t *testing.T) {
	dir := t.TempDir()
	if r := runEnv(context.Background(), "", false, "init", "--dir", dir); r.code != exitOK || !strings.Contains(r.stdout, "connector-entra.yml") {
		t.Fatalf("init: %v", r)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "connector-entra.yml"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := config.Parse("connector-entra.yml", raw, "")
	if err != nil {
		t.Fatal(err)
	}
	sec := fakeSecrets{"entra_client_secret": "from-keyring"}
	c, err := entra.ParseConfig(context.Background(), n, sec)
	if err != nil {
		t.Fatalf("connector-entra.yml from init: %v", err)
	}
	if c.ClientSecret.Reveal() != "from-keyring" || c.AllUsersFilter != "accountEnabled eq true" {
		t.Errorf("parsed %+v", c)
	}
}
