package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTokenEndpoint(t *testing.T) {
	c := newTestSim(t, Options{})
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"sim-client"},
		"client_secret": {"sim-secret"}, "scope": {"openid,AdobeID,user_management_sdk"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		errKey string
	}{
		{"v2", "/ims/token/v2", good, 200, ""},
		{"v2 slash", "/ims/token/v2/", good, 200, ""},
		{"v3", "/ims/token/v3", good, 200, ""},
		{"v3 slash", "/ims/token/v3/", good, 200, ""},
		{"bad secret", "/ims/token/v2", with("client_secret", "nope"), 401, "invalid_client"},
		{"bad client", "/ims/token/v2", with("client_id", "nope"), 401, "invalid_client"},
		{"bad grant", "/ims/token/v2", with("grant_type", "password"), 400, "unsupported_grant_type"},
		{"bad scope", "/ims/token/v2", with("scope", "openid"), 400, "invalid_scope"},
		{"v1 does not exist", "/ims/token/v1", good, 404, ""},
	}
	for _, tt := range tests {
		resp, err := c.hc.PostForm(c.base+tt.path, tt.form)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d; want %d", tt.name, resp.StatusCode, tt.status)
			continue
		}
		if tt.status == 200 {
			if body["token_type"] != "bearer" || body["expires_in"] != 86399.0 || body["access_token"] == "" {
				t.Errorf("%s: body %v; want bearer token with expires_in 86399", tt.name, body)
			}
		} else if tt.errKey != "" && body["error"] != tt.errKey {
			t.Errorf("%s: error %v; want %s", tt.name, body["error"], tt.errKey)
		}
	}
	// Parameters in the query string, and a multipart body, as the DOC curl
	// example and the Postman collection send them.
	resp, err := c.hc.Post(c.base+"/ims/token/v3?"+good.Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("query-string token request: %v %v; want 200", resp.Status, err)
	}
	var mb bytes.Buffer
	mw := multipart.NewWriter(&mb)
	for k, v := range good {
		mw.WriteField(k, v[0])
	}
	mw.Close()
	resp, err = c.hc.Post(c.base+"/ims/token/v2/", mw.FormDataContentType(), &mb)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("multipart token request: %v %v; want 200", resp.Status, err)
	}
}

func TestAuthorization(t *testing.T) {
	c := newTestSim(t, Options{TimeScale: 60})
	// A time-scaled token lives 86399/60 seconds and says so.
	resp, err := c.hc.PostForm(c.base+"/ims/token/v2", url.Values{"grant_type": {"client_credentials"},
		"client_id": {"sim-client"}, "client_secret": {"sim-secret"}, "scope": {"openid,AdobeID,user_management_sdk"}})
	if err != nil {
		t.Fatal(err)
	}
	var tr map[string]any
	json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if tr["expires_in"] != 1439.0 {
		t.Errorf("expires_in at time scale 60 = %v; want 1439", tr["expires_in"])
	}
	path := "/users/" + testOrg + "/0"
	if r, _ := c.do("GET", path, ""); r.StatusCode != 200 {
		t.Fatalf("GET with a fresh token = %d; want 200", r.StatusCode)
	}
	check := func(name string, mod func(*http.Request), status int) {
		t.Helper()
		req, _ := http.NewRequest("GET", c.base+"/v2/usermanagement"+path, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("x-api-key", c.key)
		mod(req)
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("%s: status %d; want %d", name, resp.StatusCode, status)
		}
		if status == 401 && (len(body) != 0 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token")) {
			t.Errorf("%s: 401 body %q, WWW-Authenticate %q; want empty body and invalid_token", name, body, resp.Header.Get("WWW-Authenticate"))
		}
	}
	check("no token", func(r *http.Request) { r.Header.Del("Authorization") }, 401)
	check("unknown token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer forged") }, 401)
	check("no api key", func(r *http.Request) { r.Header.Del("X-Api-Key") }, 403)
	check("wrong api key", func(r *http.Request) { r.Header.Set("X-Api-Key", "other") }, 403)
	check("lower-case bearer", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+c.token) }, 200)
	if r, body := c.do("GET", "/users/0000000000000000@AdobeOrg/0", ""); r.StatusCode != 400 || !strings.Contains(string(body), "error.organization.invalid_id") {
		t.Errorf("wrong org = %d %s; want 400 error.organization.invalid_id", r.StatusCode, body)
	}
	c.clock.Advance(1439 * time.Second)
	check("token just before expiry", func(*http.Request) {}, 200)
	c.clock.Advance(time.Second)
	check("expired token", func(*http.Request) {}, 401)
}

