package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/connectors/entra/fakegraph"
	"github.com/usersync/usersync/core"
)

// tenant builds a directory with nesting: Design holds ana and the group
// Contractors; Contractors holds bo, the disabled dan and (a cycle) Design.
// Wei is in Contractors and Marketing; eve has no usageLocation.
func tenant() *fakegraph.Server {
	u := func(id, mail, given, sur, country string, enabled bool) fakegraph.User {
		p := map[string]any{"mail": mail, "userPrincipalName": mail, "givenName": given, "surname": sur, "accountEnabled": enabled}
		if country != "" {
			p["usageLocation"] = country
		}
		return fakegraph.User{ID: id, Props: p}
	}
	return &fakegraph.Server{
		TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret, PageSize: 3,
		Users: []fakegraph.User{
			u("u-ana", "ana@example.org", "Ana", "Ruiz", "es", true),
			u("u-bo", "bo@example.org", "Bo", "Lindqvist", "SE", true),
			u("u-dan", "dan@example.org", "Dan", "Disabled", "US", false),
			u("u-wei", "wei@example.org", "伟", "李", "CN", true),
			u("u-zoe", "zoe@example.org", "Zoë", "Ørsted", "DK", true),
			u("u-eve", "eve@example.org", "Eve", "Nowhere", "", true),
			u("u-out", "out@example.org", "Out", "Side", "FR", true),
		},
		Groups: []fakegraph.Group{
			{ID: "g-design", DisplayName: "Design", Members: []string{"u-ana", "g-contr", "u-zoe", "u-eve"}},
			{ID: "g-contr", DisplayName: "Contractors", Members: []string{"u-bo", "u-dan", "u-wei", "g-design"}},
			{ID: "g-mkt", DisplayName: "Marketing", Members: []string{"u-wei"}},
			{ID: "g-dup1", DisplayName: "Twice", Members: []string{"u-ana"}},
			{ID: "g-dup2", DisplayName: "Twice", Members: []string{"u-bo"}},
			{ID: "g-quote", DisplayName: "O'Brien's Team", Members: []string{"u-out"}},
		},
	}
}

