package umapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core"
)

func TestUsersReadsEveryPage(t *testing.T) {
	e := startSim(t, sim.Options{Seed: bigSeed(4500, "Marketing")})
	c := e.client(t, nil)
	rep := &recReporter{}
	users, err := c.Users(bg, core.AdobeQuery{All: true}, rep)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	if len(users) != 4503 {
		t.Fatalf("Users returned %d users; want 4503", len(users))
	}
	var ana core.AdobeUser
	for _, u := range users {
		if u.Email == "ana@example.org" {
			ana = u
		}
	}
	want := core.AdobeUser{Type: core.FederatedID, Username: "ana@example.org", Domain: "example.org", Email: "ana@example.org",
		Firstname: "Ana", Lastname: "Ruiz", Country: "ES", Groups: []string{"Design Team", "All Apps"}, Status: "active"}
	if diff := cmp.Diff(want, ana); diff != "" {
		t.Errorf("ana mismatch (-want +got):\n%s", diff)
	}
	pages := e.rec.requests("/v2/usermanagement/users/")
	if len(pages) != 3 {
		t.Fatalf("%d page requests; want 3", len(pages))
	}
	// UST's sync signals: start on page 0, end on the last page.
	for _, p := range pages {
		want := ""
		switch {
		case strings.HasSuffix(p.Path, "/0"):
			want = "umapi-sync-start"
		case strings.HasSuffix(p.Path, "/2"):
			want = "umapi-sync-end"
		}
		if got := p.Header.Get("Pragma"); got != want {
			t.Errorf("%s Pragma = %q; want %q", p.Path, got, want)
		}
		if p.Query != "directOnly=true" {
			t.Errorf("%s query = %q; want directOnly=true", p.Path, p.Query)
		}
	}
	last := rep.progress[len(rep.progress)-1]
	if last.Users != 4503 || last.Pages != 3 || last.PagesTotal != 3 || last.Phase != core.PhaseAdobe {
		t.Errorf("final progress = %+v; want 4503 users, 3 of 3 pages", last)
	}
}

func TestUsersOfGroups(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.client(t, nil)
	users, err := c.Users(bg, core.AdobeQuery{Groups: []string{"Acrobat", "All Apps", "No Such Group"}}, nil)
	if err != nil {
		t.Fatalf("Users: %v", err)
	}
	var got []string
	for _, u := range users {
		got = append(got, u.Email)
	}
	slices.Sort(got)
	if diff := cmp.Diff([]string{"ana@example.org", "li@ent.example.com", "pat@gmail.com"}, got); diff != "" {
		t.Errorf("members mismatch (-want +got):\n%s", diff)
	}
	paths := e.rec.requests("/v2/usermanagement/users/")
	if len(paths) != 3 || !strings.HasSuffix(paths[1].Path, "/0/All Apps") {
		t.Errorf("requests = %+v; want one per group, the group name in the path", paths)
	}
}

func TestGroups(t *testing.T) {
	seed := testSeed()
	for i := range 450 {
		seed.Groups = append(seed.Groups, sim.SeedGroup{Name: fmt.Sprintf("Team %03d", i), Type: "USER_GROUP"})
	}
	e := startSim(t, sim.Options{Seed: seed})
	groups, err := e.client(t, nil).Groups(bg, nil)
	if err != nil {
		t.Fatalf("Groups: %v", err)
	}
	byName := map[string]core.AdobeGroup{}
	for _, g := range groups {
		byName[g.Name] = g
	}
	if len(byName) != len(groups) || len(groups) < 454 {
		t.Errorf("Groups returned %d groups (%d distinct); want at least 454 distinct", len(groups), len(byName))
	}
	if g := byName["All Apps"]; g.Type != "PRODUCT_PROFILE" || g.ProductName != "Creative Cloud" || g.MemberCount != 1 {
		t.Errorf("All Apps = %+v; want a product profile of Creative Cloud with 1 member", g)
	}
	if n := len(e.rec.requests("/v2/usermanagement/groups/")); n != 2 {
		t.Errorf("%d groups page requests; want 2 (400 a page)", n)
	}
}

