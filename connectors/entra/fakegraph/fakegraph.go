// Package fakegraph is a stand-in for the parts of Microsoft Graph v1.0
// and the Microsoft identity platform token endpoint that the entra
// connector uses, written from Microsoft's public API reference. It is for
// tests and local rehearsals only.
//
// It serves the client-credentials grant at /{tenant}/oauth2/v2.0/token
// (refusing a wrong secret with AADSTS7000215, as Entra does), and under
// /v1.0: GET /users, GET /groups, GET
// /groups/{id}/transitiveMembers/microsoft.graph.user and GET
// /users/{id|userPrincipalName}/transitiveMemberOf/microsoft.graph.group
// (404 for an unknown user), with $select, $top,
// a small $filter language (clauses "prop eq|ne literal" joined by "and"
// and "or", with parentheses),
// $count, @odata.nextLink paging with opaque skip tokens, and the
// advanced-query rule: $count, ne, and a cast listing with $filter need
// "ConsistencyLevel: eventual". Nested groups are expanded transitively and
// membership cycles are tolerated, as Graph does. Faults: every Nth Graph
// call answers 429 with Retry-After, and a chosen page of a group's
// members answers 503.
package fakegraph

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// User is a Graph user: its object id and its properties (mail,
// givenName, surname, usageLocation, accountEnabled, userPrincipalName,
// and any other).
type User struct {
	ID    string
	Props map[string]any
}

// Group is a security group. Members are object ids of users or groups.
type Group struct {
	ID, DisplayName string
	Members         []string
}

// Server is the stand-in. Set the fields before the first request.
type Server struct {
	TenantID, ClientID, ClientSecret string
	Users                            []User
	Groups                           []Group
	// PageSize is the most entries a page holds (default 100); a smaller
	// $top wins.
	PageSize int
	// ThrottleEvery answers every Nth Graph call with 429 (0: never).
	ThrottleEvery int
	// RetryAfter is the Retry-After of 429 and 503 answers, in seconds
	// (default 1).
	RetryAfter int
	// FailMembersPage maps a group's displayName to the page (from 1) of
	// its member listing that always answers 503.
	FailMembersPage map[string]int
	// TokenLifetime is expires_in in seconds (default 3599).
	TokenLifetime int

	mu      sync.Mutex
	calls   int
	stats   Stats
	tokens  map[string]bool
	cursors map[string]*cursor
	seq     int
	uris    []string
	// byID indexes Users on first use; set the fields before serving.
	byID map[string]*User
}

// Stats counts what the server saw.
type Stats struct {
	TokenRequests, TokenRefusals, GraphCalls, Throttled, Failed int
}

type cursor struct {
	items []map[string]any
	off   int
	page  int
	group string
}

// Start serves s on a loopback port until the test ends and returns its
// base URL (both authority_host and graph_host).
func (s *Server) Start(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// RequestURIs returns the request URIs of Graph calls, in order.
func (s *Server) RequestURIs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.uris)
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg,
		"innerError": map[string]any{"request-id": "00000000-0000-0000-0000-000000000000"}}})
}

