package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the time. Tests inject one to move throttle windows and token
// expiry without sleeping.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Options configure a Server.
type Options struct {
	// Seed is the initial org; nil starts an empty org with the default
	// org ID and client credentials.
	Seed *Seed
	// Throttle is "off" (the default) or "realistic".
	Throttle string
	// TimeScale divides every throttle window, every Retry-After and the
	// token lifetime. 0 means 1.
	TimeScale float64
	// Faults is a fault spec (see ParseFaults); FaultSpec, when non-nil,
	// is used instead of parsing it.
	Faults    string
	FaultSpec *Faults
	// FaultSeed seeds the fault generator.
	FaultSeed int64
	// TLSDir, when set, makes Start serve HTTPS with a generated
	// certificate whose CA is written to TLSDir/ca.pem.
	TLSDir string
	// Clock defaults to the wall clock.
	Clock Clock
	// Log, when set, gets one line per token and UMAPI request: method,
	// path, status, the action result and any injected fault.
	Log io.Writer
}

// Documented sizes and lifetimes.
const (
	usersPageSize  = 2000
	groupsPageSize = 400
	tokenLifetime  = 86399 * time.Second
	maxActionBody  = 1 << 20
)

// Server is a simulated UMAPI and IMS token endpoint.
type Server struct {
	opts      Options
	clock     Clock
	scale     float64
	throttled bool

	mu  sync.RWMutex
	org *org
	// The initial org, for a reset with an empty body: the caller's Seed,
	// or the seed file's bytes when Main loaded it (pointer-free, so a
	// million-user seed does not weigh on the garbage collector).
	initSeed *Seed
	initJSON []byte

	tmu    sync.Mutex
	tokens map[string]tokenInfo

	logMu sync.Mutex

	limiter *limiter
	faults  *injector

	stats struct {
		token, users, groups, action       atomic.Int64
		throttled, commands, steps, errors atomic.Int64
	}

	httpSrv *http.Server
	ln      net.Listener
	baseURL string
}

type tokenInfo struct {
	client  string
	expires time.Time
}

// New checks the options and builds a Server.
func New(opts Options) (*Server, error) {
	seed := opts.Seed
	if seed == nil {
		seed = &Seed{}
	}
	o, err := buildOrg(seed)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	s, err := newServer(opts, o)
	if err != nil {
		return nil, err
	}
	s.initSeed = seed
	return s, nil
}

// newServer builds a Server around an org already built.
func newServer(opts Options, o *org) (*Server, error) {
	opts.Seed = nil // held as initSeed or initJSON
	s := &Server{org: o, opts: opts, clock: opts.Clock, scale: opts.TimeScale, tokens: map[string]tokenInfo{}}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.scale == 0 {
		s.scale = 1
	}
	if s.scale < 0 || math.IsNaN(s.scale) || math.IsInf(s.scale, 0) {
		return nil, fmt.Errorf("time scale %v: want a positive number", opts.TimeScale)
	}
	switch opts.Throttle {
	case "", "off":
	case "realistic":
		s.throttled = true
	default:
		return nil, fmt.Errorf("throttle %q: want off or realistic", opts.Throttle)
	}
	var f Faults
	if opts.FaultSpec != nil {
		f = *opts.FaultSpec
		if f.SlowDelay == 0 {
			f.SlowDelay = DefaultSlowDelay
		}
	} else {
		var err error
		if f, err = ParseFaults(opts.Faults); err != nil {
			return nil, err
		}
	}
	s.faults = newInjector(f, opts.FaultSeed)
	s.limiter = newLimiter(s.scaled(time.Minute))
	return s, nil
}

func (s *Server) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.scale)
}