func newSource(t testing.TB, f *fakegraph.Server, extra string) (*Source, *connectortest.Clock) {
	t.Helper()
	url := f.Start(t)
	cfg, err := parseYAML(t, fmt.Sprintf("tenant_id: %s\nclient_id: %s\nclient_secret: %q\nauthority_host: %s\ngraph_host: %s\n%s",
		testTenant, testClient, testSecret, url, url, extra), nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	clock := connectortest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	cfg.Clock = clock
	return New(cfg, nil), clock
}

type row struct {
	Email, First, Last, Country string
	Groups                      []string
}

func rows(res core.DirectoryResult) []row {
	var out []row
	for _, u := range res.Users {
		g := slices.Clone(u.Groups)
		sort.Strings(g)
		out = append(out, row{u.Email, u.Firstname, u.Lastname, u.Country, g})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out
}

func TestNestedGroupsCycleDisabledPagingThrottle(t *testing.T) {
	f := tenant()
	f.ThrottleEvery = 5
	src, clock := newSource(t, f, "")
	rec := &connectortest.Recorder{}
	res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design", "Marketing"}}, rec)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	want := []row{
		{"ana@example.org", "Ana", "Ruiz", "ES", []string{"Design"}},
		{"bo@example.org", "Bo", "Lindqvist", "SE", []string{"Design"}},
		{"eve@example.org", "Eve", "Nowhere", "", []string{"Design"}},
		{"wei@example.org", "伟", "李", "CN", []string{"Design", "Marketing"}},
		{"zoe@example.org", "Zoë", "Ørsted", "DK", []string{"Design"}},
	}
	if d := cmp.Diff(want, rows(res)); d != "" {
		t.Errorf("Users (-want +got):\n%s", d)
	}
	st := f.Stats()
	if st.Throttled == 0 || len(rec.Waits()) != st.Throttled {
		t.Errorf("throttled %d times, %d waits reported; want the same, > 0", st.Throttled, len(rec.Waits()))
	}
	for _, w := range rec.Waits() {
		if w.Wait != time.Second || !strings.Contains(w.Cause, "429 Retry-After") {
			t.Errorf("wait %+v; want 1s for 429 Retry-After", w)
		}
	}
	if len(clock.Waits()) != st.Throttled {
		t.Errorf("clock waits %v; want %d", clock.Waits(), st.Throttled)
	}
	if st.TokenRequests != 1 {
		t.Errorf("token requests = %d; want 1 (cached)", st.TokenRequests)
	}
	last := rec.Reports()[len(rec.Reports())-1]
	if !last.Done || last.Users != 5 || last.Groups != 2 || last.Pages == 0 {
		t.Errorf("last progress = %+v", last)
	}
	for _, u := range res.Users {
		if !strings.HasPrefix(u.Origin, "entra user u-") {
			t.Errorf("Origin = %q; want the object id", u.Origin)
		}
	}
}

// TestNextLinkFollowedExactly checks that each page request is the
// previous page's @odata.nextLink, byte for byte, and that member reads are
// advanced queries.
func TestNextLinkFollowedExactly(t *testing.T) {
	f := tenant()
	var seen []*http.Request
	var links []string
	url := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &capture{ResponseWriter: w}
		f.ServeHTTP(rw, r)
		if !strings.Contains(r.URL.Path, "token") {
			seen = append(seen, r)
			var p struct {
				Next string `json:"@odata.nextLink"`
			}
			json.Unmarshal(rw.body, &p)
			links = append(links, p.Next)
		}
	}))
	t.Cleanup(url.Close)
	cfg, err := parseYAML(t, fmt.Sprintf("tenant_id: %s\nclient_id: %s\nclient_secret: %q\nauthority_host: %s\ngraph_host: %s\n", testTenant, testClient, testSecret, url.URL, url.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil); err != nil {
		t.Fatal(err)
	}
	followed := 0
	for i := 1; i < len(seen); i++ {
		if links[i-1] == "" {
			continue
		}
		followed++
		if got := url.URL + seen[i].URL.RequestURI(); got != links[i-1] {
			t.Errorf("request %d = %s; want the nextLink %s", i, got, links[i-1])
		}
	}
	if followed == 0 {
		t.Error("no nextLink was followed")
	}
	for _, r := range seen {
		if strings.Contains(r.URL.Path, "transitiveMembers") {
			if r.Header.Get("ConsistencyLevel") != "eventual" || !strings.Contains(r.URL.RawQuery, "%24count=true") && !strings.Contains(r.URL.RawQuery, "$count=true") {
				t.Errorf("member read %s without ConsistencyLevel: eventual and $count=true", r.URL)
			}
		}
	}
}

type capture struct {
	http.ResponseWriter
	body []byte
}

func (c *capture) Write(b []byte) (int, error) {
	c.body = append(c.body, b...)
	return c.ResponseWriter.Write(b)
}

func TestDisabledNeverSelected(t *testing.T) {
	for _, filter := range []string{`all_users_filter: ""`, `all_users_filter: "employeeType eq null"`, ""} {
		src, _ := newSource(t, tenant(), filter)
		for _, q := range []core.SourceQuery{{AllUsers: true}, {Groups: []string{"Contractors"}}} {
			res, err := src.Users(context.Background(), q, nil)
			if err != nil {
				t.Fatalf("%s %+v: %v", filter, q, err)
			}
			for _, u := range res.Users {
				if u.Email == "dan@example.org" {
					t.Errorf("%s %+v: the disabled dan was selected", filter, q)
				}
			}
			if len(res.Users) == 0 {
				t.Errorf("%s %+v: no users", filter, q)
			}
		}
	}
}