func TestHeadersAndToken(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.client(t, func(o *Options) { o.UserAgent = "usersync/test" })
	if err := c.Token(bg); err != nil {
		t.Fatalf("Token: %v", err)
	}
	if _, err := c.Groups(bg, nil); err != nil {
		t.Fatalf("Groups: %v", err)
	}
	if _, err := c.Groups(bg, nil); err != nil {
		t.Fatalf("Groups: %v", err)
	}
	toks := e.rec.requests("/ims/token/")
	if len(toks) != 1 {
		t.Fatalf("%d token requests; want 1 (the token is cached)", len(toks))
	}
	form, _ := url.ParseQuery(toks[0].Body)
	if form.Get("grant_type") != "client_credentials" || form.Get("scope") != "openid,AdobeID,user_management_sdk" ||
		form.Get("client_id") != sim.DefaultClientID || toks[0].Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("token request form = %v, content type %q", form, toks[0].Header.Get("Content-Type"))
	}
	reqID := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}_\d{13}$`)
	for _, r := range e.rec.requests("/v2/") {
		h := r.Header
		if !strings.HasPrefix(h.Get("Authorization"), "Bearer sim.") || h.Get("X-Api-Key") != sim.DefaultClientID ||
			!reqID.MatchString(h.Get("X-Request-Id")) || !strings.HasPrefix(h.Get("User-Agent"), "usersync/test ") ||
			h.Get("Content-Type") != "application/json" {
			t.Errorf("headers of %s = %v", r.Path, h)
		}
	}
}

func TestSendEveryStep(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.client(t, nil)
	req := core.ActionRequest{SyncStart: true, Commands: []core.Command{
		{User: "new@example.org", RequestID: "action_1", Steps: []core.Step{
			{Kind: core.StepCreateFederatedID, Attrs: map[string]string{"email": "new@example.org", "firstname": "N", "lastname": "W", "country": "DE"}, Option: core.OptionIgnoreIfExists},
			{Kind: core.StepAdd, Groups: []string{"all apps", "design team"}},
		}},
		{User: "ent@ent.example.com", Steps: []core.Step{
			{Kind: core.StepCreateEnterpriseID, Attrs: map[string]string{"email": "ent@ent.example.com", "firstname": "E", "lastname": "Nt", "country": "UD"}, Option: core.OptionUpdateIfExists},
		}},
		{User: "joe@gmail.com", UseAdobeID: true, Steps: []core.Step{
			{Kind: core.StepAddAdobeID, Attrs: map[string]string{"email": "joe@gmail.com"}, Option: core.OptionIgnoreIfExists},
			{Kind: core.StepAdd, Groups: []string{"acrobat"}},
		}},
		{User: "ana@example.org", Steps: []core.Step{
			{Kind: core.StepUpdate, Attrs: map[string]string{"firstname": "Anabel"}},
			{Kind: core.StepRemove, Groups: []string{"all apps"}},
			{Kind: core.StepAdd, Groups: []string{"acrobat"}},
		}},
		{User: "li@ent.example.com", Steps: []core.Step{{Kind: core.StepRemove, All: true}}},
		{User: "pat@gmail.com", UseAdobeID: true, Steps: []core.Step{{Kind: core.StepRemoveFromOrg, DeleteAccount: false}}},
		{UserGroup: "Auto Team", Steps: []core.Step{
			{Kind: core.StepCreateUserGroup, Option: core.OptionIgnoreIfExists, Description: "made by a test"},
			{Kind: core.StepAdd, Users: []string{"ana@example.org"}},
		}},
		{UserGroup: "Design Team", Steps: []core.Step{{Kind: core.StepRemove, Users: []string{"ana@example.org"}}}},
	}}
	resp, err := c.Send(bg, req, nil)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if diff := cmp.Diff(core.ActionResponse{Result: "success", Completed: 8}, resp); diff != "" {
		t.Errorf("Send response mismatch (-want +got):\n%s", diff)
	}
	posts := e.rec.requests("/v2/usermanagement/action/")
	if len(posts) != 1 || posts[0].Header.Get("Pragma") != "umapi-sync-start" {
		t.Fatalf("posts = %+v; want one with Pragma umapi-sync-start", posts)
	}
	var body []map[string]any
	if err := json.Unmarshal([]byte(posts[0].Body), &body); err != nil {
		t.Fatalf("request body is not JSON: %v", err)
	}
	if got := fmt.Sprint(body[4]["do"]); got != "[map[remove:all]]" {
		t.Errorf("remove-all step = %s; want [map[remove:all]]", got)
	}
	if got := fmt.Sprint(body[5]["do"]); got != "[map[removeFromOrg:map[deleteAccount:false]]]" {
		t.Errorf("removeFromOrg step = %s", got)
	}
	state := e.sim.State()
	users := map[string]sim.SeedUser{}
	for _, u := range state.Users {
		users[u.Email] = u
	}
	groupsOf := func(email string) []string {
		g := slices.Clone(users[email].Groups)
		slices.Sort(g)
		return g
	}
	if diff := cmp.Diff([]string{"All Apps", "Design Team"}, groupsOf("new@example.org")); diff != "" {
		t.Errorf("new user's groups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Acrobat", "Auto Team"}, groupsOf("ana@example.org")); diff != "" {
		t.Errorf("ana's groups (-want +got):\n%s", diff)
	}
	if users["ana@example.org"].Firstname != "Anabel" || len(users["li@ent.example.com"].Groups) != 0 {
		t.Errorf("ana = %+v, li = %+v; want ana renamed and li in no group", users["ana@example.org"], users["li@ent.example.com"])
	}
	if _, ok := users["pat@gmail.com"]; ok {
		t.Errorf("pat@gmail.com is still in the org")
	}
	if _, ok := users["ent@ent.example.com"]; !ok {
		t.Errorf("the enterprise user was not created")
	}
}

func TestSendTestOnlyAndPartialSuccess(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.client(t, nil)
	req := core.ActionRequest{TestOnly: true, SyncEnd: true, Commands: []core.Command{
		{User: "ana@example.org", RequestID: "action_1", Steps: []core.Step{{Kind: core.StepAdd, Groups: []string{"acrobat"}}}},
	}}
	resp, err := c.Send(bg, req, nil)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if resp.CompletedInTestMode != 1 || resp.Completed != 0 {
		t.Errorf("test-mode response = %+v; want completedInTestMode 1", resp)
	}
	posts := e.rec.requests("/v2/usermanagement/action/")
	if posts[0].Query != "testOnly=true" || posts[0].Header.Get("Pragma") != "umapi-sync-end" {
		t.Errorf("test-mode post query %q, Pragma %q", posts[0].Query, posts[0].Header.Get("Pragma"))
	}
	req = core.ActionRequest{Commands: []core.Command{
		{User: "ana@example.org", RequestID: "action_1", Steps: []core.Step{
			{Kind: core.StepAdd, Groups: []string{"acrobat"}},
			{Kind: core.StepAdd, Groups: []string{"nonexistent profile"}},
		}},
		{User: "li@ent.example.com", RequestID: "action_2", Steps: []core.Step{{Kind: core.StepAdd, Groups: []string{"all apps"}}}},
	}}
	resp, err = c.Send(bg, req, nil)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if resp.Result != "partial" || resp.Completed != 1 || resp.NotCompleted != 1 || len(resp.Errors) != 1 {
		t.Fatalf("response = %+v; want partial with one error", resp)
	}
	if e0 := resp.Errors[0]; e0.Index != 0 || e0.Step != 1 || e0.RequestID != "action_1" || e0.Code != "error.group.not_found" {
		t.Errorf("error = %+v; want index 0 step 1 action_1 error.group.not_found", e0)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name     string
		header   func() string
		min, max time.Duration
	}{
		{"seconds", func() string { return "7" }, 7 * time.Second, 7 * time.Second},
		{"HTTP date", func() string { return time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat) }, 28 * time.Second, 31 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startSim(t, sim.Options{})
			e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
				if strings.Contains(r.URL.Path, "/action/") && len(e.rec.requests("/v2/usermanagement/action/")) == 1 {
					w.Header().Set("Retry-After", tt.header())
					w.WriteHeader(http.StatusTooManyRequests)
					w.Write([]byte(`{"error_code":"429050","message":"Too many requests"}`))
					return true
				}
				return false
			}
			c := e.client(t, nil)
			rep := &recReporter{}
			resp, err := c.Send(bg, removeAll("ana@example.org"), rep)
			if err != nil || resp.Completed != 1 {
				t.Fatalf("Send = %+v, %v; want success after one retry", resp, err)
			}
			waits := rep.waits(t)
			if len(waits) != 1 {
				t.Fatalf("throttle reports = %+v; want one wait", rep.throttles)
			}
			w := waits[0]
			if w.Wait < tt.min || w.Wait > tt.max || w.Kind != core.WaitThrottled || w.Status != 429 || w.Cause != "429 Retry-After" || w.Attempt != 1 {
				t.Errorf("throttle report = %+v; want a %v..%v wait caused by 429 Retry-After", w, tt.min, tt.max)
			}
			if waits := e.clock.Waits(); len(waits) != 1 || waits[0] != w.Wait {
				t.Errorf("clock waits = %v; want [%v]", waits, w.Wait)
			}
			if !strings.Contains(e.logText(), "HTTP 429") || !strings.Contains(e.logText(), "Next retry in") {
				t.Errorf("log lacks the retry lines:\n%s", e.logText())
			}
		})
	}
}

func removeAll(user string) core.ActionRequest {
	return core.ActionRequest{Commands: []core.Command{{User: user, Steps: []core.Step{{Kind: core.StepRemove, All: true}}}}}
}

func TestRetriesGiveUp(t *testing.T) {
	tests := []struct {
		status   int
		wantCode core.ErrorCode
	}{
		{http.StatusServiceUnavailable, core.CodeUnavailable},
		{http.StatusBadGateway, core.CodeUnavailable},
		{http.StatusGatewayTimeout, core.CodeUnavailable},
		{http.StatusTooManyRequests, core.CodeThrottled},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			e := startSim(t, sim.Options{})
			e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
				if strings.Contains(r.URL.Path, "/action/") {
					w.WriteHeader(tt.status)
					return true
				}
				return false
			}
			c := e.client(t, func(o *Options) { o.Backoff = time.Second })
			rep := &recReporter{}
			_, err := c.Send(bg, removeAll("ana@example.org"), rep)
			if core.Code(err) != tt.wantCode {
				t.Fatalf("Send error = %v (%v); want %v", err, core.Code(err), tt.wantCode)
			}
			wantKind := core.WaitBackoff
			if tt.status == http.StatusTooManyRequests {
				wantKind = core.WaitThrottled
			}
			for _, w := range rep.waits(t) {
				if w.Kind != wantKind || w.Status != tt.status {
					t.Errorf("wait %+v; want %s after HTTP %d", w, wantKind, tt.status)
				}
			}
			if n := len(e.rec.requests("/v2/usermanagement/action/")); n != 3 {
				t.Errorf("%d attempts; want 3", n)
			}
			// Exponential backoff with jitter: 1s+0..0.33s, then 2s+0..0.33s.
			waits := e.clock.Waits()
			if len(waits) != 2 || waits[0] < time.Second || waits[0] > 1400*time.Millisecond ||
				waits[1] < 2*time.Second || waits[1] > 2400*time.Millisecond {
				t.Errorf("waits = %v; want about 1s then 2s", waits)
			}
			if !strings.Contains(e.logText(), "giving up after 3 attempts") {
				t.Errorf("log lacks the give-up line:\n%s", e.logText())
			}
		})
	}
}

func TestConnectionResetIsRetried(t *testing.T) {
	e := startSim(t, sim.Options{})
	var resets atomic.Int32
	e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/action/") && resets.Add(1) == 1 {
			// Apply the request, then drop the connection before the
			// answer: the client must resend, harmlessly.
			e.rec.next.ServeHTTP(httptest.NewRecorder(), r)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return true
			}
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
			return true
		}
		return false
	}
	c := e.client(t, nil)
	req := core.ActionRequest{Commands: []core.Command{{User: "new@example.org", Steps: []core.Step{
		{Kind: core.StepCreateFederatedID, Attrs: map[string]string{"email": "new@example.org", "firstname": "N", "lastname": "W", "country": "US"}, Option: core.OptionIgnoreIfExists},
		{Kind: core.StepAdd, Groups: []string{"acrobat"}},
	}}}}
	rep := &recReporter{}
	resp, err := c.Send(bg, req, rep)
	if err != nil || resp.Result != "success" {
		t.Fatalf("Send = %+v, %v; want success on the second attempt", resp, err)
	}
	if waits := rep.waits(t); len(waits) != 1 || waits[0].Kind != core.WaitBackoff || waits[0].Status != 0 ||
		waits[0].Reason() != "backing off after a connection error" {
		t.Errorf("waits = %+v; want one backoff after a connection error", waits)
	}
	if n := len(e.rec.requests("/v2/usermanagement/action/")); n != 2 {
		t.Errorf("%d attempts; want 2", n)
	}
	if !strings.Contains(e.logText(), "connection error") {
		t.Errorf("log lacks the connection error line:\n%s", e.logText())
	}
}

func TestMalformedJSONIsRetried(t *testing.T) {
	e := startSim(t, sim.Options{})
	var bad atomic.Int32
	e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/v2/") && bad.Add(1) <= 2 {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"result": "succ`))
			return true
		}
		return false
	}
	c := e.client(t, nil)
	if _, err := c.Users(bg, core.AdobeQuery{All: true}, nil); err != nil {
		t.Fatalf("Users after a malformed page: %v", err)
	}
	if _, err := c.Send(bg, removeAll("ana@example.org"), nil); err != nil {
		t.Fatalf("Send after a malformed answer: %v", err)
	}
	// Malformed every time: the read fails, never returns a partial list.
	e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte(`[`))
		return strings.Contains(r.URL.Path, "/v2/")
	}
	if users, err := c.Users(bg, core.AdobeQuery{All: true}, nil); err == nil || users != nil {
		t.Errorf("Users = %d users, %v; want an error and no users", len(users), err)
	}
}

