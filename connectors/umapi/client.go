package umapi

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
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// Defaults, as UST's connector-umapi.yml has them (UST §2.4).
const (
	DefaultHost         = "usermanagement.adobe.io"
	DefaultEndpoint     = "/v2/usermanagement"
	DefaultAuthHost     = "ims-na1.adobelogin.com"
	DefaultAuthEndpoint = "/ims/token/v2"
	DefaultTimeout      = 120 * time.Second
	DefaultRetries      = 3
	// DefaultReadConcurrency is how many user-list pages are fetched at
	// once when the page count is known.
	DefaultReadConcurrency = 4
)

// scope is the OAuth scope list UMAPI clients ask for (reference §2.1).
const scope = "openid,AdobeID,user_management_sdk"

// Options configure a Client.
type Options struct {
	// Name labels the org in logs and progress reports (core.PrimaryOrg or
	// a secondary's name).
	Name string
	// Host and AuthHost may carry a scheme (http://127.0.0.1:8080); without
	// one, https:// is used. Empty means Adobe's production hosts.
	Host, AuthHost string
	// Endpoint is the UMAPI path (/v2/usermanagement); AuthEndpoint the
	// token path (/ims/token/v2).
	Endpoint, AuthEndpoint string

	OrgID, ClientID, ClientSecret string

	// Timeout bounds each HTTP attempt (UST server.timeout, default 120s).
	Timeout time.Duration
	// Retries is the total number of attempts per call (UST server.retries,
	// default 3).
	Retries int
	// SSLVerify turns TLS certificate verification on. It is false in the
	// zero value: callers pass the configured ssl_cert_verify, which
	// defaults to true.
	SSLVerify bool
	// CABundle is a PEM file of extra trusted CA certificates. Empty means
	// $SSL_CERT_FILE, then UST's $REQUESTS_CA_BUNDLE.
	CABundle string
	// Proxy chooses the proxy of each request; nil means
	// http.ProxyFromEnvironment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
	Proxy func(*http.Request) (*url.URL, error)
	// UserAgent is prefixed to the client's own product token.
	UserAgent string
	Clock     core.Clock
	// Logger receives UST-like retry and error lines; nil discards them.
	Logger *slog.Logger
	// ReadConcurrency bounds parallel page fetches (default 4).
	ReadConcurrency int
	// ActionRate paces action requests so that the documented per-client
	// limit is never exceeded (zero means core.DefaultRateLimit). A server
	// that still answers 429 is honoured as usual.
	ActionRate core.RateLimit
	// NoPacing sends action requests as fast as the server takes them,
	// relying on 429 answers alone (as UST does).
	NoPacing bool
	// Backoff is the base of the exponential backoff used when a retryable
	// answer carries no Retry-After (default 15s, as UST).
	Backoff time.Duration
}

// Client talks to one Adobe org through UMAPI. It implements core.Target
// and is safe for concurrent use.
type Client struct {
	opts     Options
	base     string // UMAPI base URL, no trailing slash
	tokenURL string
	http     *http.Client
	clock    core.Clock
	log      *slog.Logger
	reqID    string // per-client uuid of X-Request-Id

	tmu     sync.Mutex
	token   string
	expires time.Time

	pacer *pacer
}

var _ core.Target = (*Client)(nil)

