package okta

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/core"
)

const testToken = "00abcSECRETtokenXYZ"

// newFixture returns a fake org: "Design" (5 members, one suspended, one
// without email), "Design Team" (a prefix collision), "Marketing"
// (overlapping membership), and a clock at a fixed time.
func newFixture() (*fakeOkta, *connectortest.Clock) {
	clock := connectortest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	f := &fakeOkta{
		token: testToken,
		now:   clock.Now,
		users: map[string]map[string]any{
			"00u1": oktaUser("00u1", "ACTIVE", map[string]any{"login": "ana@example.org", "email": "ana@example.org", "firstName": "Ana", "lastName": "Ruiz", "countryCode": "es", "department": "Design", "costCenters": []any{"cc1", "cc2"}}),
			"00u2": oktaUser("00u2", "ACTIVE", map[string]any{"login": "bo@example.org", "email": "bo@example.org", "firstName": "Bo", "lastName": "Li", "countryCode": nil}),
			"00u3": oktaUser("00u3", "SUSPENDED", map[string]any{"login": "cy@example.org", "email": "cy@example.org", "firstName": "Cy", "lastName": "Ng"}),
			"00u4": oktaUser("00u4", "ACTIVE", map[string]any{"login": "noemail", "email": nil, "firstName": "No", "lastName": "Mail"}),
			"00u5": oktaUser("00u5", "ACTIVE", map[string]any{"login": "dee@example.org", "email": "dee@example.org", "firstName": "Dée", "lastName": "Ölm", "countryCode": "de"}),
			"00u6": oktaUser("00u6", "ACTIVE", map[string]any{"login": "eve@example.org", "email": "eve@example.org", "firstName": "Eve", "lastName": "Stone", "countryCode": "fr"}),
		},
		groups: []fakeGroup{
			{id: "00gDT", name: "Design Team", members: []string{"00u6"}},
			{id: "00gD", name: "Design", members: []string{"00u1", "00u2", "00u3", "00u4", "00u5"}},
			{id: "00gM", name: "Marketing", members: []string{"00u2", "00u6"}},
		},
	}
	return f, clock
}

