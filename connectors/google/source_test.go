package google

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/connectors/google/googlefake"
	"github.com/usersync/usersync/core"
)

// directory is the must-show data set: a mapped group that nests another
// group, which nests the first back (a cycle); a suspended and an archived
// member; a user in no group; and pages of 3 with every 6th call throttled.
func directory() *googlefake.Server {
	return &googlefake.Server{
		PageSize:      3,
		ThrottleEvery: 6,
		Users: []googlefake.User{
			{ID: "101", Email: "ana@example.org", GivenName: "Ana", Family: "Ruiz", CountryCode: "es"},
			{ID: "102", Email: "bo@example.org", GivenName: "Bo", Family: "Berg", CountryCode: "SE"},
			{ID: "103", Email: "dee@example.org", GivenName: "Dée", Family: "Díaz", CountryCode: "MX"},
			{ID: "104", Email: "eve@example.org", GivenName: "Eve", Family: "Ek", CountryCode: "SE"},
			{ID: "105", Email: "sus@example.org", GivenName: "Sus", Family: "Pended", CountryCode: "US", Suspended: true},
			{ID: "106", Email: "arc@example.org", GivenName: "Arc", Family: "Hived", CountryCode: "US", Archived: true},
			{ID: "107", Email: "fay@example.org", GivenName: "Fay", Family: "Nocountry"},
			{ID: "108", Email: "loner@example.org", GivenName: "Lo", Family: "Ner", CountryCode: "NO"},
		},
		Groups: []googlefake.Group{
			{ID: "g1", Email: "design@example.org", Name: "Design", Members: []googlefake.Member{
				{Type: "USER", ID: "101"}, {Type: "USER", ID: "102"}, {Type: "USER", ID: "105"},
				{Type: "GROUP", ID: "g2"}, {Type: "USER", ID: "106"}}},
			{ID: "g2", Email: "design-contractors@example.org", Name: "Design Contractors", Members: []googlefake.Member{
				{Type: "USER", ID: "103"}, {Type: "GROUP", ID: "g1"}, {Type: "USER", ID: "107"}, {Type: "GROUP", ID: "g3"}}},
			{ID: "g3", Email: "interns@example.org", Name: "Interns", Members: []googlefake.Member{
				{Type: "USER", ID: "104"}, {Type: "USER", ID: "101"}}},
			{ID: "g4", Email: "twin1@example.org", Name: "Twins"},
			{ID: "g5", Email: "twin2@example.org", Name: "Twins"},
		},
	}
}

type row struct{ Email, First, Last, Country, Groups, Origin string }

func rows(us []core.DirectoryUser) []row {
	var out []row
	for _, u := range us {
		g := slices.Clone(u.Groups)
		slices.Sort(g)
		out = append(out, row{u.Email, u.Firstname, u.Lastname, u.Country, strings.Join(g, ","), u.Origin})
	}
	slices.SortFunc(out, func(a, b row) int { return strings.Compare(a.Email, b.Email) })
	return out
}

func TestNestedGroupsWithCycleThrottlingAndPaging(t *testing.T) {
	f := directory()
	base, key := startFake(t, f, nil)
	src := newSource(t, base, key, "")
	rep := &connectortest.Recorder{}
	res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"design@example.org", "Interns", "nobody@example.org", "No Such Group"}}, rep)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	want := []row{
		{"ana@example.org", "Ana", "Ruiz", "ES", "Interns,design@example.org", "google user 101"},
		{"bo@example.org", "Bo", "Berg", "SE", "design@example.org", "google user 102"},
		{"dee@example.org", "Dée", "Díaz", "MX", "design@example.org", "google user 103"},
		{"eve@example.org", "Eve", "Ek", "SE", "Interns,design@example.org", "google user 104"},
		{"fay@example.org", "Fay", "Nocountry", "", "design@example.org", "google user 107"},
	}
	if diff := cmp.Diff(want, rows(res.Users)); diff != "" {
		t.Errorf("Users differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"nobody@example.org", "No Such Group"}, res.MissingGroups); diff != "" {
		t.Errorf("MissingGroups differ (-want +got):\n%s", diff)
	}
	calls, throttled := f.Stats()
	if throttled == 0 || len(rep.Waits()) != throttled {
		t.Errorf("fake throttled %d of %d calls; reporter saw %d waits; want as many, and some", throttled, calls, len(rep.Waits()))
	}
	for _, w := range rep.Waits() {
		if !strings.HasPrefix(w.Cause, "google 429") || w.Wait <= 0 {
			t.Errorf("throttle wait %+v; want a google 429 back-off", w)
		}
	}
	last := rep.Reports()[len(rep.Reports())-1]
	if !last.Done || last.Phase != core.PhaseDirectory || last.Users != 5 || last.Pages == 0 {
		t.Errorf("last progress = %+v; want done, 5 users, pages counted", last)
	}
	tokens := 0
	for _, p := range f.Paths() {
		if p == "/token" {
			tokens++
		}
	}
	// One token, plus one for each time the token call itself was throttled.
	if tokens > 2 {
		t.Errorf("%d token requests; want the token cached", tokens)
	}
}