func TestExpiredTokenIsRenewedOnce(t *testing.T) {
	clock := &simClock{}
	e := startSim(t, sim.Options{Clock: clock})
	c := e.client(t, nil)
	if _, err := c.Groups(bg, nil); err != nil {
		t.Fatalf("Groups: %v", err)
	}
	clock.advance(25 * time.Hour) // the server's view: the token expired
	if _, err := c.Groups(bg, nil); err != nil {
		t.Fatalf("Groups with an expired token: %v", err)
	}
	if n := len(e.rec.requests("/ims/token/")); n != 2 {
		t.Errorf("%d token requests; want 2", n)
	}
	// A server that refuses every token: one renewal, then Unauthenticated.
	e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/v2/") {
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		return false
	}
	_, err := c.Groups(bg, nil)
	if core.Code(err) != core.CodeUnauthenticated {
		t.Errorf("Groups error = %v; want unauthenticated", err)
	}
	if n := len(e.rec.requests("/ims/token/")); n != 3 {
		t.Errorf("%d token requests; want 3", n)
	}
}

// simClock is the simulator's clock, moved by the test.
type simClock struct {
	off atomic.Int64
}

func (c *simClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *simClock) advance(d time.Duration) { c.off.Add(int64(d)) }

func TestErrorCodes(t *testing.T) {
	e := startSim(t, sim.Options{})
	const secret = "very-secret-value"
	_, err := e.client(t, func(o *Options) { o.ClientSecret = secret }).Users(bg, core.AdobeQuery{All: true}, nil)
	if core.Code(err) != core.CodeUnauthenticated || strings.Contains(err.Error(), secret) {
		t.Errorf("wrong secret: %v; want unauthenticated, without the secret", err)
	}
	if strings.Contains(e.logText(), secret) {
		t.Errorf("the log shows the secret:\n%s", e.logText())
	}
	_, err = e.client(t, func(o *Options) { o.OrgID = "0000000000000000@AdobeOrg" }).Groups(bg, nil)
	if core.Code(err) != core.CodeNotFound {
		t.Errorf("wrong org: %v; want not found", err)
	}
	e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/v2/") {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	}
	_, err = e.client(t, nil).Groups(bg, nil)
	if core.Code(err) != core.CodePermissionDenied {
		t.Errorf("403: %v; want permission denied", err)
	}
	e.rec.intercept = nil
	_, err = e.client(t, nil).Send(bg, core.ActionRequest{Commands: []core.Command{{User: "x@example.org"}}}, nil)
	if core.Code(err) != core.CodeInvalidInput {
		t.Errorf("empty command: %v; want invalid input before sending", err)
	}
}