// New checks opts and returns a client. It does not contact the server.
func New(opts Options) (*Client, error) {
	if opts.OrgID == "" || opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, core.Errorf(core.CodeInvalidInput, "umapi", "org_id, client_id and client_secret are required")
	}
	if opts.Host == "" {
		opts.Host = DefaultHost
	}
	if opts.Endpoint == "" {
		opts.Endpoint = DefaultEndpoint
	}
	if opts.AuthHost == "" {
		opts.AuthHost = DefaultAuthHost
	}
	if opts.AuthEndpoint == "" {
		opts.AuthEndpoint = DefaultAuthEndpoint
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Retries <= 0 {
		opts.Retries = DefaultRetries
	}
	if opts.ReadConcurrency <= 0 {
		opts.ReadConcurrency = DefaultReadConcurrency
	}
	if opts.ActionRate.Requests <= 0 || opts.ActionRate.Window <= 0 {
		opts.ActionRate = core.DefaultRateLimit
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 15 * time.Second
	}
	if opts.Name == "" {
		opts.Name = core.PrimaryOrg
	}
	c := &Client{opts: opts, clock: opts.Clock, log: opts.Logger}
	if c.clock == nil {
		c.clock = core.SystemClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var err error
	if c.base, err = joinURL(opts.Host, opts.Endpoint); err != nil {
		return nil, core.Errorf(core.CodeInvalidInput, "umapi", "server.host: %v", err)
	}
	if c.tokenURL, err = joinURL(opts.AuthHost, opts.AuthEndpoint); err != nil {
		return nil, core.Errorf(core.CodeInvalidInput, "umapi", "server.auth_host: %v", err)
	}
	tlsCfg, err := tlsConfig(opts)
	if err != nil {
		return nil, err
	}
	proxy := opts.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsCfg,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   opts.ReadConcurrency + 2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c.http = &http.Client{Transport: tr, Timeout: opts.Timeout,
		// A redirect would carry the bearer token to another place.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var id [16]byte
	rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(id[:])
	c.reqID = h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	if !opts.NoPacing {
		c.pacer = newPacer(opts.ActionRate)
	}
	return c, nil
}

// joinURL applies DESIGN.md's rule: a host may carry a scheme; without
// one, https is used.
func joinURL(host, path string) (string, error) {
	host = strings.TrimRight(strings.TrimSpace(host), "/")
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%q is not a host name or an http(s) URL", host)
	}
	path = strings.TrimSpace(path)
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return host + strings.TrimRight(path, "/"), nil
}

func tlsConfig(opts Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !opts.SSLVerify} //nolint:gosec // ssl_verify: false is the operator's choice
	bundle, from := opts.CABundle, "CA bundle"
	if bundle == "" {
		bundle, from = config.EnvCABundle()
	}
	if bundle == "" {
		return cfg, nil
	}
	pool, err := config.CertPool("umapi", bundle, from)
	if err != nil {
		return nil, err
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// Token gets an access token (or reuses the cached one), proving that the
// credentials work. usersync check calls it.
func (c *Client) Token(ctx context.Context) error {
	_, err := c.bearer(ctx, nopReporter())
	return err
}

// bearer returns a valid access token, asking IMS when the cached one is
// missing or about to expire.
func (c *Client) bearer(ctx context.Context, r core.Reporter) (string, error) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	if c.token != "" && c.clock.Now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.opts.ClientID},
		"client_secret": {c.opts.ClientSecret},
		"scope":         {scope},
	}
	resp, err := c.do(ctx, call{op: "ims token", method: http.MethodPost, url: c.tokenURL,
		body: []byte(form.Encode()), contentType: "application/x-www-form-urlencoded", auth: false}, r)
	if err != nil {
		if resp != nil && (resp.status == http.StatusBadRequest || resp.status == http.StatusUnauthorized || resp.status == http.StatusForbidden) {
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			json.Unmarshal(resp.body, &e)
			msg := strings.TrimSpace(e.Error + ": " + e.Description)
			if e.Error == "" {
				msg = fmt.Sprintf("HTTP %d", resp.status)
			}
			return "", core.Errorf(core.CodeUnauthenticated, "ims token", "the token endpoint refused client %s: %s", c.opts.ClientID, msg)
		}
		return "", err
	}
	var tok struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.body, &tok); err != nil || tok.AccessToken == "" {
		return "", core.Errorf(core.CodeUnavailable, "ims token", "unreadable token response")
	}
	secs, _ := strconv.ParseFloat(strings.Trim(string(tok.ExpiresIn), `"`), 64)
	if secs <= 0 {
		secs = 3600
	}
	life := time.Duration(secs * float64(time.Second))
	// Renew a little early, so a token never expires between the check
	// and the server reading it.
	life -= min(life/10, time.Minute)
	c.token, c.expires = tok.AccessToken, c.clock.Now().Add(life)
	return c.token, nil
}

