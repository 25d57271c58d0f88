// Package googlefake is a stand-in for the parts of Google's OAuth 2.0 token
// endpoint and Admin SDK Directory API v1 that the google connector reads,
// written from Google's public reference: the JWT bearer grant (the RS256
// signature is verified against the one public key the fake trusts),
// users.list, users.get (by id, primary email or alias; 404 when there is
// no such user), groups.get, groups.list (name='…' queries, or userKey for
// the groups a user is a direct member of) and members.list, each list paged
// with nextPageToken, and Google's error documents.
//
// Faults are injected by the test: every Nth call answered 429 without
// Retry-After, and a page of one group's members that always fails with 503.
// It is used by the connector's tests, the command's end-to-end tests and the
// benchmark; it is not part of the product.
package googlefake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The scopes the fake requires in every assertion.
const (
	ScopeUsers  = "https://www.googleapis.com/auth/admin.directory.user.readonly"
	ScopeGroups = "https://www.googleapis.com/auth/admin.directory.group.readonly"
)

// User is one Workspace user, as users.list returns it (id, primaryEmail,
// name, suspended, archived, addresses, and anything else in Extra).
type User struct {
	ID, Email           string
	GivenName, Family   string
	CountryCode         string // of the work address; "" for none
	Suspended, Archived bool
	// OrgUnit is the org unit path; "" means "/".
	OrgUnit string
	Extra   map[string]any
}

// Member is a group member: Type is USER, GROUP or CUSTOMER; ID is the
// user's or group's id.
type Member struct {
	Type, ID string
}

// Group is one Google group.
type Group struct {
	ID, Email, Name string
	Members         []Member
}

// Server is the fake. Set the fields before Start; they are read under a
// lock afterwards.
type Server struct {
	// Users and Groups are the directory.
	Users  []User
	Groups []Group
	// Trusted is the public key the token endpoint accepts assertions
	// signed by; ClientEmail is the service account it belongs to.
	Trusted     *rsa.PublicKey
	ClientEmail string
	// PageSize caps every page (0: the API's maxima, 500 users, 200
	// members).
	PageSize int
	// ThrottleEvery answers every Nth call (token calls included) with 429
	// and no Retry-After; 0 never.
	ThrottleEvery int
	// FailGroup and FailPage make page FailPage (from 1) of that group's
	// members (group email) answer 503, every time.
	FailGroup string
	FailPage  int

	mu        sync.Mutex
	calls     int
	throttled int
	tokens    map[string]time.Time
	userIdx   map[string]int
	paths     []string
	url       string
}

// Start serves the fake on a loopback port over plain HTTP and returns
// the base URL; the token endpoint is URL+"/token".
func (s *Server) Start() *httptest.Server {
	hs := httptest.NewServer(s)
	s.mu.Lock()
	s.url = hs.URL
	s.mu.Unlock()
	return hs
}

// Stats returns the calls served and how many were answered 429.
func (s *Server) Stats() (calls, throttled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.throttled
}

// Paths returns the request paths (with queries) served so far.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// NewKey makes an RSA key for tests (2048 bits, as Google issues).
func NewKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// KeyFile renders the JSON key file Google issues for a service account.
func KeyFile(k *rsa.PrivateKey, clientEmail, tokenURI string) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b, _ := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "usersync-test",
		"private_key_id":              "0123456789abcdef",
		"private_key":                 string(pemKey),
		"client_email":                clientEmail,
		"client_id":                   "100000000000000000001",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
	}, "", "  ")
	return b
}

func apiError(w http.ResponseWriter, code int, status, reason, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": code, "message": msg, "status": status,
		"errors": []any{map[string]any{"domain": "global", "reason": reason, "message": msg}},
	}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(v)
}