// Handler returns the simulator's HTTP handler, for use with
// net/http/httptest.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on addr (port 0 picks one) and serves in the background.
// It returns the base URL, http://HOST:PORT or, with TLSDir, https://.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	scheme := "http"
	s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second,
		// HTTP/1.1 only: the reset fault hijacks connections, which
		// HTTP/2 cannot do, and the real API speaks HTTP/1.1 to the
		// Python client anyway.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	if s.opts.TLSDir != "" {
		cfg, err := writeTLS(s.opts.TLSDir, s.clock.Now())
		if err != nil {
			ln.Close()
			return "", err
		}
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	s.ln = ln
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	s.baseURL = scheme + "://" + net.JoinHostPort(host, port)
	go s.httpSrv.Serve(ln)
	return s.baseURL, nil
}

// URL is the base URL Start returned.
func (s *Server) URL() string { return s.baseURL }

// Close stops a started server, waiting briefly for requests in flight.
func (s *Server) Close() error {
	if s.httpSrv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.httpSrv.Shutdown(ctx); err != nil {
		return s.httpSrv.Close()
	}
	return nil
}

// Stats are the counters GET /_sim/stats reports.
type Stats struct {
	Requests  RequestStats `json:"requests"`
	Throttled int64        `json:"throttled"`
	Commands  int64        `json:"commands"`
	Steps     int64        `json:"steps"`
	Errors    int64        `json:"errors"`
}

// RequestStats count requests received per endpoint family, whatever their
// outcome.
type RequestStats struct {
	Token  int64 `json:"token"`
	Users  int64 `json:"users"`
	Groups int64 `json:"groups"`
	Action int64 `json:"action"`
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	st := &s.stats
	return Stats{
		Requests: RequestStats{Token: st.token.Load(), Users: st.users.Load(),
			Groups: st.groups.Load(), Action: st.action.Load()},
		Throttled: st.throttled.Load(), Commands: st.commands.Load(),
		Steps: st.steps.Load(), Errors: st.errors.Load(),
	}
}

// State returns the org in the seed format.
func (s *Server) State() *Seed {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.org.seed()
}

// summary reports the org ID, the client ID and the numbers of users and
// groups, cheaply.
func (s *Server) summary() (orgID, clientID string, users, groups int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.org.id, s.org.clientID, len(s.org.users) - s.org.holes, len(s.org.groups)
}