func tokenError(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 0000\r\nCorrelation ID: 0000\r\nTimestamp: 2026-01-01 00:00:00Z", aadsts, msg),
		"error_codes":       []int{aadsts}, "trace_id": "0000", "correlation_id": "0000"})
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		s.token(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !s.tokens[auth] {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty or invalid.")
		return
	}
	s.calls++
	s.stats.GraphCalls++
	s.uris = append(s.uris, r.URL.RequestURI())
	retry := strconv.Itoa(max(s.RetryAfter, 1))
	if s.ThrottleEvery > 0 && s.calls%s.ThrottleEvery == 0 {
		s.stats.Throttled++
		w.Header().Set("Retry-After", retry)
		graphError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		return
	}
	if r.Method != http.MethodGet {
		graphError(w, http.StatusMethodNotAllowed, "Request_BadRequest", "only GET is served")
		return
	}
	q := r.URL.Query()
	if tok := q.Get("$skiptoken"); tok != "" {
		c := s.cursors[tok]
		if c == nil {
			graphError(w, http.StatusBadRequest, "Request_BadRequest", "Invalid skip token.")
			return
		}
		delete(s.cursors, tok)
		s.serve(w, r, c, q)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	advanced := r.Header.Get("ConsistencyLevel") == "eventual"
	if q.Get("$count") == "true" && !advanced {
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "$count is only supported with the ConsistencyLevel:eventual header.")
		return
	}
	filter, err := parseFilter(q.Get("$filter"))
	if err != nil {
		graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
		return
	}
	if filter.advanced() && !(advanced && q.Get("$count") == "true") {
		graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified; this is an advanced query (ConsistencyLevel: eventual and $count=true).")
		return
	}
	var items []map[string]any
	c := &cursor{}
	switch {
	case path == "/users":
		for _, u := range s.Users {
			items = append(items, userObject(u))
		}
	case path == "/groups":
		for _, g := range s.Groups {
			items = append(items, map[string]any{"@odata.type": "#microsoft.graph.group", "id": g.ID, "displayName": g.DisplayName})
		}
	case strings.HasPrefix(path, "/groups/") && strings.HasSuffix(path, "/transitiveMembers/microsoft.graph.user"):
		if q.Get("$filter") != "" && !(advanced && q.Get("$count") == "true") {
			graphError(w, http.StatusBadRequest, "Request_UnsupportedQuery", "Filtering a cast of transitiveMembers is an advanced query.")
			return
		}
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/groups/"), "/transitiveMembers/microsoft.graph.user")
		g := s.group(id)
		if g == nil {
			graphError(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
			return
		}
		c.group = g.DisplayName
		for _, u := range s.transitiveUsers(g) {
			items = append(items, userObject(u))
		}
	case strings.HasPrefix(path, "/users/") && strings.HasSuffix(path, "/transitiveMemberOf/microsoft.graph.group"):
		key := strings.TrimSuffix(strings.TrimPrefix(path, "/users/"), "/transitiveMemberOf/microsoft.graph.group")
		u := s.user(key)
		if u == nil {
			graphError(w, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", key))
			return
		}
		for _, g := range s.transitiveGroups(u.ID) {
			items = append(items, map[string]any{"@odata.type": "#microsoft.graph.group", "id": g.ID, "displayName": g.DisplayName})
		}
	default:
		graphError(w, http.StatusNotFound, "Request_ResourceNotFound", "Unsupported path "+path)
		return
	}
	for _, it := range items {
		if filter.match(it) {
			c.items = append(c.items, it)
		}
	}
	if sel := q.Get("$select"); sel != "" {
		props := strings.Split(sel, ",")
		for i, it := range c.items {
			out := map[string]any{"@odata.type": it["@odata.type"], "id": it["id"]}
			for _, p := range props {
				if v, ok := it[strings.TrimSpace(p)]; ok {
					out[strings.TrimSpace(p)] = v
				} else {
					out[strings.TrimSpace(p)] = nil
				}
			}
			c.items[i] = out
		}
	}
	s.serve(w, r, c, q)
}

// serve answers the next page of c.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, c *cursor, q url.Values) {
	c.page++
	if c.group != "" && s.FailMembersPage[c.group] == c.page {
		// The cursor stays valid: a retry of the same URL asks for the
		// same page again.
		c.page--
		if old := q.Get("$skiptoken"); old != "" {
			s.cursors[old] = c
		}
		s.stats.Failed++
		w.Header().Set("Retry-After", strconv.Itoa(max(s.RetryAfter, 1)))
		graphError(w, http.StatusServiceUnavailable, "serviceNotAvailable", "Service Unavailable.")
		return
	}
	size := s.PageSize
	if size <= 0 {
		size = 100
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top > 0 && top < size {
		size = top
	}
	if c.items == nil {
		c.items = []map[string]any{}
	}
	end := min(c.off+size, len(c.items))
	resp := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata", "value": c.items[c.off:end]}
	if c.off == 0 && q.Get("$count") == "true" {
		resp["@odata.count"] = len(c.items)
	}
	if end < len(c.items) {
		s.seq++
		tok := s.token64(s.seq)
		s.cursors[tok] = &cursor{items: c.items, off: end, page: c.page, group: c.group}
		next := q
		next.Del("$skiptoken")
		base := "http://" + r.Host + r.URL.Path
		resp["@odata.nextLink"] = base + "?" + strings.ReplaceAll(next.Encode(), "+", "%20") + "&$skiptoken=" + url.QueryEscape(tok)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// token64 makes an opaque skip token; its '=' and '+' must survive a
// client that follows the link exactly.
func (s *Server) token64(n int) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("X'%08d>>'", n)))
}

func (s *Server) group(id string) *Group {
	for i := range s.Groups {
		if s.Groups[i].ID == id {
			return &s.Groups[i]
		}
	}
	return nil
}

// transitiveUsers expands nested groups, each group once (so a cycle
// ends), each user once.
func (s *Server) transitiveUsers(g *Group) []User {
	if s.byID == nil {
		s.byID = map[string]*User{}
		for i := range s.Users {
			s.byID[s.Users[i].ID] = &s.Users[i]
		}
	}
	byID := s.byID
	var out []User
	seenUser, seenGroup := map[string]bool{}, map[string]bool{g.ID: true}
	queue := []*Group{g}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, m := range cur.Members {
			if u := byID[m]; u != nil {
				if !seenUser[m] {
					seenUser[m] = true
					out = append(out, *u)
				}
				continue
			}
			if sub := s.group(m); sub != nil && !seenGroup[m] {
				seenGroup[m] = true
				queue = append(queue, sub)
			}
		}
	}
	return out
}