func testConfig(t *testing.T, host string, f *fakeOkta, clock *connectortest.Clock) Config {
	t.Helper()
	cfg, err := parseYAML(t, fmt.Sprintf("host: %q\napi_token: %q\n", host, testToken), nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	cfg.Clock = clock
	cfg.PageSize = 2
	return cfg
}

func startSource(t *testing.T, f *fakeOkta, clock *connectortest.Clock) *Source {
	t.Helper()
	srv := f.start(t)
	cfg := testConfig(t, srv.URL, f, clock)
	cfg.HTTPClient = srv.Client()
	return New(cfg, nil)
}

func TestUsersReadsGroupsWithPagingAndExactMatch(t *testing.T) {
	f, clock := newFixture()
	src := startSource(t, f, clock)
	rec := &connectortest.Recorder{}
	got, err := src.Users(context.Background(), core.SourceQuery{
		Groups:             []string{"Design", "Marketing", "Nope"},
		ExtendedAttributes: []string{"department", "costCenters", "absent"},
	}, rec)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	want := core.DirectoryResult{
		MissingGroups: []string{"Nope"},
		Users: []core.DirectoryUser{
			{Email: "ana@example.org", Username: "ana@example.org", Domain: "example.org", Firstname: "Ana", Lastname: "Ruiz", Country: "ES",
				Groups: []string{"Design"}, Origin: "okta user 00u1",
				Attributes: map[string]any{"id": "00u1", "login": "ana@example.org", "email": "ana@example.org", "identity_type": nil,
					"username": nil, "domain": nil, "firstName": "Ana", "lastName": "Ruiz", "c": "es",
					"department": "Design", "costCenters": []string{"cc1", "cc2"}, "absent": nil}},
			{Email: "bo@example.org", Username: "bo@example.org", Domain: "example.org", Firstname: "Bo", Lastname: "Li",
				Groups: []string{"Design", "Marketing"}, Origin: "okta user 00u2",
				Attributes: map[string]any{"id": "00u2", "login": "bo@example.org", "email": "bo@example.org", "identity_type": nil,
					"username": nil, "domain": nil, "firstName": "Bo", "lastName": "Li", "c": nil,
					"department": nil, "costCenters": nil, "absent": nil}},
			{Email: "dee@example.org", Username: "dee@example.org", Domain: "example.org", Firstname: "Dée", Lastname: "Ölm", Country: "DE",
				Groups: []string{"Design"}, Origin: "okta user 00u5",
				Attributes: map[string]any{"id": "00u5", "login": "dee@example.org", "email": "dee@example.org", "identity_type": nil,
					"username": nil, "domain": nil, "firstName": "Dée", "lastName": "Ölm", "c": "de",
					"department": nil, "costCenters": nil, "absent": nil}},
			{Email: "eve@example.org", Username: "eve@example.org", Domain: "example.org", Firstname: "Eve", Lastname: "Stone", Country: "FR",
				Groups: []string{"Marketing"}, Origin: "okta user 00u6",
				Attributes: map[string]any{"id": "00u6", "login": "eve@example.org", "email": "eve@example.org", "identity_type": nil,
					"username": nil, "domain": nil, "firstName": "Eve", "lastName": "Stone", "c": "fr",
					"department": nil, "costCenters": nil, "absent": nil}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Users() mismatch (-want +got):\n%s", diff)
	}
	// Design has 5 members at 2 a page: 3 pages; Marketing 1 page; three
	// searches.
	var memberPages int
	for _, r := range f.requests {
		if strings.Contains(r, "/users") {
			memberPages++
		}
	}
	if memberPages != 4 {
		t.Errorf("member page requests = %d; want 4 (%v)", memberPages, f.requests)
	}
	for i, a := range f.auths {
		if a != "SSWS "+testToken {
			t.Errorf("request %d Authorization = %q; want the SSWS token", i, a)
		}
	}
	if n := len(rec.Reports()); n == 0 || !rec.Reports()[n-1].Done || rec.Reports()[n-1].Users != 4 {
		t.Errorf("last progress = %+v; want Done with 4 users", rec.Reports())
	}
	if len(rec.Waits()) != 0 {
		t.Errorf("throttled = %v; want none", rec.Waits())
	}
}

func TestUsersRejectsAllUsers(t *testing.T) {
	f, clock := newFixture()
	src := startSource(t, f, clock)
	_, err := src.Users(context.Background(), core.SourceQuery{AllUsers: true, Groups: []string{"Design"}}, nil)
	if err == nil || core.Code(err) != core.CodeInvalidInput || !strings.Contains(err.Error(), "--users mapped") {
		t.Fatalf("Users(all) error = %v; want invalid input naming --users mapped", err)
	}
	if len(f.requests) != 0 {
		t.Errorf("requests = %v; want none", f.requests)
	}
}

func TestUsersWaitsOn429UntilReset(t *testing.T) {
	f, clock := newFixture()
	f.throttle429 = 2
	src := startSource(t, f, clock)
	rec := &connectortest.Recorder{}
	got, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Marketing"}}, rec)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if len(got.Users) != 2 {
		t.Errorf("users = %d; want 2", len(got.Users))
	}
	if len(rec.Waits()) != 2 {
		t.Fatalf("throttled = %+v; want 2 waits", rec.Waits())
	}
	for i, w := range rec.Waits() {
		// The fake resets 30 s after "now"; one second of margin is added.
		if w.Wait != 31*time.Second || !strings.Contains(w.Cause, "429") || w.Attempt != i+1 {
			t.Errorf("throttle %d = %+v; want 31s after a 429, attempt %d", i, w, i+1)
		}
	}
}

func TestUsersWaitsWhenRemainingIsZero(t *testing.T) {
	f, clock := newFixture()
	f.remainingZero = true
	src := startSource(t, f, clock)
	rec := &connectortest.Recorder{}
	if _, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, rec); err != nil {
		t.Fatalf("Users: %v", err)
	}
	// 1 search + 3 member pages: every request after the first waits.
	if len(rec.Waits()) != 3 {
		t.Fatalf("throttled = %+v; want 3 waits", rec.Waits())
	}
	if !strings.Contains(rec.Waits()[0].Cause, "Remaining: 0") {
		t.Errorf("cause = %q; want the remaining-zero rule", rec.Waits()[0].Cause)
	}
}

func TestUsersServerErrorIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail5xx  int
		wantCode core.ErrorCode
	}{
		{"always 500", -1, core.CodeUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, clock := newFixture()
			f.fail5xx = tc.fail5xx
			src := startSource(t, f, clock)
			src.cfg.MaxAttempts = 3
			got, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
			if err == nil || core.Code(err) != tc.wantCode {
				t.Fatalf("Users() = %v, %v; want a %v error", got, err, tc.wantCode)
			}
			if len(got.Users) != 0 {
				t.Errorf("users = %v; want none with the error", got.Users)
			}
			if len(f.requests) != 3 {
				t.Errorf("requests = %d; want 3 attempts", len(f.requests))
			}
			if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, clock.Waits()); diff != "" {
				t.Errorf("waits (-want +got), none after the last attempt:\n%s", diff)
			}
		})
	}
}