func TestAllUsersWithGroups(t *testing.T) {
	src, _ := newSource(t, tenant(), "")
	res, err := src.Users(context.Background(), core.SourceQuery{AllUsers: true, Groups: []string{"Contractors", "Nope"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range rows(res) {
		got[r.Email] = r.Groups
	}
	want := map[string][]string{"ana@example.org": {"Contractors"}, "bo@example.org": {"Contractors"}, "eve@example.org": {"Contractors"},
		"wei@example.org": {"Contractors"}, "zoe@example.org": {"Contractors"}, "out@example.org": nil}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("all users (-want +got):\n%s", d)
	}
	if !slices.Equal(res.MissingGroups, []string{"Nope"}) {
		t.Errorf("MissingGroups = %q; want [Nope]", res.MissingGroups)
	}
}

func TestGroupNames(t *testing.T) {
	src, _ := newSource(t, tenant(), "")
	res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"O'Brien's Team"}}, nil)
	if err != nil || len(res.Users) != 1 || res.Users[0].Email != "out@example.org" {
		t.Errorf("group with a quote: %+v, %v", res.Users, err)
	}
	_, err = src.Users(context.Background(), core.SourceQuery{Groups: []string{"Twice"}}, nil)
	if err == nil || core.Code(err) != core.CodeInvalidInput || !strings.Contains(err.Error(), "g-dup1") {
		t.Errorf("ambiguous group: %v; want an invalid-input error naming the ids", err)
	}
}

func TestFailedPageFailsClosed(t *testing.T) {
	f := tenant()
	f.FailMembersPage = map[string]int{"Design": 2}
	src, clock := newSource(t, f, "")
	res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Marketing", "Design"}}, &connectortest.Recorder{})
	if err == nil {
		t.Fatalf("Users = %d users, no error; want an error", len(res.Users))
	}
	if len(res.Users) != 0 {
		t.Errorf("%d users returned with the error", len(res.Users))
	}
	if core.Code(err) != core.CodeUnavailable || !strings.Contains(err.Error(), `"Design" page 2`) || !strings.Contains(err.Error(), "503") {
		t.Errorf("error = %v; want unavailable naming the group, page 2 and the 503", err)
	}
	if len(clock.Waits()) != 5 {
		t.Errorf("waits = %v; want 5 retries after Retry-After", clock.Waits())
	}
}

func TestTokenRefused(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"wrong secret", fmt.Sprintf("tenant_id: %s\nclient_id: %s\nclient_secret: wrong-secret-123\n", testTenant, testClient), "AADSTS7000215"},
		{"wrong tenant", fmt.Sprintf("tenant_id: other.example\nclient_id: %s\nclient_secret: wrong-secret-123\n", testClient), "AADSTS90002"},
		{"wrong client", fmt.Sprintf("tenant_id: %s\nclient_id: nobody\nclient_secret: wrong-secret-123\n", testTenant), "AADSTS700016"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tenant()
			url := f.Start(t)
			cfg, err := parseYAML(t, tc.yaml+fmt.Sprintf("authority_host: %s\ngraph_host: %s\n", url, url), nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
			if err == nil || len(res.Users) != 0 {
				t.Fatalf("Users = %d, %v; want an error", len(res.Users), err)
			}
			if core.Code(err) != core.CodeUnauthenticated || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "refused") {
				t.Errorf("error = %v; want unauthenticated, naming the refusal and %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "wrong-secret-123") {
				t.Errorf("error contains the secret: %v", err)
			}
			if f.Stats().GraphCalls != 0 {
				t.Errorf("%d Graph calls without a token", f.Stats().GraphCalls)
			}
		})
	}
}

