package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pyRequest replays one request byte for byte as umapi-client 3.0.1 (under
// the User Sync Tool) sends it: its header spellings, its Python-style JSON
// (", " and ": " separators), "True" booleans in the query, a literal @ in
// the org path segment and %20 in group names.
func pyRequest(t *testing.T, c *testClient, method, path, body string, extra map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["Content-type"] = []string{"application/json"}
	req.Header["Accept"] = []string{"application/json"}
	req.Header["User-Agent"] = []string{"user-sync/2.10.0 umapi-client/3.0.1 Python/3.11.4 (Linux-6.1-x86_64-with-glibc2.36)"}
	req.Header["x-api-key"] = []string{"sim-client"}
	req.Header["X-Request-Id"] = []string{"3f0c8a52-5a1e-4b7e-9d55-0c6f7b0e4c21_1700000000123"}
	req.Header["Authorization"] = []string{"Bearer " + c.token}
	for k, v := range extra {
		req.Header[k] = []string{v}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
	}
	if got := resp.Header.Get("X-Request-Id"); got != "3f0c8a52-5a1e-4b7e-9d55-0c6f7b0e4c21_1700000000123" {
		t.Errorf("%s %s: X-Request-Id echoed as %q", method, path, got)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q; want application/json", method, path, ct)
	}
	return resp, out
}

func TestPythonClientReplay(t *testing.T) {
	c := newTestSim(t, Options{})

	// The token request: urlencoded form to the trailing-slash path.
	req, _ := http.NewRequest("POST", c.base+"/ims/token/v2/",
		strings.NewReader("client_id=sim-client&client_secret=sim-secret&grant_type=client_credentials&scope=openid%2CAdobeID%2Cuser_management_sdk"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok["access_token"] == nil || tok["expires_in"] == nil {
		t.Fatalf("token = %d %v", resp.StatusCode, tok)
	}
	c.token = tok["access_token"].(string)

	// UST's first users page carries the sync-start marker.
	resp, page := pyRequest(t, c, "GET", "/v2/usermanagement/users/"+testOrg+"/0?directOnly=True", "",
		map[string]string{"Pragma": "umapi-sync-start"})
	if resp.StatusCode != 200 || page["result"] != "success" || page["lastPage"] != true {
		t.Errorf("users page = %d %v", resp.StatusCode, page)
	}
	for _, h := range []string{"X-Total-Count", "X-Page-Count", "X-Current-Page", "X-Page-Size"} {
		if resp.Header.Get(h) == "" || resp.Header.Get("X-Page-Size") == "0" {
			t.Errorf("users page header %s = %q; UST needs all four, X-Page-Size non-zero", h, resp.Header.Get(h))
		}
	}
	users := page["users"].([]any)
	kobi := users[1].(map[string]any)
	for _, k := range []string{"email", "type", "username", "domain", "status"} {
		if kobi[k] == nil {
			t.Errorf("user object lacks %s: %v", k, kobi)
		}
	}

	resp, gp := pyRequest(t, c, "GET", "/v2/usermanagement/users/"+testOrg+"/0/Design%20Team?directOnly=True", "", nil)
	if resp.StatusCode != 200 || gp["groupName"] != "Design Team" || len(gp["users"].([]any)) != 1 {
		t.Errorf("group members = %d %v", resp.StatusCode, gp)
	}
	resp, groups := pyRequest(t, c, "GET", "/v2/usermanagement/groups/"+testOrg+"/0", "", nil)
	if resp.StatusCode != 200 || groups["lastPage"] != true || groups["result"] != "success" {
		t.Errorf("groups = %d %v", resp.StatusCode, groups)
	}
	resp, one := pyRequest(t, c, "GET", "/v2/usermanagement/organizations/"+testOrg+"/users/ana@example.org?domain=example.org", "", nil)
	if resp.StatusCode != 200 || one["user"].(map[string]any)["email"] != "ana@example.org" {
		t.Errorf("single user = %d %v", resp.StatusCode, one)
	}
	resp, _ = pyRequest(t, c, "GET", "/v2/usermanagement/organizations/"+testOrg+"/users/nobody@example.org", "", nil)
	if resp.StatusCode != 404 {
		t.Errorf("missing single user = %d; want 404 (the client maps it to {})", resp.StatusCode)
	}

	// A UST batch: creates, updates, removals, a stray removal by username,
	// an auto-created user group, and an Adobe ID by useAdobeID; first in
	// test mode, then for real with the sync-end marker.
	batch := `[{"do": [{"createFederatedID": {"email": "jdoe@example.org", "country": "US", "firstname": "John", "lastname": "Doe", "option": "updateIfAlreadyExists"}}, {"add": {"group": ["Acrobat", "Design Team"]}}], "requestID": "action_1", "user": "jdoe@example.org"}, ` +
		`{"do": [{"update": {"firstname": "Ana", "lastname": "Ruiz-Gomez"}}], "requestID": "action_2", "user": "ana@example.org"}, ` +
		`{"do": [{"remove": {"group": ["Design Team"]}}], "requestID": "action_3", "user": "ana@example.org"}, ` +
		`{"do": [{"removeFromOrg": {"deleteAccount": false}}], "requestID": "action_4", "user": "kobi", "domain": "example.org"}, ` +
		`{"do": [{"createUserGroup": {"option": "ignoreIfAlreadyExists", "description": "Automatically created by User Sync Tool"}}], "usergroup": "New Team"}, ` +
		`{"do": [{"add": {"group": ["Acrobat"]}}], "requestID": "action_5", "user": "pat@gmail.com", "useAdobeID": true}, ` +
		`{"do": [{"add": {"group": ["No Such Group"]}}], "requestID": "action_6", "user": "li@ent.example.com"}]`
	_, res := pyRequest(t, c, "POST", "/v2/usermanagement/action/"+testOrg+"?testOnly=true", batch, nil)
	wantTest := map[string]any{"result": "partial", "completed": 0.0, "notCompleted": 1.0, "completedInTestMode": 6.0,
		"errors": []any{map[string]any{"index": 6.0, "step": 0.0, "requestID": "action_6", "user": "li@ent.example.com",
			"errorCode": "error.group.not_found", "message": "Group No Such Group was not found"}}}
	if diff := cmp.Diff(wantTest, res); diff != "" {
		t.Errorf("testOnly batch (-want +got):\n%s", diff)
	}
	_, res = pyRequest(t, c, "POST", "/v2/usermanagement/action/"+testOrg, batch, map[string]string{"Pragma": "umapi-sync-end"})
	wantReal := map[string]any{"result": "partial", "completed": 6.0, "notCompleted": 1.0, "completedInTestMode": 0.0,
		"errors": wantTest["errors"]}
	if diff := cmp.Diff(wantReal, res); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
	st := c.sim.State()
	if u := findUser(st, "jdoe@example.org"); u == nil || strings.Join(u.Groups, ",") != "Acrobat,Design Team" {
		t.Errorf("jdoe = %+v", u)
	}
	if u := findUser(st, "ana@example.org"); u == nil || u.Lastname != "Ruiz-Gomez" || strings.Join(u.Groups, ",") != "_org_admin" {
		t.Errorf("ana = %+v", u)
	}
	if findUser(st, "k.obi@example.org") != nil {
		t.Errorf("kobi is still in the org")
	}
}
