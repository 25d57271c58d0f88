package main

import (
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/connectors/google"
	"github.com/usersync/usersync/connectors/google/googlefake"
	"github.com/usersync/usersync/core/config"
)

// The Google end-to-end tests run the real commands against the UMAPI
// simulator and a Directory API stand-in (googlefake), both over HTTP on
// loopback.

const googleClientEmail = "usersync@e2e.iam.gserviceaccount.com"

var (
	googleKeysOnce             sync.Once
	googleTrusted, googleOther *rsa.PrivateKey
)

// googleDirectory serves 3 entries a page and answers every 6th call with
// 429 and no Retry-After. design@ nests contractors@, which nests design@
// back (a cycle) and interns@; sus is suspended and arc archived.
func googleDirectory() *googlefake.Server {
	return &googlefake.Server{
		PageSize:      3,
		ThrottleEvery: 6,
		Users: []googlefake.User{
			{ID: "1001", Email: "ana@example.org", GivenName: "Ana", Family: "Ruiz", CountryCode: "ES"},
			{ID: "1002", Email: "bo@example.org", GivenName: "Bo", Family: "Berg", CountryCode: "SE"},
			{ID: "1003", Email: "dee@example.org", GivenName: "Dée", Family: "Díaz", CountryCode: "mx"},
			{ID: "1004", Email: "eve@example.org", GivenName: "Ève", Family: "Ørsted", CountryCode: "DK"},
			{ID: "1005", Email: "sus@example.org", GivenName: "Sus", Family: "Pended", CountryCode: "US", Suspended: true},
			{ID: "1006", Email: "arc@example.org", GivenName: "Arc", Family: "Hived", CountryCode: "US", Archived: true},
			{ID: "1007", Email: "loner@example.org", GivenName: "Lo", Family: "Ner", CountryCode: "NO"},
		},
		Groups: []googlefake.Group{
			{ID: "g1", Email: "design@example.org", Name: "Design", Members: []googlefake.Member{
				{Type: "USER", ID: "1001"}, {Type: "USER", ID: "1005"}, {Type: "GROUP", ID: "g2"}, {Type: "USER", ID: "1006"}}},
			{ID: "g2", Email: "contractors@example.org", Name: "Contractors", Members: []googlefake.Member{
				{Type: "USER", ID: "1002"}, {Type: "GROUP", ID: "g1"}, {Type: "USER", ID: "1003"}, {Type: "GROUP", ID: "g3"}}},
			{ID: "g3", Email: "interns@example.org", Name: "Interns", Members: []googlefake.Member{
				{Type: "USER", ID: "1004"}, {Type: "USER", ID: "1001"}}},
		},
	}
}

type googleFixture struct {
	*fixture
	google *googlefake.Server
}