// ServeHTTP routes one call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.paths = append(s.paths, r.URL.RequestURI())
	if s.ThrottleEvery > 0 && s.calls%s.ThrottleEvery == 0 {
		s.throttled++
		apiError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Quota exceeded for quota metric 'Queries' (fake)")
		return
	}
	if r.URL.Path == "/token" {
		s.token(w, r)
		return
	}
	const prefix = "/admin/directory/v1/"
	if !strings.HasPrefix(r.URL.Path, prefix) || r.Method != http.MethodGet {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Not Found")
		return
	}
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if exp, ok := s.tokens[auth]; !ok || time.Now().After(exp) {
		apiError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "authError", "Request had invalid authentication credentials.")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, prefix), "/")
	q := r.URL.Query()
	switch {
	case len(parts) == 1 && parts[0] == "users":
		s.users(w, q.Get("pageToken"), q.Get("maxResults"), q.Get("query"))
	case len(parts) == 2 && parts[0] == "users":
		u := s.user(parts[1])
		if u == nil {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Resource Not Found: userKey")
			return
		}
		writeJSON(w, userJSON(*u))
	case len(parts) == 1 && parts[0] == "groups" && q.Get("userKey") != "":
		s.groupsOf(w, q.Get("userKey"), q.Get("pageToken"), q.Get("maxResults"))
	case len(parts) == 1 && parts[0] == "groups":
		s.searchGroups(w, q.Get("query"))
	case len(parts) == 2 && parts[0] == "groups":
		g := s.group(parts[1])
		if g == nil {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Resource Not Found: groupKey")
			return
		}
		writeJSON(w, groupJSON(g))
	case len(parts) == 3 && parts[0] == "groups" && parts[2] == "members":
		g := s.group(parts[1])
		if g == nil {
			apiError(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Resource Not Found: groupKey")
			return
		}
		s.members(w, g, q.Get("pageToken"), q.Get("maxResults"))
	default:
		apiError(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Not Found")
	}
}

func groupJSON(g *Group) map[string]any {
	return map[string]any{"kind": "admin#directory#group", "id": g.ID, "email": g.Email, "name": g.Name,
		"directMembersCount": strconv.Itoa(len(g.Members))}
}

func (s *Server) group(key string) *Group {
	for i := range s.Groups {
		g := &s.Groups[i]
		if g.ID == key || strings.EqualFold(g.Email, key) {
			return g
		}
	}
	return nil
}

// searchGroups answers groups.list with query name='X' (exact match).
func (s *Server) searchGroups(w http.ResponseWriter, query string) {
	name, ok := strings.CutPrefix(query, "name=")
	if !ok {
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid", "Invalid Input: query (the fake knows only name='…')")
		return
	}
	if len(name) >= 2 && name[0] == '\'' && name[len(name)-1] == '\'' {
		name = strings.ReplaceAll(name[1:len(name)-1], `\'`, `'`)
	}
	var out []any
	for i := range s.Groups {
		if s.Groups[i].Name == name {
			out = append(out, groupJSON(&s.Groups[i]))
		}
	}
	res := map[string]any{"kind": "admin#directory#groups"}
	if out != nil {
		res["groups"] = out
	}
	writeJSON(w, res)
}

// page cuts [off, off+size) from n items and returns the next token.
func (s *Server) page(token, maxResults string, n, max int) (lo, hi int, next string, err error) {
	size := max
	if m, e := strconv.Atoi(maxResults); e == nil && m > 0 && m < size {
		size = m
	}
	if s.PageSize > 0 && s.PageSize < size {
		size = s.PageSize
	}
	if token != "" {
		raw, e := base64.RawURLEncoding.DecodeString(token)
		if e != nil {
			return 0, 0, "", e
		}
		if lo, e = strconv.Atoi(strings.TrimPrefix(string(raw), "offset:")); e != nil {
			return 0, 0, "", e
		}
	}
	hi = min(lo+size, n)
	if hi < n {
		next = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(hi)))
	}
	return lo, hi, next, nil
}

// users answers users.list. Of Google's search syntax the fake knows
// only orgUnitPath='/Path' (exact).
func (s *Server) users(w http.ResponseWriter, token, maxResults, query string) {
	all := s.Users
	if query != "" {
		ou, ok := strings.CutPrefix(query, "orgUnitPath=")
		if !ok {
			apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid", "Invalid Input: query (the fake knows only orgUnitPath=)")
			return
		}
		ou = strings.Trim(ou, "'")
		all = nil
		for _, u := range s.Users {
			if orgUnit(u) == ou {
				all = append(all, u)
			}
		}
	}
	lo, hi, next, err := s.page(token, maxResults, len(all), 500)
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid", "Invalid Input: pageToken")
		return
	}
	list := make([]any, 0, hi-lo)
	for _, u := range all[lo:hi] {
		list = append(list, userJSON(u))
	}
	res := map[string]any{"kind": "admin#directory#users", "users": list}
	if next != "" {
		res["nextPageToken"] = next
	}
	writeJSON(w, res)
}

func userJSON(u User) map[string]any {
	m := map[string]any{"kind": "admin#directory#user", "id": u.ID, "primaryEmail": u.Email,
		"name":      map[string]any{"givenName": u.GivenName, "familyName": u.Family, "fullName": u.GivenName + " " + u.Family},
		"suspended": u.Suspended, "archived": u.Archived, "isAdmin": false, "orgUnitPath": orgUnit(u)}
	if u.CountryCode != "" {
		m["addresses"] = []any{
			map[string]any{"type": "home", "countryCode": "ZZ"},
			map[string]any{"type": "work", "countryCode": u.CountryCode, "primary": true},
		}
	}
	for k, v := range u.Extra {
		m[k] = v
	}
	return m
}