func TestAllUsersSkipsSuspendedAndArchived(t *testing.T) {
	f := directory()
	f.ThrottleEvery = 0
	base, key := startFake(t, f, nil)
	res, err := newSource(t, base, key, "").Users(context.Background(), core.SourceQuery{AllUsers: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows(res.Users) {
		got = append(got, r.Email)
	}
	want := []string{"ana@example.org", "bo@example.org", "dee@example.org", "eve@example.org", "fay@example.org", "loner@example.org"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("all users differ (-want +got):\n%s", diff)
	}
}

func TestAmbiguousGroupNameIsAnError(t *testing.T) {
	f := directory()
	base, key := startFake(t, f, nil)
	_, err := newSource(t, base, key, "").Users(context.Background(), core.SourceQuery{Groups: []string{"Twins"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "twin1@example.org") || core.Code(err) != core.CodeInvalidInput {
		t.Errorf("Users(Twins) error = %v; want an invalid-input error naming both groups' emails", err)
	}
}

func TestFailingPageFailsClosed(t *testing.T) {
	f := directory()
	f.FailGroup, f.FailPage = "design-contractors@example.org", 2
	base, key := startFake(t, f, nil)
	rep := &connectortest.Recorder{}
	res, err := newSource(t, base, key, "").Users(context.Background(), core.SourceQuery{Groups: []string{"design@example.org"}}, rep)
	if err == nil {
		t.Fatalf("Users = %d users, no error; want the failed page's error", len(res.Users))
	}
	if len(res.Users) != 0 || core.Code(err) != core.CodeUnavailable {
		t.Errorf("Users = %d users, %v (code %v); want none and an unavailable error", len(res.Users), err, core.Code(err))
	}
	for _, s := range []string{"design-contractors@example.org", "page 2", "503", "gave up after 6 attempts"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestUntrustedKeyIsRefused(t *testing.T) {
	_, untrusted := keys()
	f := directory()
	base, key := startFake(t, f, untrusted)
	res, err := newSource(t, base, key, "").Users(context.Background(), core.SourceQuery{AllUsers: true}, nil)
	if err == nil || len(res.Users) != 0 {
		t.Fatalf("Users = %d users, %v; want a refusal", len(res.Users), err)
	}
	if core.Code(err) != core.CodeUnauthenticated || !strings.Contains(err.Error(), "Google refused") || !strings.Contains(err.Error(), "Invalid JWT Signature") {
		t.Errorf("error = %v (code %v); want unauthenticated, naming the refusal", err, core.Code(err))
	}
	b, _ := os.ReadFile(key)
	for _, line := range strings.Split(string(b), `\n`) {
		if len(line) > 40 && strings.Contains(err.Error(), line) {
			t.Errorf("the error contains part of the private key")
		}
	}
}

func TestKeyFileReadableByOthersIsRefused(t *testing.T) {
	_, key := startFake(t, directory(), nil)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := parseYAML(t, "service_account_key_file: "+key+"\nsubject: admin@example.org\n")
	if err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("ParseConfig with a 0644 key = %v; want a refusal", err)
	}
}

func TestConfig(t *testing.T) {
	_, key := startFake(t, directory(), nil)
	dir := filepath.Dir(key)
	for _, tc := range []struct {
		name, yaml, wantErr string
		check               func(Config) string
	}{
		{name: "defaults", yaml: "service_account_key_file: key.json\nsubject: admin@example.org\n", check: func(c Config) string {
			if c.Customer != "my_customer" || c.APIHost != DefaultAPIHost || c.KeyFile != key ||
				c.EmailFormat.String() != "{primaryEmail}" || c.CountryCodeFormat.String() != DefaultCountryFormat || c.Key.ClientEmail != testClientEmail {
				return "defaults not filled in"
			}
			return ""
		}},
		{name: "domain", yaml: "service_account_key_file: key.json\nsubject: admin@example.org\ndomain: example.org\n", check: func(c Config) string {
			if c.Domain != "example.org" || c.Customer != "" {
				return "domain not kept"
			}
			return ""
		}},
		{name: "both", yaml: "service_account_key_file: key.json\nsubject: a@example.org\ndomain: example.org\ncustomer: C0123\n", wantErr: "either customer or domain"},
		{name: "no subject", yaml: "service_account_key_file: key.json\n", wantErr: "subject"},
		{name: "unknown key", yaml: "service_account_key_file: key.json\nsubject: a@example.org\nclient_secret: x\n", wantErr: "client_secret"},
		{name: "http host", yaml: "service_account_key_file: key.json\nsubject: a@example.org\nadmin_api_host: http://admin.example.org\n", wantErr: "https"},
		{name: "bad format", yaml: "service_account_key_file: key.json\nsubject: a@example.org\nuser_email_format: '{primaryEmail'\n", wantErr: "closing"},
		{name: "missing key file", yaml: "service_account_key_file: nope.json\nsubject: a@example.org\n", wantErr: "nope.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := mustParse(t, filepath.Join(dir, "connector-google.yml"), tc.yaml)
			c, err := ParseConfig(context.Background(), n)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParseConfig = %v; want an error mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.check(c); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	_, key := startFake(t, directory(), nil)
	k, err := LoadKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{k.String(), k.GoString(), func() string { b, _ := k.MarshalText(); return string(b) }()} {
		if strings.Contains(s, "PRIVATE") || strings.Contains(s, "BEGIN") {
			t.Errorf("key prints as %q", s)
		}
	}
	if _, err := ParseKey([]byte(`{"type":"service_account","client_email":"x@y","private_key":"-----BEGIN PRIVATE KEY-----\nsecretstuff\n-----END PRIVATE KEY-----\n"}`)); err == nil || strings.Contains(err.Error(), "secretstuff") {
		t.Errorf("ParseKey of a broken key = %v; want an error without the key", err)
	}
}

func TestFormatPaths(t *testing.T) {
	user := map[string]any{
		"primaryEmail": "ana@example.org",
		"name":         map[string]any{"givenName": "Ana"},
		"addresses":    []any{map[string]any{"type": "home", "countryCode": "FR"}, map[string]any{"type": "work", "countryCode": "ES", "primary": true}},
		"emails":       []any{map[string]any{"address": "a@x"}, map[string]any{"address": "b@x"}},
	}
	for _, tc := range []struct{ format, want string }{
		{"{name.givenName}", "Ana"},
		{"{addresses.work.countryCode}", "ES"},
		{"{addresses.home.countryCode}", "FR"},
		{"{addresses.primary.countryCode}", "ES"},
		{"{emails.1.address}", "b@x"},
		{"{emails.address}", ""},
		{"x-{{{primaryEmail}}}", "x-{ana@example.org}"},
		{"{name.familyName}", ""},
	} {
		f, err := ParseFormat(tc.format)
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := f.Render(user); got != tc.want {
			t.Errorf("Render(%q) = %q; want %q", tc.format, got, tc.want)
		}
	}
}

func TestTokenCachedUntilExpiry(t *testing.T) {
	f := directory()
	f.ThrottleEvery = 0
	base, key := startFake(t, f, nil)
	src := newSource(t, base, key, "")
	// An hour behind, so that after the hour passes the assertion's iat is
	// the fake's present.
	clock := connectortest.NewClock(time.Now().Add(-time.Hour + time.Minute))
	src.cfg.Clock = clock
	tokens := func() int {
		n := 0
		for _, p := range f.Paths() {
			if p == "/token" {
				n++
			}
		}
		return n
	}
	q := core.SourceQuery{Groups: []string{"design@example.org"}}
	for range 2 {
		if _, err := src.Users(context.Background(), q, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := tokens(); n != 1 {
		t.Errorf("%d token requests for two reads within the hour; want 1", n)
	}
	clock.Advance(time.Hour)
	if _, err := src.Users(context.Background(), q, nil); err != nil {
		t.Fatal(err)
	}
	if n := tokens(); n != 2 {
		t.Errorf("%d token requests after the token expired; want 2", n)
	}
}

func TestBackoffDoublesWithoutSleeping(t *testing.T) {
	f := directory()
	f.ThrottleEvery = 0
	f.FailGroup, f.FailPage = "design@example.org", 1
	base, key := startFake(t, f, nil)
	src := newSource(t, base, key, "")
	src.cfg.BaseDelay = time.Second // the default; the fake clock makes it instant
	src.cfg.Clock = connectortest.NewClock(time.Now())
	rep := &connectortest.Recorder{}
	if _, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"design@example.org"}}, rep); err == nil {
		t.Fatal("Users succeeded; want the failing page's error")
	}
	var waits []time.Duration
	for _, w := range rep.Waits() {
		waits = append(waits, w.Wait)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("back-off waits differ (-want +got):\n%s", diff)
	}
}

func TestUnreadableNestedGroupFailsClosed(t *testing.T) {
	f := directory()
	f.ThrottleEvery = 0
	f.Groups[2].Members = append(f.Groups[2].Members, googlefake.Member{Type: "GROUP", ID: "gone"})
	base, key := startFake(t, f, nil)
	res, err := newSource(t, base, key, "").Users(context.Background(), core.SourceQuery{Groups: []string{"design@example.org"}}, nil)
	if err == nil || len(res.Users) != 0 || core.Code(err) != core.CodeNotFound || !strings.Contains(err.Error(), `nested in "design@example.org"`) {
		t.Errorf("Users with a nested group that cannot be read = %d users, %v; want a not-found error naming the mapped group", len(res.Users), err)
	}
}