// newGoogleFixture starts the simulator with smallSeed (ana and bo in
// Adobe, cy Adobe-only, an excluded admin) and the Google stand-in, and
// writes a configuration that reads Google. signer is the key in the key
// file (the trusted one when nil); mapping replaces the groups list.
func newGoogleFixture(t *testing.T, g *googlefake.Server, signer *rsa.PrivateKey, mapping string) *googleFixture {
	t.Helper()
	googleKeysOnce.Do(func() { googleTrusted, googleOther = googlefake.NewKey(), googlefake.NewKey() })
	// Back-off without long sleeps.
	old := google.RetryBaseDelay
	google.RetryBaseDelay = time.Millisecond
	t.Cleanup(func() { google.RetryBaseDelay = old })
	if signer == nil {
		signer = googleTrusted
	}
	g.Trusted, g.ClientEmail = &googleTrusted.PublicKey, googleClientEmail
	hs := g.Start()
	t.Cleanup(hs.Close)
	if mapping == "" {
		mapping = "    - directory_group: design@example.org\n      adobe_groups: [Design Team, All Apps]\n"
	}
	f := newFixture(t, fixtureOpts{mapping: mapping})
	write := func(name, body string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("google-key.json", string(googlefake.KeyFile(signer, googleClientEmail, hs.URL+"/token")), 0o600)
	write("connector-google.yml", fmt.Sprintf("service_account_key_file: google-key.json\nsubject: admin@example.org\nadmin_api_host: %s\n", hs.URL), 0o600)
	main, err := os.ReadFile(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	write("user-sync-config.yml", strings.Replace(string(main), "    csv: connector-csv.yml\n", "    csv: connector-csv.yml\n    google: connector-google.yml\n", 1), 0o600)
	return &googleFixture{fixture: f, google: g}
}

var googleSyncArgs = []string{"sync", "--connector", "google", "--users", "mapped", "--process-groups", "--adobe-only-user-action", "remove"}

func TestGoogleSyncCreatesTransitiveMembers(t *testing.T) {
	f := newGoogleFixture(t, googleDirectory(), nil, "")
	r := f.run(context.Background(), googleSyncArgs...)
	if r.code != exitOK {
		t.Fatalf("sync: %v", r)
	}
	state := f.srv.State()
	got := emails(state)
	want := map[string][]string{
		"ana@example.org":   {"all apps", "design team"},
		"bo@example.org":    {"all apps", "design team"},
		"dee@example.org":   {"all apps", "design team"},
		"eve@example.org":   {"all apps", "design team"},
		"admin@example.org": {"_org_admin"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("org after sync (-want +got):\n%s", d)
	}
	type person struct{ First, Last, Country string }
	names := map[string]person{}
	for _, u := range state.Users {
		names[u.Email] = person{u.Firstname, u.Lastname, u.Country}
	}
	for email, p := range map[string]person{
		"dee@example.org": {"Dée", "Díaz", "MX"},
		"eve@example.org": {"Ève", "Ørsted", "DK"},
		"bo@example.org":  {"Bo", "Berg", "SE"},
	} {
		if names[email] != p {
			t.Errorf("%s = %+v; want %+v", email, names[email], p)
		}
	}
	if calls, throttled := f.google.Stats(); throttled == 0 {
		t.Errorf("the stand-in throttled none of %d calls; want some 429s", calls)
	}
	for _, want := range []string{"Number of new Adobe users added: 2", "Number of Adobe-only users removed: 1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("log lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r.stdout+r.stderr, "PRIVATE KEY") || strings.Contains(r.stdout+r.stderr, "ya29.") {
		t.Error("the key or the access token appears in the output")
	}
	raw, _ := os.ReadFile(filepath.Join(f.dir, "usersync.db"))
	if strings.Contains(string(raw), "PRIVATE KEY") || strings.Contains(string(raw), "ya29.") {
		t.Error("the key or the access token is in the database")
	}
}

func TestGoogleFailingPageExits1RemovingNothing(t *testing.T) {
	g := googleDirectory()
	g.FailGroup, g.FailPage = "contractors@example.org", 2
	f := newGoogleFixture(t, g, nil, "")
	r := f.run(context.Background(), googleSyncArgs...)
	if r.code != exitFatal || !strings.Contains(r.stdout+r.stderr, "contractors@example.org") {
		t.Fatalf("sync with a failing page: %v; want exit 1 naming the group", r)
	}
	if _, ok := emails(f.srv.State())["cy@example.org"]; !ok {
		t.Error("the Adobe-only user was removed after a failed read")
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("%d action requests sent after a failed read", st.Requests.Action)
	}
}

func TestGoogleUntrustedKeyExits1(t *testing.T) {
	googleKeysOnce.Do(func() { googleTrusted, googleOther = googlefake.NewKey(), googlefake.NewKey() })
	f := newGoogleFixture(t, googleDirectory(), googleOther, "")
	r := f.run(context.Background(), googleSyncArgs...)
	out := r.stdout + r.stderr
	if r.code != exitFatal || !strings.Contains(out, "Google refused") || !strings.Contains(out, "Invalid JWT Signature") {
		t.Fatalf("sync with an untrusted key: %v; want exit 1 naming the refusal", r)
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Error("the private key appears in the output")
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("%d action requests sent with the directory unreadable", st.Requests.Action)
	}
}

func TestGoogleCheckAndExplain(t *testing.T) {
	mapping := "    - directory_group: design@example.org\n      adobe_groups: [Design Team, All Apps]\n" +
		"    - directory_group: nosuch@example.org\n      adobe_groups: [All Apps]\n"
	f := newGoogleFixture(t, googleDirectory(), nil, mapping)
	r := f.run(context.Background(), "check", "--connector", "google", "--users", "mapped")
	if r.code == exitOK || !strings.Contains(r.stdout, `directory group "nosuch@example.org" is mapped but not found`) ||
		!strings.Contains(r.stdout, "directory (google): 4 users read") {
		t.Errorf("check: %v; want the google read and the missing group reported", r)
	}
	r = f.run(context.Background(), "explain", "eve@example.org", "--connector", "google", "--users", "mapped")
	if r.code != exitOK || !strings.Contains(r.stdout, "google user 1004") {
		t.Errorf("explain: %v; want the Google user id", r)
	}
}

// TestGoogleExplainUnreadUsers: suspended, archived and ungrouped users are
// never selected; explain looks them up and says why, never "not found".
func TestGoogleExplainUnreadUsers(t *testing.T) {
	f := newGoogleFixture(t, googleDirectory(), nil, "")
	for _, tt := range []struct{ email, id, why string }{
		{"sus@example.org", "google user 1005", "suspended"},
		{"arc@example.org", "google user 1006", "archived"},
	} {
		r := f.run(context.Background(), "explain", tt.email, "--connector", "google", "--users", "mapped")
		if r.code != exitOK || strings.Contains(r.stdout, "not found") || !strings.Contains(r.stdout, tt.id) ||
			!strings.Contains(r.stdout, tt.why) || !strings.Contains(r.stdout, "never selected") {
			t.Errorf("explain %s: %v; want %s, %s and never selected, never not found", tt.email, r, tt.id, tt.why)
		}
	}
	r := f.run(context.Background(), "explain", "loner@example.org", "--connector", "google", "--users", "mapped")
	if r.code != exitOK || strings.Contains(r.stdout, "not found") || !strings.Contains(r.stdout, "google user 1007") ||
		!strings.Contains(r.stdout, "not selected") {
		t.Errorf("explain of a user in no mapped group: %v; want its id and not selected", r)
	}
	r = f.run(context.Background(), "explain", "nobody@example.org", "--connector", "google", "--users", "mapped")
	if r.code != exitOK || !strings.Contains(r.stdout, "not found") || !strings.Contains(r.stdout, "my_customer") {
		t.Errorf("explain of a user Google does not have: %v; want not found, naming the customer searched", r)
	}
}

func TestGoogleInitExample(t *testing.T) {
	dir := t.TempDir()
	r := runEnv(context.Background(), "", false, "init", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("init: %v", r)
	}
	b, err := os.ReadFile(filepath.Join(dir, "connector-google.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"service_account_key_file:", "subject:", "admin.directory.user.readonly", "admin.directory.group.readonly", "# customer: my_customer"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("connector-google.yml lacks %q", want)
		}
	}
	main, _ := os.ReadFile(filepath.Join(dir, "user-sync-config.yml"))
	if !strings.Contains(string(main), "# google: connector-google.yml") {
		t.Error("user-sync-config.yml does not mention connector-google.yml")
	}
	// With a key file in place the example parses as written.
	googleKeysOnce.Do(func() { googleTrusted, googleOther = googlefake.NewKey(), googlefake.NewKey() })
	key := googlefake.KeyFile(googleTrusted, googleClientEmail, "https://oauth2.googleapis.com/token")
	if err := os.WriteFile(filepath.Join(dir, "service-account-key.json"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := config.Parse(filepath.Join(dir, "connector-google.yml"), b, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := google.ParseConfig(context.Background(), n)
	if err != nil {
		t.Fatalf("connector-google.yml from init: %v", err)
	}
	if c.Customer != "my_customer" || c.Subject != "admin@example.com" || c.CountryCodeFormat.String() != google.DefaultCountryFormat {
		t.Errorf("connector-google.yml from init parses as %+v", c)
	}
}