// user finds a user by id, primary email or one of its aliases (Extra
// "aliases", a []string), as users.get takes a userKey.
func (s *Server) user(key string) *User {
	for i := range s.Users {
		u := &s.Users[i]
		if u.ID == key || strings.EqualFold(u.Email, key) {
			return u
		}
		if as, ok := u.Extra["aliases"].([]string); ok {
			for _, a := range as {
				if strings.EqualFold(a, key) {
					return u
				}
			}
		}
	}
	return nil
}

// groupsOf answers groups.list with userKey: the groups the user (by
// email or id) is a direct member of, paged.
func (s *Server) groupsOf(w http.ResponseWriter, userKey, token, maxResults string) {
	u := s.user(userKey)
	if u == nil {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "notFound", "Resource Not Found: userKey")
		return
	}
	var of []any
	for i := range s.Groups {
		for _, m := range s.Groups[i].Members {
			if m.Type == "USER" && m.ID == u.ID {
				of = append(of, groupJSON(&s.Groups[i]))
				break
			}
		}
	}
	lo, hi, next, err := s.page(token, maxResults, len(of), 200)
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid", "Invalid Input: pageToken")
		return
	}
	res := map[string]any{"kind": "admin#directory#groups"}
	if hi > lo {
		res["groups"] = of[lo:hi]
	}
	if next != "" {
		res["nextPageToken"] = next
	}
	writeJSON(w, res)
}

func orgUnit(u User) string {
	if u.OrgUnit == "" {
		return "/"
	}
	return u.OrgUnit
}

func (s *Server) members(w http.ResponseWriter, g *Group, token, maxResults string) {
	lo, hi, next, err := s.page(token, maxResults, len(g.Members), 200)
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "invalid", "Invalid Input: pageToken")
		return
	}
	if s.FailGroup != "" && strings.EqualFold(s.FailGroup, g.Email) && s.pageNumber(lo) == s.FailPage {
		apiError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "backendError", "Backend Error")
		return
	}
	list := make([]any, 0, hi-lo)
	for _, m := range g.Members[lo:hi] {
		e := map[string]any{"kind": "admin#directory#member", "id": m.ID, "type": m.Type, "role": "MEMBER", "status": "ACTIVE"}
		switch m.Type {
		case "USER":
			if s.userIdx == nil {
				s.userIdx = make(map[string]int, len(s.Users))
				for i, u := range s.Users {
					s.userIdx[u.ID] = i
				}
			}
			if i, ok := s.userIdx[m.ID]; ok {
				u := s.Users[i]
				e["email"] = u.Email
				if u.Suspended {
					e["status"] = "SUSPENDED"
				}
			}
		case "GROUP":
			if sub := s.group(m.ID); sub != nil {
				e["email"] = sub.Email
			}
		}
		list = append(list, e)
	}
	res := map[string]any{"kind": "admin#directory#members", "members": list}
	if next != "" {
		res["nextPageToken"] = next
	}
	writeJSON(w, res)
}

func (s *Server) pageNumber(offset int) int {
	size := 200
	if s.PageSize > 0 && s.PageSize < size {
		size = s.PageSize
	}
	return offset/size + 1
}

func tokenError(w http.ResponseWriter, code int, errCode, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": errCode, "error_description": desc})
}

// token implements the JWT bearer grant (RFC 7523) as Google's endpoint
// does.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "POST required")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
		return
	}
	var hdr struct{ Alg, Typ string }
	var claims struct {
		Iss, Sub, Aud, Scope string
		Iat, Exp             int64
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: malformed")
		return
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if hdr.Alg != "RS256" || s.Trusted == nil || rsa.VerifyPKCS1v15(s.Trusted, crypto.SHA256, sum[:], sig) != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	now := time.Now().Unix()
	switch {
	case claims.Iss != s.ClientEmail:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: iss")
	case claims.Aud != s.url+"/token":
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: aud "+claims.Aud)
	case claims.Exp <= now || claims.Iat > now+60 || claims.Exp-claims.Iat > 3600:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.")
	case claims.Sub == "":
		tokenError(w, http.StatusUnauthorized, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
	case !hasScopes(claims.Scope, ScopeUsers, ScopeGroups):
		tokenError(w, http.StatusBadRequest, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
	default:
		if s.tokens == nil {
			s.tokens = map[string]time.Time{}
		}
		tok := fmt.Sprintf("ya29.fake-%d", len(s.tokens)+1)
		s.tokens[tok] = time.Now().Add(time.Hour)
		writeJSON(w, map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
	}
}

func hasScopes(got string, want ...string) bool {
	have := map[string]bool{}
	for _, s := range strings.Fields(got) {
		have[s] = true
	}
	for _, s := range want {
		if !have[s] {
			return false
		}
	}
	return true
}