// Reset replaces the org with seed (nil: the seed the server started
// with), zeroes the counters and the throttle windows, and forgets tokens
// unless the client ID stays the same.
func (s *Server) Reset(seed *Seed) error {
	var o *org
	var err error
	switch {
	case seed != nil:
		o, err = buildOrg(seed)
	case s.initJSON != nil:
		_, o, err = decodeSeed(s.initJSON)
	default:
		o, err = buildOrg(s.initSeed)
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	s.mu.Lock()
	s.org = o
	s.mu.Unlock()
	s.tmu.Lock()
	for t, ti := range s.tokens {
		if ti.client != o.clientID {
			delete(s.tokens, t)
		}
	}
	s.tmu.Unlock()
	s.limiter.reset()
	st := &s.stats
	for _, c := range []*atomic.Int64{&st.token, &st.users, &st.groups, &st.action,
		&st.throttled, &st.commands, &st.steps, &st.errors} {
		c.Store(0)
	}
	return nil
}

// response is what a UMAPI handler produced, kept apart from writing so
// that the reset-after fault can process a request and then drop it.
type response struct {
	status int
	header http.Header
	body   any    // marshalled as JSON; nil (and no raw) writes an empty body
	raw    []byte // a body already in JSON
}

func jsonResp(status int, body any) response { return response{status: status, body: body} }

type resultMessage struct {
	Result  string `json:"result"`
	Message string `json:"message,omitempty"`
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get("X-Request-Id"); id != "" {
		w.Header().Set("X-Request-Id", id)
	}
	p := r.URL.EscapedPath()
	switch p {
	case "/_sim/state", "/_sim/stats", "/_sim/reset":
		s.serveIntrospection(w, r, p)
		return
	case "/ims/token/v2", "/ims/token/v2/", "/ims/token/v3", "/ims/token/v3/":
		s.stats.token.Add(1)
		start := time.Now()
		resp := s.token(r)
		writeResponse(w, resp)
		s.logRequest(r, start, resp, fault{})
		return
	case "/status":
		writeResponse(w, jsonResp(200, map[string]string{"build": "usersync-sim", "version": "2", "state": "LIVE"}))
		return
	}
	rest, ok := strings.CutPrefix(p, "/v2/usermanagement/")
	if !ok {
		writeResponse(w, jsonResp(404, resultMessage{"error.not_found", "No such endpoint: " + p}))
		return
	}
	s.serveUMAPI(w, r, rest)
}

// route is a parsed UMAPI path.
type route struct {
	class   limitClass
	handler func(*http.Request) response
	org     string
}

func (s *Server) parseRoute(r *http.Request, rest string) (route, bool) {
	seg := strings.Split(rest, "/")
	unesc := func(v string) string {
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
		return v
	}
	if len(seg) < 2 {
		return route{}, false
	}
	org := unesc(seg[1])
	switch {
	case seg[0] == "users" && len(seg) >= 3 && r.Method == http.MethodGet:
		page, group := seg[2], ""
		if len(seg) > 3 {
			group = unesc(strings.Join(seg[3:], "/"))
		}
		s.stats.users.Add(1)
		return route{classUsers, func(r *http.Request) response { return s.usersList(r, page, group, len(seg) > 3) }, org}, true
	case seg[0] == "organizations" && len(seg) >= 4 && seg[2] == "users" && r.Method == http.MethodGet:
		who := unesc(strings.Join(seg[3:], "/"))
		s.stats.users.Add(1)
		return route{classUsers, func(r *http.Request) response { return s.singleUser(r, who) }, org}, true
	case seg[0] == "groups" && len(seg) == 3 && r.Method == http.MethodGet:
		page := seg[2]
		s.stats.groups.Add(1)
		return route{classGroups, func(r *http.Request) response { return s.groupsList(page) }, org}, true
	case seg[0] == "action" && len(seg) == 2 && r.Method == http.MethodPost:
		s.stats.action.Add(1)
		return route{classAction, s.action, org}, true
	}
	return route{}, false
}

func (s *Server) serveUMAPI(w http.ResponseWriter, r *http.Request, rest string) {
	rt, ok := s.parseRoute(r, rest)
	if !ok {
		writeResponse(w, jsonResp(404, resultMessage{"error.not_found", "No such endpoint: " + r.Method + " " + r.URL.Path}))
		return
	}
	start := time.Now()
	f := s.faults.draw()
	var resp response
	defer func() { s.logRequest(r, start, resp, f) }()
	switch f.kind {
	case faultGateway:
		resp = response{status: f.status}
		if f.status == 503 {
			resp = s.withRetryAfter(resp, s.scaled(5*time.Second))
		}
		writeResponse(w, resp)
		return
	case faultResetBefore:
		resetConn(w)
		return
	case faultSlow:
		t := time.NewTimer(s.faults.f.SlowDelay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	case faultThrottle:
		s.stats.throttled.Add(1)
		resp = s.tooMany(s.scaled(10 * time.Second))
		writeResponse(w, resp)
		return
	}
	resp = s.authorize(r, rt)
	if resp.status == 0 {
		resp = rt.handler(r)
	}
	if f.kind == faultResetAfter {
		resetConn(w)
		return
	}
	writeResponse(w, resp)
}

var faultNames = map[faultKind]string{faultGateway: "5xx", faultResetBefore: "reset before processing",
	faultResetAfter: "reset after processing", faultSlow: "slow", faultThrottle: "429"}

// logRequest writes the request's log line when Options.Log is set.
func (s *Server) logRequest(r *http.Request, start time.Time, resp response, f fault) {
	if s.opts.Log == nil {
		return
	}
	var b strings.Builder
	target := r.URL.RequestURI()
	if strings.HasPrefix(r.URL.Path, "/ims/") {
		target = r.URL.Path // the query may carry the client secret
	}
	fmt.Fprintf(&b, "%s %s %s", start.UTC().Format("15:04:05.000"), r.Method, target)
	switch {
	case f.kind == faultResetBefore:
		b.WriteString(" -")
	case resp.status != 0:
		fmt.Fprintf(&b, " %d", resp.status)
	}
	if ar, ok := resp.body.(actionResult); ok {
		fmt.Fprintf(&b, " %s completed=%d notCompleted=%d", ar.Result, ar.Completed+ar.CompletedInTestMode, ar.NotCompleted)
	}
	if ra := resp.header.Get("Retry-After-Ms"); ra != "" {
		fmt.Fprintf(&b, " retry-after=%sms", ra)
	}
	if f.kind != faultNone {
		fmt.Fprintf(&b, " fault=%q", faultNames[f.kind])
	}
	fmt.Fprintf(&b, " %s\n", time.Since(start).Round(time.Microsecond))
	s.logMu.Lock()
	io.WriteString(s.opts.Log, b.String())
	s.logMu.Unlock()
}

// authorize checks the API key, the token, the rate limit and the org, in
// that order; a zero response means go ahead.
func (s *Server) authorize(r *http.Request, rt route) response {
	s.mu.RLock()
	clientID, orgID := s.org.clientID, s.org.id
	s.mu.RUnlock()
	key := r.Header.Get("X-Api-Key")
	if key != clientID {
		// 403 with an empty body, as the API gateway answers (§5.1).
		return response{status: http.StatusForbidden}
	}
	if !s.validToken(r, clientID) {
		h := http.Header{}
		h.Set("WWW-Authenticate", `Bearer realm="JIL", error="invalid_token", error_description="The access token is invalid"`)
		return response{status: http.StatusUnauthorized, header: h}
	}
	if s.throttled {
		if ok, wait := s.limiter.allow(key, rt.class, s.clock.Now()); !ok {
			s.stats.throttled.Add(1)
			return s.tooMany(wait)
		}
	}
	if rt.org != orgID {
		return jsonResp(http.StatusBadRequest, resultMessage{"error.organization.invalid_id", "Bad organization Id"})
	}
	return response{}
}

// tooMany is the 429 answer. Retry-After carries whole seconds, rounded up
// and at least 1, because HTTP allows nothing finer and the Python client
// falls back to a 15-second backoff on 0; Retry-After-Ms carries the exact
// wait for clients that can use it (time-scaled runs wait well under a
// second).
func (s *Server) tooMany(wait time.Duration) response {
	return s.withRetryAfter(jsonResp(http.StatusTooManyRequests,
		map[string]string{"error_code": "429050", "message": "Too many requests"}), wait)
}

func (s *Server) withRetryAfter(resp response, wait time.Duration) response {
	if resp.header == nil {
		resp.header = http.Header{}
	}
	secs := int64(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	ms := int64(math.Ceil(float64(wait) / float64(time.Millisecond)))
	if ms < 1 {
		ms = 1
	}
	resp.header.Set("Retry-After", strconv.FormatInt(secs, 10))
	resp.header.Set("Retry-After-Ms", strconv.FormatInt(ms, 10))
	return resp
}

func writeResponse(w http.ResponseWriter, resp response) {
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	if resp.raw != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(resp.raw)))
		w.WriteHeader(resp.status)
		w.Write(resp.raw)
		return
	}
	if resp.body == nil {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(resp.status)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp.body); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(resp.status)
	w.Write(buf.Bytes())
}