// dropToken forgets tok after the server refused it, unless another call
// already replaced it.
func (c *Client) dropToken(tok string) {
	c.tmu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.tmu.Unlock()
}

// call is one logical HTTP call, retried as a whole.
type call struct {
	op          string // for errors and logs: "umapi users page 3"
	method, url string
	body        []byte
	contentType string
	auth        bool   // send the UMAPI headers (token, API key)
	pragma      string // umapi-sync-start or umapi-sync-end
	action      bool   // paced by the action rate limit
	// detach lets an attempt already on the wire finish when ctx is
	// cancelled, so the caller learns what the server did.
	detach bool
}

// reply is a completed HTTP exchange.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// retryable reports whether status may be retried (reference §5.5).
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// do runs cl with retries. It returns the reply for any status it does not
// retry; the error is nil only for 2xx. A non-nil reply comes with the
// error when the server answered.
//
// Retrying an action POST after a timeout or a dropped connection may send
// a request the server already applied. That is safe only because every
// command the executor sends is idempotent: creates carry
// ignoreIfAlreadyExists or updateIfAlreadyExists, adds and removes of
// memberships converge on the same state, updates set absolute values, and
// removeFromOrg succeeds for a user already gone.
func (c *Client) do(ctx context.Context, cl call, r core.Reporter) (*reply, error) {
	start := c.clock.Now()
	reauthed := false
	var last *reply
	var lastErr error
	for attempt := 1; attempt <= c.opts.Retries; attempt++ {
		sent := func() {}
		if cl.action && c.pacer != nil {
			var err error
			sent, err = c.pacer.wait(ctx, c.clock, func(d time.Duration, until time.Time, end bool) {
				r.Throttled(core.ThrottleWait{Org: c.opts.Name, Kind: core.WaitPacing, Wait: d, Until: until, Cause: "rate limit", End: end})
			})
			if err != nil {
				return nil, core.Errorf(core.CodeCanceled, cl.op, "interrupted while waiting for the rate limit")
			}
		}
		rep, tok, err := c.attempt(ctx, cl, r)
		sent()
		if err == nil && rep.status == http.StatusUnauthorized && cl.auth && !reauthed {
			// The token expired or was revoked early: get a new one once,
			// without counting it as an attempt.
			c.log.Info("UMAPI refused the access token; requesting a new one", "org", c.opts.Name)
			c.dropToken(tok)
			reauthed = true
			attempt--
			continue
		}
		if err != nil && ctx.Err() != nil {
			return nil, core.Errorf(core.CodeCanceled, cl.op, "interrupted")
		}
		if err != nil {
			if core.Code(err) != core.CodeUnknown {
				return nil, err // from the token request: already classified
			}
			lastErr, last = err, nil
			if isTimeout(err) {
				c.log.Warn(fmt.Sprintf("UMAPI timeout on %s (attempt %d of %d)", cl.op, attempt, c.opts.Retries), "org", c.opts.Name)
			} else {
				c.log.Warn(fmt.Sprintf("UMAPI connection error on %s (attempt %d of %d): %s", cl.op, attempt, c.opts.Retries, scrub(err)), "org", c.opts.Name)
			}
		} else {
			if rep.status >= 200 && rep.status < 300 {
				return rep, nil
			}
			if !retryable(rep.status) {
				return rep, c.statusError(cl, rep)
			}
			last, lastErr = rep, nil
			c.log.Warn(fmt.Sprintf("UMAPI service temporarily unavailable on %s (attempt %d of %d) -- HTTP %d",
				cl.op, attempt, c.opts.Retries, rep.status), "org", c.opts.Name)
		}
		if attempt == c.opts.Retries {
			break
		}
		wait, cause := c.retryWait(last, attempt)
		w := core.ThrottleWait{Org: c.opts.Name, Kind: core.WaitBackoff, Wait: wait, Until: c.clock.Now().Add(wait), Cause: cause, Attempt: attempt}
		if last != nil {
			w.Status = last.status
			if last.status == http.StatusTooManyRequests {
				w.Kind = core.WaitThrottled
			}
		}
		r.Throttled(w)
		if wait > 0 {
			c.log.Warn(fmt.Sprintf("Next retry in %s", formatWait(wait)), "org", c.opts.Name)
			if wait > 15*time.Minute {
				c.log.Warn("A wait this long is Adobe's sync-frequency limit: syncs of this org start too often (Adobe advises at most one every two hours)", "org", c.opts.Name)
			}
		} else {
			c.log.Warn("Immediate retry", "org", c.opts.Name)
		}
		w.End = true
		select {
		case <-ctx.Done():
			r.Throttled(w)
			return nil, core.Errorf(core.CodeCanceled, cl.op, "interrupted while waiting to retry")
		case <-c.clock.After(wait):
			r.Throttled(w)
		}
	}
	spent := c.clock.Now().Sub(start).Round(time.Second)
	c.log.Error(fmt.Sprintf("UMAPI %s: giving up after %d attempts (%d seconds)", cl.op, c.opts.Retries, int(spent.Seconds())), "org", c.opts.Name)
	if last != nil {
		code := core.CodeUnavailable
		if last.status == http.StatusTooManyRequests {
			code = core.CodeThrottled
		}
		return last, core.Errorf(code, cl.op, "giving up after %d attempts: last answer HTTP %d", c.opts.Retries, last.status)
	}
	return nil, core.Errorf(core.CodeUnavailable, cl.op, "giving up after %d attempts: %s", c.opts.Retries, scrub(lastErr))
}

