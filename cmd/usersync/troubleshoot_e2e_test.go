package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/usersync/usersync/connectors/umapi/sim"
)

// The troubleshooting case of docs/troubleshooting.md: two mapping
// mistakes (directory group "Video Team" is "Video" in the directory;
// Adobe group "Acrobat Standard" is not in the org), run end to end
// against the simulator.

// troubleCSV puts Emil on line 4, in the unmapped group "Video".
const troubleCSV = `firstname,lastname,email,country,groups
Ana,Ruiz,ana@example.org,ES,designers
Bo,Berg,bo@example.org,SE,designers
Emil,Ek,emil@example.org,SE,Video
Greg,Gray,greg@example.org,US,"Engineering,Finance"
Ida,Isak,ida@example.org,NO,Engineering
`

const troubleMapping = `    - directory_group: designers
      adobe_groups: [Design Team]
    - directory_group: Video Team
      adobe_groups: [All Apps]
    - directory_group: Engineering
      adobe_groups: [Acrobat Pro]
    - directory_group: Finance
      adobe_groups: [Acrobat Standard]
`

func troubleSeed() *sim.Seed {
	return &sim.Seed{OrgID: "E2E0E2E0E2E0E2E0@AdobeOrg", ClientID: testClientID, ClientSecret: testSecret,
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}},
		Groups: []sim.SeedGroup{{Name: "Design Team", Type: "USER_GROUP"},
			{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud"},
			{Name: "Acrobat Pro", Type: "PRODUCT_PROFILE", ProductName: "Acrobat"}},
		Users: []sim.SeedUser{
			{Email: "emil@example.org", Type: "federatedID", Firstname: "Emil", Lastname: "Ek", Country: "SE", Groups: []string{"All Apps"}},
			{Email: "admin@example.org", Type: "federatedID", Firstname: "Ad", Lastname: "Min", Country: "US", Groups: []string{"_org_admin"}},
		}}
}

func newTroubleFixture(t *testing.T) *fixture {
	return newFixture(t, fixtureOpts{seed: troubleSeed(), csv: troubleCSV, mapping: troubleMapping})
}

// simStats reads /_sim/stats over HTTP, as an operator would.
func simStats(t *testing.T, f *fixture) sim.Stats {
	t.Helper()
	resp, err := http.Get(f.url + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st sim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestTroubleshootExplainUnmappedUser(t *testing.T) {
	f := newTroubleFixture(t)
	for _, users := range [][]string{nil, {"--users", "mapped"}} {
		args := append([]string{"explain", "emil@example.org"}, users...)
		r := f.run(context.Background(), args...)
		if r.code != exitOK {
			t.Fatalf("%v: %v", args, r)
		}
		for _, w := range []string{"users.csv:4", `"Video"`, "not mapped", "All Apps"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%v lacks %q:\n%s", args, w, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "not found") {
			t.Errorf("%v says not found for a user of the CSV:\n%s", args, r.stdout)
		}
	}
	r := f.run(context.Background(), "explain", "nobody@example.org", "--users", "mapped")
	if r.code != exitOK || !strings.Contains(r.stdout, "not found") || !strings.Contains(r.stdout, "users.csv") {
		t.Errorf("explain of a user the CSV lacks should say not found and name the file: %v", r)
	}
}

func TestTroubleshootPlanWarns(t *testing.T) {
	f := newTroubleFixture(t)
	r := f.run(context.Background(), "plan")
	if r.code != exitOK {
		t.Fatalf("plan: %v", r)
	}
	var warnings []string
	for l := range strings.SplitSeq(r.stdout+r.stderr, "\n") {
		if strings.Contains(l, "WARNING") {
			warnings = append(warnings, l)
		}
	}
	for _, w := range []string{"Video Team", "Acrobat Standard", "users.csv:4"} {
		if !slices.ContainsFunc(warnings, func(l string) bool { return strings.Contains(l, w) }) {
			t.Errorf("no WARNING line names %q:\n%s", w, strings.Join(warnings, "\n"))
		}
	}
	// The same findings reach --json as warning events.
	r = f.run(context.Background(), "plan", "--json")
	if !strings.Contains(r.stdout, `"type":"warning"`) || !strings.Contains(r.stdout, "Acrobat Standard") {
		t.Errorf("plan --json has no warning event naming Acrobat Standard:\n%s", r.stdout)
	}
	if st := simStats(t, f); st.Requests.Action != 0 {
		t.Errorf("plan sent %d action requests", st.Requests.Action)
	}
}

func TestTroubleshootSyncSendsNothingRefused(t *testing.T) {
	f := newTroubleFixture(t)
	r := f.run(context.Background(), "sync", "--users", "mapped", "--process-groups")
	if r.code != exitFailed {
		t.Errorf("sync: %v; want exit 3", r)
	}
	if !strings.Contains(r.stdout+r.stderr, "Acrobat Standard") {
		t.Errorf("sync output does not name Acrobat Standard:\n%v", r)
	}
	st := simStats(t, f)
	if st.Errors != 0 {
		t.Errorf("the org refused %d steps; want 0 (stats %+v)", st.Errors, st)
	}
	org := emails(f.srv.State())
	if !slices.Contains(org["greg@example.org"], "acrobat pro") {
		t.Errorf("greg has %v; want acrobat pro", org["greg@example.org"])
	}
	if !slices.Contains(org["ida@example.org"], "acrobat pro") {
		t.Errorf("ida has %v; want acrobat pro", org["ida@example.org"])
	}
}

func TestTroubleshootUnknownConfigKey(t *testing.T) {
	f := newTroubleFixture(t)
	b, err := os.ReadFile(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), "max_adobe_only_users:", "max_adobe_only_user:", 1)
	if err := os.WriteFile(f.cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.run(context.Background(), "plan")
	if r.code != exitFatal {
		t.Errorf("plan with max_adobe_only_user: %v; want exit 1", r)
	}
	out := r.stdout + r.stderr
	for _, w := range []string{"unknown", "max_adobe_only_user", `did you mean "max_adobe_only_users"`} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestTroubleshootPlanWithMappingFile(t *testing.T) {
	f := newTroubleFixture(t)
	mapping := filepath.Join(f.dir, "fixed-mapping.yml")
	fixed := strings.NewReplacer("Video Team", "Video", "Acrobat Standard", "Acrobat Pro").Replace("groups:\n" + troubleMapping)
	if err := os.WriteFile(mapping, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(f.cfg)
	r := f.run(context.Background(), "plan", "--users", "mapped", "--mapping", mapping)
	if r.code != exitOK {
		t.Fatalf("plan --mapping: %v", r)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "WARNING") && !strings.Contains(l, "for this plan only") {
			t.Errorf("the fixed mapping still warns: %s", l)
		}
	}
	for _, w := range []string{"2 fewer", "- remove emil@example.org from primary org"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("plan --mapping output lacks %q:\n%s", w, r.stdout)
		}
	}
	if after, _ := os.ReadFile(f.cfg); string(after) != string(before) {
		t.Error("plan --mapping changed the configuration file")
	}
	os.WriteFile(mapping, []byte("group:\n  - directory_group: Video\n"), 0o600)
	if r := f.run(context.Background(), "plan", "--mapping", mapping); r.code != exitFatal || !strings.Contains(r.stderr, `did you mean "groups"`) {
		t.Errorf("plan --mapping with a misspelt key: %v; want exit 1 suggesting groups", r)
	}
}