func TestUsersRecoversFromTransient500(t *testing.T) {
	f, clock := newFixture()
	f.fail5xx = 2
	src := startSource(t, f, clock)
	got, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if len(got.Users) != 3 {
		t.Errorf("users = %d; want 3", len(got.Users))
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, clock.Waits()); diff != "" {
		t.Errorf("backoff waits (-want +got):\n%s", diff)
	}
}

func TestUsersBadTokenNeverLeaks(t *testing.T) {
	f, clock := newFixture()
	f.token = "another-token"
	src := startSource(t, f, clock)
	_, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
	if core.Code(err) != core.CodeUnauthenticated {
		t.Fatalf("error = %v; want unauthenticated", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error %q contains the token", err)
	}
	for _, s := range []string{fmt.Sprint(src.cfg), fmt.Sprintf("%+v", src.cfg), fmt.Sprintf("%#v", src.cfg)} {
		if strings.Contains(s, testToken) {
			t.Errorf("formatted config contains the token: %s", s)
		}
	}
	b, _ := json.Marshal(src.cfg.APIToken)
	if strings.Contains(string(b), testToken) {
		t.Errorf("JSON of the token = %s", b)
	}
}

func TestUsersRefusesForeignNextLink(t *testing.T) {
	f, clock := newFixture()
	f.foreignNext = true
	src := startSource(t, f, clock)
	_, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "evil.example.com") {
		t.Fatalf("error = %v; want a refusal naming the foreign host", err)
	}
	for _, r := range f.requests {
		if strings.Contains(r, "evil") {
			t.Errorf("followed %s", r)
		}
	}
}

func TestUsersFilterErrorIsFatal(t *testing.T) {
	f, clock := newFixture()
	srv := f.start(t)
	cfg, err := parseYAML(t, fmt.Sprintf("host: %q\napi_token: %q\nall_users_filter: 'user.profile.department == \"Design\"'\n", srv.URL, testToken), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient, cfg.Clock = srv.Client(), clock
	_, err = New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "department") || !strings.Contains(err.Error(), "00u2") {
		t.Fatalf("error = %v; want the missing field and the user id", err)
	}
}