// attempt sends cl once and reads the whole answer. It returns the token it
// used so a 401 can drop exactly that one.
func (c *Client) attempt(ctx context.Context, cl call, r core.Reporter) (*reply, string, error) {
	var tok string
	if cl.auth {
		var err error
		if tok, err = c.bearer(ctx, r); err != nil {
			return nil, "", err
		}
	}
	actx := ctx
	if cl.detach {
		actx = context.WithoutCancel(ctx)
	}
	actx, cancel := context.WithTimeout(actx, c.opts.Timeout)
	defer cancel()
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, cl.url, body)
	if err != nil {
		return nil, "", core.Errorf(core.CodeInvalidInput, cl.op, "%v", err)
	}
	ct := cl.contentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("User-Agent", strings.TrimSpace(c.opts.UserAgent+" usersync-umapi/1"))
	req.Header.Set("X-Request-Id", fmt.Sprintf("%s_%d", c.reqID, c.clock.Now().UnixMilli()))
	if cl.auth {
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Api-Key", c.opts.ClientID)
	}
	if cl.pragma != "" {
		req.Header.Set("Pragma", cl.pragma)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, tok, err
	}
	defer resp.Body.Close()
	data, err := readBody(resp)
	if err != nil {
		// A body cut short is a connection error: retry it.
		return nil, tok, err
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: data}, tok, nil
}