// resetConn drops the client's connection without a reply, with a TCP RST
// where it can, so the client sees "connection reset by peer".
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	c, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	nc := c
	if tc, ok := c.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if tcp, ok := nc.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	nc.Close()
}

// token is the IMS OAuth server-to-server token endpoint (§2.1).
func (s *Server) token(r *http.Request) response {
	oauthErr := func(status int, code, desc string) response {
		return jsonResp(status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		return oauthErr(http.StatusMethodNotAllowed, "invalid_request", "use POST")
	}
	// ParseMultipartForm also parses urlencoded bodies and the query.
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return oauthErr(http.StatusBadRequest, "invalid_request", "unreadable form body")
	}
	form := r.Form
	s.mu.RLock()
	clientID, secret := s.org.clientID, s.org.clientSecret
	s.mu.RUnlock()
	switch {
	case form.Get("grant_type") != "client_credentials":
		return oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
	case form.Get("client_id") == "":
		return oauthErr(http.StatusBadRequest, "invalid_request", "missing client_id parameter")
	case form.Get("client_id") != clientID:
		return oauthErr(http.StatusUnauthorized, "invalid_client", "invalid client_id parameter")
	case form.Get("client_secret") != secret:
		return oauthErr(http.StatusUnauthorized, "invalid_client", "invalid client_secret parameter")
	case !hasScope(form.Get("scope"), "user_management_sdk"):
		return oauthErr(http.StatusBadRequest, "invalid_scope", "scope must include user_management_sdk")
	}
	var b [24]byte
	rand.Read(b[:])
	tok := "sim." + hex.EncodeToString(b[:])
	life := s.scaled(tokenLifetime)
	now := s.clock.Now()
	s.tmu.Lock()
	for t, ti := range s.tokens {
		if now.After(ti.expires) {
			delete(s.tokens, t)
		}
	}
	s.tokens[tok] = tokenInfo{client: clientID, expires: now.Add(life)}
	s.tmu.Unlock()
	resp := jsonResp(200, map[string]any{"access_token": tok, "token_type": "bearer",
		"expires_in": max(1, int64(life/time.Second))})
	resp.header = http.Header{"Cache-Control": {"no-store"}}
	return resp
}