// userList fetches one users page and returns the body and paging headers.
func (c *testClient) userList(path string) (usersPage, [4]string, int) {
	c.t.Helper()
	resp, data := c.do("GET", path, "")
	var p usersPage
	json.Unmarshal(data, &p)
	h := [4]string{resp.Header.Get("X-Total-Count"), resp.Header.Get("X-Page-Count"),
		resp.Header.Get("X-Current-Page"), resp.Header.Get("X-Page-Size")}
	return p, h, resp.StatusCode
}

func bigSeed(n int) *Seed {
	s := &Seed{OrgID: testOrg, Domains: []SeedDomain{{Name: "big.example", Type: "federatedID"}},
		Groups: []SeedGroup{{Name: "Even", Type: "USER_GROUP"}}}
	s.Users = make([]SeedUser, n)
	for i := range s.Users {
		s.Users[i] = SeedUser{Email: fmt.Sprintf("u%07d@big.example", i), Type: "federatedID",
			Firstname: "F", Lastname: "L", Country: "US"}
		if i%2 == 0 {
			s.Users[i].Groups = []string{"Even"}
		}
	}
	return s
}

func TestUsersPaging(t *testing.T) {
	c := newTestSim(t, Options{Seed: bigSeed(4500)})
	tests := []struct {
		path  string
		want  [4]string
		last  bool
		first string
	}{
		{"/users/" + testOrg + "/0?directOnly=True", [4]string{"4500", "3", "0", "2000"}, false, "u0000000@big.example"},
		{"/users/" + testOrg + "/1", [4]string{"4500", "3", "1", "2000"}, false, "u0002000@big.example"},
		{"/users/" + testOrg + "/2?directOnly=false", [4]string{"4500", "3", "2", "500"}, true, "u0004000@big.example"},
		{"/users/" + testOrg + "/7", [4]string{"4500", "3", "2", "500"}, true, "u0004000@big.example"},
		{"/users/" + testOrg + "/1/Even", [4]string{"2250", "2", "1", "250"}, true, "u0004000@big.example"},
		{"/users/" + testOrg + "/0?domain=BIG.example", [4]string{"4500", "3", "0", "2000"}, false, "u0000000@big.example"},
	}
	for _, tt := range tests {
		p, h, status := c.userList(tt.path)
		if status != 200 || h != tt.want || p.LastPage != tt.last || p.Result != "success" {
			t.Errorf("GET %s = %d headers %v lastPage %v result %q; want 200 %v %v success", tt.path, status, h, p.LastPage, p.Result, tt.want, tt.last)
			continue
		}
		if len(p.Users) == 0 || p.Users[0].Email != tt.first {
			t.Errorf("GET %s: %d users, first %+v; want first %s", tt.path, len(p.Users), p.Users[:min(1, len(p.Users))], tt.first)
		}
	}
	// Walking the pages as the Python client does yields every user once.
	seen := map[string]bool{}
	for page := 0; ; page++ {
		p, _, _ := c.userList(fmt.Sprintf("/users/%s/%d", testOrg, page))
		for _, u := range p.Users {
			if seen[u.Email] {
				t.Fatalf("user %s on two pages", u.Email)
			}
			seen[u.Email] = true
		}
		if p.LastPage {
			break
		}
	}
	if len(seen) != 4500 {
		t.Errorf("paged %d users; want 4500", len(seen))
	}
}

