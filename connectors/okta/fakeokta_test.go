package okta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOkta speaks the part of Okta's API the connector uses: the group
// search (q= prefix match), group member listing with Link paging, SSWS
// authentication, and rate-limit headers. Faults are injected per test.
type fakeOkta struct {
	token  string
	groups []fakeGroup
	users  map[string]map[string]any
	now    func() time.Time

	mu sync.Mutex
	// throttle429 answers the next N requests with 429.
	throttle429 int
	// fail5xx answers the next N requests with 500 (-1: always).
	fail5xx int
	// remainingZero sends X-Rate-Limit-Remaining: 0 on successful replies.
	remainingZero bool
	// foreignNext makes member pages link to another host.
	foreignNext bool
	requests    []string
	auths       []string
}

type fakeGroup struct {
	id, name string
	members  []string
}

func (f *fakeOkta) start(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return srv
}

func oktaError(w http.ResponseWriter, status int, code, summary string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errorCode": code, "errorSummary": summary, "errorId": "oae123", "errorCauses": []any{}})
}

func (f *fakeOkta) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.URL.RequestURI())
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	reset := strconv.FormatInt(f.now().Add(30*time.Second).Unix(), 10)
	w.Header().Set("X-Rate-Limit-Limit", "600")
	w.Header().Set("X-Rate-Limit-Reset", reset)
	if r.Header.Get("Authorization") != "SSWS "+f.token {
		f.mu.Unlock()
		oktaError(w, 401, "E0000011", "Invalid token provided")
		return
	}
	if f.throttle429 > 0 {
		f.throttle429--
		f.mu.Unlock()
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		oktaError(w, 429, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	if f.fail5xx != 0 {
		if f.fail5xx > 0 {
			f.fail5xx--
		}
		f.mu.Unlock()
		oktaError(w, 500, "E0000009", "Internal Server Error")
		return
	}
	if f.remainingZero {
		w.Header().Set("X-Rate-Limit-Remaining", "0")
	} else {
		w.Header().Set("X-Rate-Limit-Remaining", "599")
	}
	foreign := f.foreignNext
	f.mu.Unlock()

	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	after, _ := strconv.Atoi(q.Get("after"))
	path := r.URL.Path
	switch {
	case path == "/api/v1/groups":
		var out []map[string]any
		for _, g := range f.groups {
			if strings.HasPrefix(strings.ToLower(g.name), strings.ToLower(q.Get("q"))) {
				out = append(out, map[string]any{"id": g.id, "type": "OKTA_GROUP", "profile": map[string]any{"name": g.name, "description": nil}})
			}
		}
		f.page(w, r, out, limit, after, false)
	case strings.HasPrefix(path, "/api/v1/groups/") && strings.HasSuffix(path, "/users"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1/groups/"), "/users")
		for _, g := range f.groups {
			if g.id == id {
				var out []map[string]any
				for _, uid := range g.members {
					out = append(out, f.users[uid])
				}
				f.page(w, r, out, limit, after, foreign)
				return
			}
		}
		oktaError(w, 404, "E0000007", "Not found: Resource not found: "+id+" (UserGroup)")
	case strings.HasPrefix(path, "/api/v1/users/") && strings.HasSuffix(path, "/groups"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1/users/"), "/groups")
		var out []map[string]any
		for _, g := range f.groups {
			for _, m := range g.members {
				if m == id {
					out = append(out, map[string]any{"id": g.id, "type": "OKTA_GROUP", "profile": map[string]any{"name": g.name}})
				}
			}
		}
		f.page(w, r, out, limit, after, false)
	case strings.HasPrefix(path, "/api/v1/users/"):
		// A user by id or login, as Okta's GET /api/v1/users/{id|login}.
		key := strings.TrimPrefix(path, "/api/v1/users/")
		for id, u := range f.users {
			if p, _ := u["profile"].(map[string]any); id == key || (p != nil && p["login"] == key) {
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(u)
				return
			}
		}
		oktaError(w, 404, "E0000007", "Not found: Resource not found: "+key+" (User)")
	default:
		oktaError(w, 404, "E0000022", "The endpoint does not support the provided HTTP method")
	}
}

// page writes items[after:after+limit] with a Link rel="next" header when
// more remain, as Okta does (absolute URL, opaque after= cursor).
func (f *fakeOkta) page(w http.ResponseWriter, r *http.Request, items []map[string]any, limit, after int, foreign bool) {
	if limit <= 0 {
		limit = 1000
	}
	end := min(after+limit, len(items))
	if after > len(items) {
		after = end
	}
	self := url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="self"`, self.String()))
	if end < len(items) {
		q := r.URL.Query()
		q.Set("after", strconv.Itoa(end))
		next := url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		if foreign {
			next.Host = "evil.example.com"
		}
		w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="next"`, next.String()))
	}
	w.Header().Set("Content-Type", "application/json")
	page := items[after:end]
	if page == nil {
		page = []map[string]any{}
	}
	json.NewEncoder(w).Encode(page)
}

// oktaUser builds a user object as Okta returns it.
func oktaUser(id, status string, profile map[string]any) map[string]any {
	return map[string]any{
		"id": id, "status": status, "created": "2024-01-02T03:04:05.000Z", "activated": nil,
		"lastLogin": nil, "type": map[string]any{"id": "oty1"}, "profile": profile,
		"credentials": map[string]any{"provider": map[string]any{"type": "OKTA", "name": "OKTA"}},
		"_links":      map[string]any{"self": map[string]any{"href": "https://x/api/v1/users/" + id}},
	}
}