// statusError classifies a status that is not retried.
func (c *Client) statusError(cl call, rep *reply) error {
	var m struct {
		Result  string `json:"result"`
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	json.Unmarshal(rep.body, &m)
	detail := strings.TrimSpace(strings.TrimSpace(m.Result+" "+m.Error) + " " + m.Message)
	if detail == "" {
		detail = http.StatusText(rep.status)
	}
	switch rep.status {
	case http.StatusUnauthorized:
		return core.Errorf(core.CodeUnauthenticated, cl.op, "HTTP 401: the access token was refused even after requesting a new one (check org_id and the integration's UMAPI access)")
	case http.StatusForbidden:
		return core.Errorf(core.CodePermissionDenied, cl.op, "HTTP 403: the API key (client_id %s) is missing or not allowed for this org", c.opts.ClientID)
	case http.StatusNotFound:
		return core.Errorf(core.CodeNotFound, cl.op, "HTTP 404: %s", detail)
	case http.StatusBadRequest:
		if strings.HasPrefix(m.Result, "error.organization") {
			return core.Errorf(core.CodeNotFound, cl.op, "HTTP 400: %s (org_id %s)", detail, c.opts.OrgID)
		}
		return core.Errorf(core.CodeInvalidInput, cl.op, "HTTP 400: %s", detail)
	}
	return core.Errorf(core.CodeUnavailable, cl.op, "HTTP %d: %s", rep.status, detail)
}

// retryWait is how long to wait after attempt: the server's Retry-After
// (seconds, an HTTP date, or the simulator's exact Retry-After-Ms), else
// exponential backoff with jitter, Backoff × 2^(attempt−1) + 0–5 s.
func (c *Client) retryWait(rep *reply, attempt int) (time.Duration, string) {
	if rep != nil {
		if d, ok := parseRetryAfter(rep.header, c.clock.Now()); ok {
			return d, fmt.Sprintf("%d Retry-After", rep.status)
		}
	}
	base := c.opts.Backoff << (attempt - 1)
	// Jitter of up to a third of the base (0–5 s on UST's 15 s) keeps
	// clients that failed together from retrying together.
	jitter := time.Duration(mrand.Float64() * float64(c.opts.Backoff) / 3)
	cause := "connection error backoff"
	if rep != nil {
		cause = fmt.Sprintf("%d backoff", rep.status)
	}
	return base + jitter, cause
}

// parseRetryAfter reads the wait a 429 or 503 asks for. Retry-After-Ms
// (sent by the simulator, whose time-scaled waits are shorter than a
// second) wins; then Retry-After as seconds or an HTTP date. A wait of zero
// or less counts as absent, as in the official client.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
	}
	return 0, false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// scrub returns err's text without the URL query, which never carries a
// secret here but might in a misconfigured proxy URL.
func scrub(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + redactURL(ue.URL) + ": " + ue.Err.Error()
	}
	return err.Error()
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(url)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

func formatWait(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%d seconds", int(d.Round(time.Second).Seconds()))
	}
	return fmt.Sprintf("%d milliseconds", d.Milliseconds())
}

func nopReporter() core.Reporter { return core.NopReporter{} }

// maxAnswer bounds an answer's size.
const maxAnswer = 64 << 20

// readBody reads an answer of up to maxAnswer bytes, into a buffer of the
// announced size when there is one (a users page is a few hundred
// kilobytes, which io.ReadAll would reach by doubling).
func readBody(resp *http.Response) ([]byte, error) {
	n := resp.ContentLength
	if n <= 0 || n > maxAnswer {
		return io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	}
	var buf []byte
	if n <= maxPooled {
		if b, ok := bodies.Get().(*[]byte); ok && int64(cap(*b)) >= n {
			buf = (*b)[:n]
		}
	}
	if buf == nil {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		return nil, err
	}
	// The announced length is all the transport passes on; reading on
	// to the end lets it reuse the connection.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return nil, err
	}
	return buf, nil
}

// bodies holds answer buffers for reuse: a million-user read is 500 pages
// of a few hundred kilobytes, decoded and done with one after another.
var bodies sync.Pool

// maxPooled is the largest answer whose buffer is reused.
const maxPooled = 4 << 20

// recycle hands rep's body back for reuse; nothing may read it after.
func recycle(rep *reply) {
	if rep == nil || cap(rep.body) > maxPooled || cap(rep.body) == 0 {
		return
	}
	b := rep.body[:0]
	rep.body = nil
	bodies.Put(&b)
}