func TestUserReads(t *testing.T) {
	c := newTestSim(t, Options{})
	// directOnly=false adds the profiles user groups grant.
	p, h, _ := c.userList("/users/" + testOrg + "/0?directOnly=False")
	var ana wireUser
	for _, u := range p.Users {
		if u.Email == "ana@example.org" {
			ana = u
		}
	}
	if diff := cmp.Diff([]string{"Design Team", "_org_admin", "All Apps"}, ana.Groups); diff != "" {
		t.Errorf("ana's groups with directOnly=False (-want +got):\n%s", diff)
	}
	if h != [4]string{"5", "1", "0", "5"} || !p.LastPage {
		t.Errorf("small org headers %v lastPage %v", h, p.LastPage)
	}
	p, _, _ = c.userList("/users/" + testOrg + "/0/All%20Apps?directOnly=false")
	if len(p.Users) != 1 || p.Users[0].Email != "ana@example.org" || p.GroupName != "All Apps" {
		t.Errorf("inherited members of All Apps = %+v; want ana", p)
	}
	p, _, _ = c.userList("/users/" + testOrg + "/0/all%20apps")
	if len(p.Users) != 0 {
		t.Errorf("direct members of All Apps = %+v; want none", p.Users)
	}
	p, _, _ = c.userList("/users/" + testOrg + "/0/Acrobat?excludeGroups=true")
	if len(p.Users) != 2 || p.Users[0].Groups != nil {
		t.Errorf("Acrobat with excludeGroups = %+v; want 2 users without groups", p.Users)
	}
	p, _, status := c.userList("/users/" + testOrg + "/0/_support_admin")
	if status != 200 || len(p.Users) != 0 || !p.LastPage {
		t.Errorf("empty admin group = %d %+v; want 200, empty, last page", status, p)
	}
	resp, body := c.do("GET", "/users/"+testOrg+"/0/Nope", "")
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"result":"error.group.not_found"`) {
		t.Errorf("unknown group = %d %s; want 404 error.group.not_found", resp.StatusCode, body)
	}
	resp, _ = c.do("GET", "/users/"+testOrg+"/0?domain=nowhere.net", "")
	if resp.StatusCode != 404 {
		t.Errorf("unknown domain = %d; want 404", resp.StatusCode)
	}

	single := []struct {
		path   string
		status int
		email  string
	}{
		{"/organizations/" + testOrg + "/users/ANA@example.org", 200, "ana@example.org"},
		{"/organizations/" + testOrg + "/users/kobi?domain=example.org", 200, "k.obi@example.org"},
		{"/organizations/" + testOrg + "/users/kobi", 404, ""},
		{"/organizations/" + testOrg + "/users/pat@gmail.com?domain=AdobeID", 200, "pat@gmail.com"},
		{"/organizations/" + testOrg + "/users/pat@gmail.com", 200, "pat@gmail.com"},
		{"/organizations/" + testOrg + "/users/ana@example.org?domain=AdobeID", 404, ""},
		{"/organizations/" + testOrg + "/users/nobody@example.org", 404, ""},
	}
	for _, tt := range single {
		resp, body := c.do("GET", tt.path, "")
		var r struct {
			Result string
			User   wireUser
		}
		json.Unmarshal(body, &r)
		if resp.StatusCode != tt.status || r.User.Email != tt.email {
			t.Errorf("GET %s = %d %s; want %d %s", tt.path, resp.StatusCode, body, tt.status, tt.email)
		}
		if tt.status == 404 && r.Result != "error.user.not_found" {
			t.Errorf("GET %s result %q; want error.user.not_found", tt.path, r.Result)
		}
	}
}

func TestGroupsList(t *testing.T) {
	seed := testSeed(t)
	for i := range 500 {
		seed.Groups = append(seed.Groups, SeedGroup{Name: fmt.Sprintf("G%03d", i), Type: "USER_GROUP"})
	}
	c := newTestSim(t, Options{Seed: seed})
	c.action(`[{"user":"li@ent.example.com","do":[{"add":{"group":["_admin_Design Team"]}}]}]`, false)
	var names []string
	for page := 0; ; page++ {
		resp, data := c.do("GET", fmt.Sprintf("/groups/%s/%d", testOrg, page), "")
		var p struct {
			LastPage bool
			Result   string
			Groups   []wireGroup
		}
		json.Unmarshal(data, &p)
		if resp.StatusCode != 200 || p.Result != "success" {
			t.Fatalf("groups page %d = %d %s", page, resp.StatusCode, data)
		}
		for _, g := range p.Groups {
			names = append(names, g.GroupName)
			if page == 0 && g.GroupName == "Design Team" {
				want := wireGroup{GroupID: 100001, GroupName: "Design Team", Type: "USER_GROUP", MemberCount: 1, AdminGroupName: "_admin_Design Team"}
				if diff := cmp.Diff(want, g); diff != "" {
					t.Errorf("Design Team (-want +got):\n%s", diff)
				}
			}
			if g.GroupName == "All Apps" && g.ProductName != "Creative Cloud" {
				t.Errorf("All Apps productName = %q", g.ProductName)
			}
		}
		if p.LastPage {
			if page != 1 {
				t.Errorf("last page = %d; want 1 (506 groups, 400 a page)", page)
			}
			break
		}
	}
	if len(names) != 506 {
		t.Errorf("listed %d groups; want 506 (4 + _org_admin + 500 + _admin_Design Team)", len(names))
	}
	_, data := c.do("GET", "/groups/"+testOrg+"/5", "")
	if strings.TrimSpace(string(data)) != `{"lastPage":true,"result":"Not found"}` {
		t.Errorf("groups page past the end = %s", data)
	}
}

func TestResetStateStats(t *testing.T) {
	c := newTestSim(t, Options{})
	get := func(path string) []byte {
		resp, err := c.hc.Get(c.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	c.do("GET", "/users/"+testOrg+"/0", "")
	c.do("GET", "/organizations/"+testOrg+"/users/ana@example.org", "")
	c.do("GET", "/groups/"+testOrg+"/0", "")
	c.action(`[{"user":"ana@example.org","do":[{"add":{"group":["Acrobat"]}},{"add":{"group":["Nope"]}}]},{"user":"ana@example.org","do":[{"remove":"all"}]}]`, false)
	want := `{"requests":{"token":1,"users":2,"groups":1,"action":1},"throttled":0,"commands":2,"steps":3,"errors":1}`
	if got := strings.TrimSpace(string(get("/_sim/stats"))); got != want {
		t.Errorf("stats = %s; want %s", got, want)
	}
	// State round-trips through reset.
	state := get("/_sim/state")
	seed, err := ParseSeed(state)
	if err != nil {
		t.Fatalf("state is not a valid seed: %v\n%s", err, state)
	}
	if u := findUser(seed, "ana@example.org"); u == nil || strings.Join(u.Groups, ",") != "_org_admin" {
		t.Errorf("ana in state = %+v", u)
	}
	resp, err := c.hc.Post(c.base+"/_sim/reset", "application/json", strings.NewReader(`{"users":[{"email":"a@b.c","type":"adobeID"}]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("reset = %v %v", resp.Status, err)
	}
	if got := c.sim.State(); len(got.Users) != 1 || got.OrgID != DefaultOrgID {
		t.Errorf("after reset state = %+v", got)
	}
	if got := c.sim.Stats(); got != (Stats{}) {
		t.Errorf("after reset stats = %+v; want zero", got)
	}
	// The token survives a reset that keeps the client ID.
	if r, _ := c.do("GET", "/users/"+DefaultOrgID+"/0", ""); r.StatusCode != 200 {
		t.Errorf("after reset GET = %d; want 200", r.StatusCode)
	}
	resp, _ = c.hc.Post(c.base+"/_sim/reset", "application/json", strings.NewReader(`{"users":[{"email":"x"}]}`))
	if resp.StatusCode != 400 {
		t.Errorf("reset with a bad seed = %d; want 400", resp.StatusCode)
	}
	resp, _ = c.hc.Post(c.base+"/_sim/reset", "application/json", nil)
	if resp.StatusCode != 200 || findUser(c.sim.State(), "ana@example.org") == nil {
		t.Errorf("empty reset did not restore the initial seed")
	}
	if got, want := string(state), mustJSON(c.sim.State()); got == want {
		t.Errorf("state after restoring the initial seed equals the changed state")
	}
}