// user finds a user by object id or userPrincipalName (compared without
// regard to case).
func (s *Server) user(key string) *User {
	for i := range s.Users {
		u := &s.Users[i]
		if upn, _ := u.Props["userPrincipalName"].(string); u.ID == key || upn != "" && strings.EqualFold(upn, key) {
			return u
		}
	}
	return nil
}

// transitiveGroups lists the groups id is a member of, directly or
// through nested groups, each once (so a cycle ends).
func (s *Server) transitiveGroups(id string) []Group {
	var out []Group
	seen := map[string]bool{}
	queue := []string{id}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, g := range s.Groups {
			if !seen[g.ID] && slices.Contains(g.Members, cur) {
				seen[g.ID] = true
				out = append(out, g)
				queue = append(queue, g.ID)
			}
		}
	}
	return out
}

func userObject(u User) map[string]any {
	m := map[string]any{"@odata.type": "#microsoft.graph.user", "id": u.ID}
	for k, v := range u.Props {
		m[k] = v
	}
	if _, ok := m["accountEnabled"]; !ok {
		m["accountEnabled"] = true
	}
	return m
}

// token is the client-credentials grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.TokenRequests++
	refuse := func(status int, code string, aadsts int, msg string) {
		s.stats.TokenRefusals++
		tokenError(w, status, code, aadsts, msg)
	}
	tenant := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		refuse(http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST requests.")
		return
	}
	switch {
	case tenant != s.TenantID:
		refuse(http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant))
	case r.PostForm.Get("grant_type") != "client_credentials":
		refuse(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case r.PostForm.Get("scope") != "https://graph.microsoft.com/.default":
		refuse(http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope is not valid.")
	case r.PostForm.Get("client_id") != s.ClientID:
		refuse(http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '"+r.PostForm.Get("client_id")+"' was not found in the directory.")
	case r.PostForm.Get("client_secret") != s.ClientSecret:
		refuse(http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
	default:
		if s.tokens == nil {
			s.tokens = map[string]bool{}
			s.cursors = map[string]*cursor{}
		}
		s.seq++
		tok := fmt.Sprintf("eyJ0eXAiOiJKV1QifQ.fake.%d", s.seq)
		s.tokens[tok] = true
		life := s.TokenLifetime
		if life <= 0 {
			life = 3599
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": tok})
	}
}