func hasScope(scopes, want string) bool {
	return slicesContainsFold(strings.FieldsFunc(scopes, func(r rune) bool { return r == ',' || r == ' ' }), want)
}

func slicesContainsFold(list []string, want string) bool {
	for _, v := range list {
		if strings.EqualFold(v, want) {
			return true
		}
	}
	return false
}

func (s *Server) validToken(r *http.Request, clientID string) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	s.tmu.Lock()
	ti, ok := s.tokens[strings.TrimSpace(tok)]
	s.tmu.Unlock()
	return ok && ti.client == clientID && s.clock.Now().Before(ti.expires)
}

func (s *Server) serveIntrospection(w http.ResponseWriter, r *http.Request, p string) {
	switch {
	case p == "/_sim/state" && r.Method == http.MethodGet:
		writeResponse(w, jsonResp(200, s.State()))
	case p == "/_sim/stats" && r.Method == http.MethodGet:
		writeResponse(w, jsonResp(200, s.Stats()))
	case p == "/_sim/reset" && r.Method == http.MethodPost:
		data, err := io.ReadAll(r.Body)
		if err != nil {
			writeResponse(w, jsonResp(400, map[string]string{"error": err.Error()}))
			return
		}
		var seed *Seed
		if len(bytes.TrimSpace(data)) > 0 {
			if seed, err = ParseSeed(data); err != nil {
				writeResponse(w, jsonResp(400, map[string]string{"error": "seed: " + err.Error()}))
				return
			}
		}
		if err := s.Reset(seed); err != nil {
			writeResponse(w, jsonResp(400, map[string]string{"error": err.Error()}))
			return
		}
		_, _, users, groups := s.summary()
		writeResponse(w, jsonResp(200, map[string]any{"result": "success", "users": users, "groups": groups}))
	default:
		writeResponse(w, jsonResp(405, map[string]string{"error": "method not allowed"}))
	}
}