func findUser(s *Seed, email string) *SeedUser {
	for i := range s.Users {
		if s.Users[i].Email == email {
			return &s.Users[i]
		}
	}
	return nil
}

func TestSeedErrors(t *testing.T) {
	tests := []struct{ seed, want string }{
		{`{"org_id": "abc"}`, "org_id"},
		{`{"domains": [{"name": "x.org", "type": "adobeID"}]}`, "domains[0].type"},
		{`{"groups": [{"name": "P", "type": "PRODUCT_PROFILE"}]}`, "groups[0].productName"},
		{`{"groups": [{"name": "A"}, {"name": "a"}]}`, "groups[1].name"},
		{`{"users": [{"email": "a@x.org", "type": "federatedID"}]}`, "users[0].domain"},
		{`{"users": [{"email": "nope", "type": "adobeID"}]}`, "users[0].email"},
		{`{"users": [{"email": "a@x.org", "type": "adobeID", "groups": ["G"]}]}`, "users[0].groups[0]"},
		{`{"users": [{"email": "a@x.org", "type": "adobeID", "country": "XX"}]}`, "users[0].country"},
		{`{"users": [{"email": "a@x.org", "type": "adobeID"}, {"email": "A@x.org", "type": "adobeID"}]}`, "users[1].email"},
		{"{\n  \"users\": [\n    {\"emial\": \"a@x.org\"}]}", "line 3"},
		{"{\n  \"users\": [,]}", "line 2"},
	}
	for _, tt := range tests {
		_, err := ParseSeed([]byte(tt.seed))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSeed(%s) = %v; want an error naming %s", tt.seed, err, tt.want)
		}
	}
}
