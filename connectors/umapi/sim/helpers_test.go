package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testOrg = "1234567890ABCDEF@AdobeOrg"

const testSeedJSON = `{
  "org_id": "1234567890ABCDEF@AdobeOrg",
  "client_id": "sim-client", "client_secret": "sim-secret",
  "domains": [{"name": "example.org", "type": "federatedID"},
              {"name": "ent.example.com", "type": "enterpriseID"},
              {"name": "partner.org", "type": "federatedID", "trusted": true}],
  "groups": [{"name": "Design Team", "type": "USER_GROUP", "productConfigurations": ["All Apps"]},
             {"name": "All Apps", "type": "PRODUCT_PROFILE", "productName": "Creative Cloud"},
             {"name": "Acrobat", "type": "PRODUCT_PROFILE", "productName": "Acrobat Pro"},
             {"name": "Shared", "type": "USER_GROUP", "readOnly": true}],
  "users": [
    {"email": "ana@example.org", "username": "ana@example.org", "domain": "example.org", "type": "federatedID",
     "firstname": "Ana", "lastname": "Ruiz", "country": "ES", "groups": ["Design Team", "_org_admin"]},
    {"email": "k.obi@example.org", "username": "kobi", "domain": "example.org", "type": "federatedID",
     "firstname": "K", "lastname": "Obi", "country": "NG"},
    {"email": "li@ent.example.com", "type": "enterpriseID", "firstname": "Li", "lastname": "Wei", "country": "SG",
     "groups": ["Acrobat"]},
    {"email": "pat@gmail.com", "type": "adobeID", "groups": ["Acrobat"]},
    {"email": "sam@partner.org", "type": "federatedID", "firstname": "Sam", "lastname": "Lee", "country": "US"}
  ]
}`

func testSeed(t testing.TB) *Seed {
	t.Helper()
	s, err := ParseSeed([]byte(testSeedJSON))
	if err != nil {
		t.Fatalf("ParseSeed(test seed) = %v", err)
	}
	return s
}

// testClient talks to a simulator over real HTTP, as a UMAPI client would.
type testClient struct {
	t     testing.TB
	sim   *Server
	base  string
	hc    *http.Client
	token string
	key   string
	clock *fakeClock
}

// newTestSim starts a simulator with opts (the test seed and a fake clock
// unless given) behind httptest and returns a client holding a token.
func newTestSim(t testing.TB, opts Options) *testClient {
	t.Helper()
	if opts.Seed == nil {
		opts.Seed = testSeed(t)
	}
	fc, _ := opts.Clock.(*fakeClock)
	if opts.Clock == nil {
		fc = newFakeClock()
		opts.Clock = fc
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	c := &testClient{t: t, sim: s, base: ts.URL, hc: ts.Client(), key: opts.Seed.ClientID, clock: fc}
	if c.key == "" {
		c.key = DefaultClientID
	}
	c.token = c.getToken()
	return c
}

func (c *testClient) getToken() string {
	c.t.Helper()
	secret := c.sim.org.clientSecret
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.key},
		"client_secret": {secret}, "scope": {"openid,AdobeID,user_management_sdk"}}
	resp, err := c.hc.PostForm(c.base+"/ims/token/v2/", form)
	if err != nil {
		c.t.Fatalf("token: %v", err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&tr) != nil {
		c.t.Fatalf("token: status %d", resp.StatusCode)
	}
	return tr.AccessToken
}

// do sends an authenticated UMAPI request; path is relative to
// /v2/usermanagement.
func (c *testClient) do(method, path, body string) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+"/v2/usermanagement"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Api-Key", c.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, data
}

// action posts commands (a JSON array) and decodes the 200 answer.
func (c *testClient) action(cmds string, testOnly bool) actionResult {
	c.t.Helper()
	path := "/action/" + testOrg
	if testOnly {
		path += "?testOnly=true"
	}
	resp, data := c.do("POST", path, cmds)
	if resp.StatusCode != 200 {
		c.t.Fatalf("POST %s = %d %s; want 200", path, resp.StatusCode, data)
	}
	var res actionResult
	if err := json.Unmarshal(data, &res); err != nil {
		c.t.Fatalf("action response %s: %v", data, err)
	}
	return res
}

// user finds a user in the simulator's state by email (any type order).
func (c *testClient) user(email string) *SeedUser {
	for _, u := range c.sim.State().Users {
		if strings.EqualFold(u.Email, email) {
			return &u
		}
	}
	return nil
}

// errs summarises errors[] as "index/step code".
func errs(r actionResult) []string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, fmt.Sprintf("%d/%d %s", e.Index, e.Step, e.ErrorCode))
	}
	return out
}

func mustJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return b.String()
}