func TestUsersWithFormatsAndFilter(t *testing.T) {
	f, clock := newFixture()
	srv := f.start(t)
	yaml := fmt.Sprintf(`host: %q
api_token: %q
user_identity_type: federatedID
all_users_filter: 'user.status in ("ACTIVE", "SUSPENDED") and getattr(user.profile, "department", None) is not None'
user_username_format: "{login}"
user_domain_format: "corp.example"
user_given_name_format: "{firstName} ({department})"
`, srv.URL, testToken)
	cfg, err := parseYAML(t, yaml, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPClient, cfg.Clock = srv.Client(), clock
	got, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	want := []core.DirectoryUser{{
		Type: core.FederatedID, Email: "ana@example.org", Username: "ana@example.org", Domain: "corp.example",
		Firstname: "Ana (Design)", Lastname: "Ruiz", Country: "ES", Groups: []string{"Design"}, Origin: "okta user 00u1",
		Attributes: map[string]any{"id": "00u1", "login": "ana@example.org", "email": "ana@example.org", "identity_type": "federatedID",
			"username": "ana@example.org", "domain": "corp.example", "firstName": "Ana (Design)", "lastName": "Ruiz", "c": "es"},
	}}
	if diff := cmp.Diff(want, got.Users); diff != "" {
		t.Errorf("Users() mismatch (-want +got):\n%s", diff)
	}
}

func TestUsersCanceled(t *testing.T) {
	f, clock := newFixture()
	src := startSource(t, f, clock)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := src.Users(ctx, core.SourceQuery{Groups: []string{"Design"}}, nil)
	if core.Code(err) != core.CodeCanceled {
		t.Fatalf("error = %v; want canceled", err)
	}
}

func TestParseLinks(t *testing.T) {
	got := parseLinks(`<https://o.okta.com/api/v1/groups/x/users?limit=2>; rel="self", <https://o.okta.com/api/v1/groups/x/users?after=00u2&limit=2>; rel="next"`)
	want := []link{
		{target: "https://o.okta.com/api/v1/groups/x/users?limit=2", rel: "self"},
		{target: "https://o.okta.com/api/v1/groups/x/users?after=00u2&limit=2", rel: "next"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(link{})); diff != "" {
		t.Errorf("parseLinks mismatch (-want +got):\n%s", diff)
	}
}

func TestUsersGroupSearchPagesToTheExactName(t *testing.T) {
	f, clock := newFixture()
	var many []fakeGroup
	for i := range 250 {
		many = append(many, fakeGroup{id: fmt.Sprintf("00gX%03d", i), name: fmt.Sprintf("Design %03d", i)})
	}
	f.groups = append(many, f.groups...) // the exact "Design" comes after the first page of 200
	src := startSource(t, f, clock)
	got, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if len(got.Users) != 3 || len(got.MissingGroups) != 0 {
		t.Errorf("Users() = %d users, missing %v; want 3 users, none missing", len(got.Users), got.MissingGroups)
	}
	var searches int
	for _, r := range f.requests {
		if strings.HasPrefix(r, "/api/v1/groups?") {
			searches++
		}
	}
	if searches != 2 {
		t.Errorf("group search pages = %d; want 2", searches)
	}
}

func TestUsersWarnsAboutAdditionalGroups(t *testing.T) {
	f, clock := newFixture()
	srv := f.start(t)
	cfg := testConfig(t, srv.URL, f, clock)
	cfg.HTTPClient = srv.Client()
	var logs strings.Builder
	src := New(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	got, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Marketing"}, WantMemberGroups: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "additional-group rules are not supported") {
		t.Errorf("log = %q; want the additional-groups warning", logs.String())
	}
	for _, u := range got.Users {
		if len(u.MemberGroups) != 0 {
			t.Errorf("user %s MemberGroups = %v; want none", u.Email, u.MemberGroups)
		}
	}
}

func TestDefaultClientTrustsCABundle(t *testing.T) {
	f, clock := newFixture()
	srv := f.start(t)
	cert := srv.Certificate()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, srv.URL, f, clock) // no HTTPClient: the default one
	t.Setenv("SSL_CERT_FILE", "")
	before := len(f.requests)
	_, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Marketing"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "REQUESTS_CA_BUNDLE") {
		t.Fatalf("Users() without a CA bundle error = %v; want a certificate error that names REQUESTS_CA_BUNDLE", err)
	}
	if len(clock.Waits()) != 0 || len(f.requests) != before {
		t.Errorf("a certificate error was retried (%d waits)", len(clock.Waits()))
	}
	t.Setenv("REQUESTS_CA_BUNDLE", bundle)
	got, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Marketing"}}, nil)
	if err != nil || len(got.Users) != 2 {
		t.Fatalf("Users() with REQUESTS_CA_BUNDLE = %d users, %v; want 2", len(got.Users), err)
	}
	t.Setenv("REQUESTS_CA_BUNDLE", filepath.Join(t.TempDir(), "missing.pem"))
	if _, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Marketing"}}, nil); err == nil || !strings.Contains(err.Error(), "REQUESTS_CA_BUNDLE") {
		t.Errorf("Users() with a missing bundle error = %v; want one naming REQUESTS_CA_BUNDLE", err)
	}
}