func TestTokenRenewedWhenExpired(t *testing.T) {
	f := tenant()
	f.TokenLifetime = 4
	f.ThrottleEvery = 2 // each 429 advances the fake clock a second
	src, _ := newSource(t, f, "")
	if _, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design", "Marketing", "Contractors"}}, nil); err != nil {
		t.Fatal(err)
	}
	st := f.Stats()
	if st.TokenRequests < 2 || st.TokenRequests >= st.GraphCalls {
		t.Errorf("token requests = %d for %d calls; want renewals, not one a call", st.TokenRequests, st.GraphCalls)
	}
	// A second read within the lifetime reuses the token.
	before := f.Stats().TokenRequests
	f.ThrottleEvery = 0
	if _, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Marketing"}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.Stats().TokenRequests; got != before {
		t.Errorf("token requests %d -> %d; want the cached token reused", before, got)
	}
}

func TestForeignNextLinkRefused(t *testing.T) {
	f := tenant()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "transitiveMembers") {
			json.NewEncoder(w).Encode(map[string]any{"value": []any{}, "@odata.nextLink": "https://evil.example/v1.0/users?$skiptoken=x"})
			return
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg, err := parseYAML(t, fmt.Sprintf("tenant_id: %s\nclient_id: %s\nclient_secret: %q\nauthority_host: %s\ngraph_host: %s\n", testTenant, testClient, testSecret, srv.URL, srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "evil.example") {
		t.Errorf("foreign nextLink: %v; want a refusal", err)
	}
}

func TestForbidden(t *testing.T) {
	f := tenant()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "transitiveMembers") {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`))
			return
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg, _ := parseYAML(t, fmt.Sprintf("tenant_id: %s\nclient_id: %s\nclient_secret: %q\nauthority_host: %s\ngraph_host: %s\n", testTenant, testClient, testSecret, srv.URL, srv.URL), nil)
	_, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}}, nil)
	if core.Code(err) != core.CodePermissionDenied || !strings.Contains(err.Error(), "GroupMember.Read.All") {
		t.Errorf("403: %v; want permission denied naming the permission", err)
	}
}

func TestExtendedAndFormats(t *testing.T) {
	f := tenant()
	f.Users[0].Props["department"] = "Design"
	f.Users[0].Props["onPremisesExtensionAttributes"] = map[string]any{"extensionAttribute1": "federatedID"}
	src, _ := newSource(t, f, "user_identity_type_format: \"{onPremisesExtensionAttributes.extensionAttribute1}\"\nuser_username_format: \"{userPrincipalName}\"\n")
	res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design"}, ExtendedAttributes: []string{"department"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.Users {
		if u.Email == "ana@example.org" {
			if u.Type != core.FederatedID || u.Attributes["department"] != "Design" || u.Username != "ana@example.org" {
				t.Errorf("ana = %+v", u)
			}
			return
		}
	}
	t.Error("ana not read")
}

// TestParallelReadsMergeInOrder: groups are read in parallel, but the
// result lists users and their groups in the order the groups were asked.
func TestParallelReadsMergeInOrder(t *testing.T) {
	src, _ := newSource(t, tenant(), "")
	q := core.SourceQuery{Groups: []string{"Marketing", "Contractors", "Design", "O'Brien's Team"}}
	first, err := src.Users(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Users[0].Email != "wei@example.org" || !slices.Equal(first.Users[0].Groups, []string{"Marketing", "Contractors", "Design"}) {
		t.Errorf("first user = %s %q; want wei in Marketing, Contractors, Design", first.Users[0].Email, first.Users[0].Groups)
	}
	for range 5 {
		again, err := src.Users(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(first, again); d != "" {
			t.Fatalf("a second read differs (-first +again):\n%s", d)
		}
	}
}

func TestUserWithoutEmailSkipped(t *testing.T) {
	f := tenant()
	delete(f.Users[1].Props, "mail") // bo, in Design through Contractors
	src, _ := newSource(t, f, "")
	res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design", "Contractors"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.Users {
		if u.Email == "" || u.Origin == "entra user u-bo (bo@example.org)" {
			t.Errorf("user without mail selected: %+v", u)
		}
	}
	if len(res.Users) != 4 {
		t.Errorf("%d users; want 4", len(res.Users))
	}
}