func TestReadsFailClosed(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(page string, w http.ResponseWriter, r *http.Request, next http.Handler) bool
		want   core.ErrorCode
	}{{
		name: "page count changes",
		tamper: func(page string, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if page != "1" {
				return false
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("X-Page-Count", "4")
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return true
		},
		want: core.CodeInconsistent,
	}, {
		name: "truncated page",
		tamper: func(page string, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if page != "1" {
				return false
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			json.Unmarshal(rec.Body.Bytes(), &body)
			body["users"] = body["users"].([]any)[:100]
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			json.NewEncoder(w).Encode(body)
			return true
		},
		want: core.CodeInconsistent,
	}, {
		name: "page repeated",
		tamper: func(page string, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if page != "2" {
				return false
			}
			r.URL.Path = strings.TrimSuffix(r.URL.Path, "/2") + "/1"
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("X-Current-Page", "2")
			w.Header().Set("X-Page-Size", rec.Header().Get("X-Page-Size"))
			var body map[string]any
			json.Unmarshal(rec.Body.Bytes(), &body)
			body["lastPage"] = true
			w.Header().Del("Content-Length")
			json.NewEncoder(w).Encode(body)
			return true
		},
		want: core.CodeInconsistent,
	}, {
		name: "page unavailable",
		tamper: func(page string, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if page != "1" {
				return false
			}
			w.WriteHeader(http.StatusBadGateway)
			return true
		},
		want: core.CodeUnavailable,
	}, {
		name: "group vanishes",
		tamper: func(page string, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
			if page != "1" {
				return false
			}
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"result":"error.group.not_found"}`))
			return true
		},
		want: core.CodeInconsistent,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startSim(t, sim.Options{Seed: bigSeed(5000)})
			e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
				parts := strings.Split(r.URL.Path, "/")
				if !strings.Contains(r.URL.Path, "/users/") || len(parts) < 6 {
					return false
				}
				return tt.tamper(parts[5], w, r, e.rec.next)
			}
			users, err := e.client(t, nil).Users(bg, core.AdobeQuery{All: true}, nil)
			if core.Code(err) != tt.want || users != nil {
				t.Errorf("Users = %d users, %v (%v); want no users and %v", len(users), err, core.Code(err), tt.want)
			}
		})
	}
}

func TestTLSAndCABundle(t *testing.T) {
	dir := t.TempDir()
	s, err := sim.New(sim.Options{Seed: testSeed(), TLSDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	t.Setenv("REQUESTS_CA_BUNDLE", "")
	t.Setenv("SSL_CERT_FILE", "")
	mk := func(mod func(*Options)) *Client {
		o := Options{Host: base, AuthHost: base, OrgID: sim.DefaultOrgID, ClientID: sim.DefaultClientID,
			ClientSecret: sim.DefaultClientSecret, SSLVerify: true, Retries: 1, Clock: &instantClock{}}
		mod(&o)
		c, err := New(o)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return c
	}
	if err := mk(func(*Options) {}).Token(bg); err == nil {
		t.Errorf("Token without the CA: no error; want a certificate error")
	}
	if err := mk(func(o *Options) { o.CABundle = filepath.Join(dir, "ca.pem") }).Token(bg); err != nil {
		t.Errorf("Token with the CA bundle: %v", err)
	}
	t.Setenv("REQUESTS_CA_BUNDLE", filepath.Join(dir, "ca.pem"))
	if err := mk(func(*Options) {}).Token(bg); err != nil {
		t.Errorf("Token with REQUESTS_CA_BUNDLE: %v", err)
	}
	t.Setenv("REQUESTS_CA_BUNDLE", "")
	if err := mk(func(o *Options) { o.SSLVerify = false }).Token(bg); err != nil {
		t.Errorf("Token with ssl_verify false: %v", err)
	}
	if _, err := New(Options{OrgID: "o", ClientID: "c", ClientSecret: "s", CABundle: filepath.Join(dir, "missing.pem")}); core.Code(err) != core.CodeInvalidInput {
		t.Errorf("New with a missing CA bundle: %v; want invalid input", err)
	}
}

func TestProxy(t *testing.T) {
	e := startSim(t, sim.Options{})
	target, _ := url.Parse(e.url)
	var proxied atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	purl, _ := url.Parse(proxy.URL)
	c := e.client(t, func(o *Options) { o.Proxy = http.ProxyURL(purl) })
	if _, err := c.Groups(bg, nil); err != nil {
		t.Fatalf("Groups through the proxy: %v", err)
	}
	if proxied.Load() != 2 {
		t.Errorf("%d requests went through the proxy; want 2 (token, groups)", proxied.Load())
	}
}

func TestHostWithAndWithoutScheme(t *testing.T) {
	tests := []struct{ host, path, want string }{
		{"usermanagement.adobe.io", "/v2/usermanagement", "https://usermanagement.adobe.io/v2/usermanagement"},
		{"http://127.0.0.1:8080/", "v2/usermanagement/", "http://127.0.0.1:8080/v2/usermanagement"},
		{"https://ims-na1.adobelogin.com", "/ims/token/v2", "https://ims-na1.adobelogin.com/ims/token/v2"},
	}
	for _, tt := range tests {
		if got, err := joinURL(tt.host, tt.path); err != nil || got != tt.want {
			t.Errorf("joinURL(%q, %q) = %q, %v; want %q", tt.host, tt.path, got, err, tt.want)
		}
	}
	if _, err := joinURL("ftp://x", "/"); err == nil {
		t.Errorf("joinURL(ftp://x) = nil error; want an error")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		h    map[string]string
		want time.Duration
		ok   bool
	}{
		{map[string]string{"Retry-After": "120"}, 2 * time.Minute, true},
		{map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second, true},
		{map[string]string{"Retry-After": now.Add(-time.Second).Format(http.TimeFormat)}, 0, false},
		{map[string]string{"Retry-After": "0"}, 0, false},
		{map[string]string{"Retry-After": "soon"}, 0, false},
		{map[string]string{"Retry-After": "1", "Retry-After-Ms": "250"}, 250 * time.Millisecond, true},
		{map[string]string{}, 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.h {
			h.Set(k, v)
		}
		got, ok := parseRetryAfter(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%v) = %v, %v; want %v, %v", tt.h, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseActionResponse(t *testing.T) {
	got, err := ParseActionResponse([]byte(`{"result":"partial","completed":1,"notCompleted":1,"completedInTestMode":0,
		"errors":[{"index":1,"step":"0","requestID":"action_2","user":"m@e.org","errorCode":"error.group.not_found","message":"m"}],
		"warnings":[{"index":0,"warningCode":"warning.command.deprecated","message":"w"}]}`))
	if err != nil {
		t.Fatalf("ParseActionResponse: %v", err)
	}
	want := core.ActionResponse{Result: "partial", Completed: 1, NotCompleted: 1,
		Errors:   []core.ActionIssue{{Index: 1, Step: 0, RequestID: "action_2", User: "m@e.org", Code: "error.group.not_found", Message: "m"}},
		Warnings: []core.ActionIssue{{Index: 0, Step: -1, Code: "warning.command.deprecated", Message: "w"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseActionResponse mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{``, `[]`, `{}`, `{"result":""}`, `{"result":"error","errors":[{"step":1}]}`, `{"result":"success","completed":"x"}`} {
		if _, err := ParseActionResponse([]byte(bad)); err == nil {
			t.Errorf("ParseActionResponse(%q) = nil error; want an error", bad)
		}
	}
}

func FuzzParseActionResponse(f *testing.F) {
	f.Add([]byte(`{"result":"success","completed":3,"notCompleted":0,"completedInTestMode":0}`))
	f.Add([]byte(`{"result":"partial","completed":1,"notCompleted":1,"errors":[{"index":1,"step":0,"errorCode":"e","message":"m"}]}`))
	f.Add([]byte(`{"result":"error.command.malformed","message":"bad"}`))
	f.Add([]byte(`{"result":"x","errors":[{"index":"2","step":"1"}],"warnings":[{"index":0}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := ParseActionResponse(data)
		if err != nil {
			return
		}
		if resp.Result == "" {
			t.Errorf("accepted a response without a result: %q", data)
		}
		for _, e := range append(resp.Errors, resp.Warnings...) {
			if e.Index < 0 {
				t.Errorf("accepted a negative index: %+v", e)
			}
		}
	})
}

func TestSendCancel(t *testing.T) {
	e := startSim(t, sim.Options{})
	e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/action/") {
			time.Sleep(300 * time.Millisecond) // the request is on the wire
		}
		return false
	}
	c := e.client(t, nil)
	if err := c.Token(bg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	time.AfterFunc(50*time.Millisecond, cancel)
	resp, err := c.Send(ctx, removeAll("ana@example.org"), nil)
	if err != nil || resp.Completed != 1 {
		t.Errorf("Send cancelled in flight = %+v, %v; want the server's answer", resp, err)
	}

	// Cancelled while waiting to retry: no further attempt.
	e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/action/") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	c = e.client(t, func(o *Options) { o.Clock = core.SystemClock{}; o.Backoff = time.Minute })
	ctx, cancel = context.WithCancel(bg)
	time.AfterFunc(100*time.Millisecond, cancel)
	before := len(e.rec.requests("/v2/usermanagement/action/"))
	_, err = c.Send(ctx, removeAll("ana@example.org"), nil)
	if core.Code(err) != core.CodeCanceled {
		t.Errorf("Send cancelled during the backoff: %v; want canceled", err)
	}
	if n := len(e.rec.requests("/v2/usermanagement/action/")) - before; n != 1 {
		t.Errorf("%d attempts; want 1", n)
	}
}

// BenchmarkUsers reads an org of 200,000 users (100 pages) from the
// simulator with throttling off: the client's own cost of a big read.
func BenchmarkUsers(b *testing.B) {
	e := startSim(b, sim.Options{Seed: bigSeed(200000, "Design Team", "All Apps")})
	c := e.client(b, nil)
	for b.Loop() {
		users, err := c.Users(bg, core.AdobeQuery{All: true}, nil)
		if err != nil || len(users) != 200003 {
			b.Fatalf("Users = %d, %v", len(users), err)
		}
	}
}
