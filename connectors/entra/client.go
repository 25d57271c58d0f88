package entra

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// maxBody bounds one response body; a page of 999 users is a few MB.
const maxBody = 64 << 20

// client is the HTTP driver under Source: a cached client-credentials
// token, GETs with throttle waits and retries, and @odata.nextLink paging.
type client struct {
	cfg         Config
	graph       *url.URL
	http        *http.Client
	clock       core.Clock
	log         *slog.Logger
	maxAttempts int

	tok *tokenCache
	// requests counts Graph requests (not token requests).
	requests atomic.Int64
}

// tokenCache holds an access token until shortly before it expires.
type tokenCache struct {
	mu      sync.Mutex
	token   Secret
	expires time.Time
}

func newClient(cfg Config, log *slog.Logger, tok *tokenCache) (*client, error) {
	graph, err := url.Parse(cfg.GraphHost)
	if err != nil || graph.Host == "" {
		return nil, core.Errorf(core.CodeInvalidInput, "entra", "invalid graph_host %q", cfg.GraphHost)
	}
	if tok == nil {
		tok = &tokenCache{}
	}
	c := &client{tok: tok, cfg: cfg, graph: graph, http: cfg.HTTPClient, clock: cfg.Clock, log: log, maxAttempts: cfg.MaxAttempts}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if roots, err := config.EnvRoots("entra"); err != nil {
			return nil, err
		} else if roots != nil {
			tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		}
		c.http = &http.Client{Timeout: 120 * time.Second, Transport: tr}
	}
	if c.clock == nil {
		c.clock = core.SystemClock{}
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 6
	}
	return c, nil
}

// tokenError is the error document of the Microsoft identity platform.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

// accessToken returns the cached token, or asks for a new one when there
// is none or it expires within a minute.
func (c *client) accessToken(ctx context.Context, r core.Reporter) (Secret, error) {
	c.tok.mu.Lock()
	defer c.tok.mu.Unlock()
	if c.tok.token != "" && c.clock.Now().Before(c.tok.expires) {
		return c.tok.token, nil
	}
	const op = "entra token"
	endpoint := c.cfg.AuthorityHost + "/" + url.PathEscape(c.cfg.TenantID) + "/oauth2/v2.0/token"
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret.Reveal()},
		"scope":         {GraphScope},
	}.Encode()
	backoff := time.Second
	var lastErr error
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
		if err != nil {
			return "", core.Errorf(core.CodeInvalidInput, op, "invalid authority_host: %v", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", &core.Error{Code: core.CodeCanceled, Op: op, Err: ctx.Err()}
			}
			lastErr = core.Errorf(core.CodeUnavailable, op, "POST %s: %v", endpoint, unwrapURLError(err))
			if werr := c.retryWait(ctx, r, backoff, "token network error backoff", attempt); werr != nil {
				return "", werr
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			lastErr = core.Errorf(core.CodeUnavailable, op, "the token endpoint answered %s%s", resp.Status, describeTokenError(body))
			if werr := c.retryWait(ctx, r, retryAfter(resp.Header, backoff, c.clock), fmt.Sprintf("token %d Retry-After", resp.StatusCode), attempt); werr != nil {
				return "", werr
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			code := core.CodeUnauthenticated
			if resp.StatusCode == http.StatusForbidden {
				code = core.CodePermissionDenied
			}
			return "", core.Errorf(code, op, "Microsoft Entra refused the client credentials (%s)%s; check tenant_id, client_id and client_secret / secure_client_secret_key",
				resp.Status, describeTokenError(body))
		}
		var tok struct {
			AccessToken string          `json:"access_token"`
			TokenType   string          `json:"token_type"`
			ExpiresIn   json.RawMessage `json:"expires_in"`
		}
		if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
			return "", core.Errorf(core.CodeInconsistent, op, "the token endpoint answered 200 without an access token")
		}
		secs, _ := strconv.Atoi(strings.Trim(string(tok.ExpiresIn), `"`))
		if secs <= 0 {
			secs = 300
		}
		// Renew a minute early (or at half-life for very short tokens) so a
		// token never expires between the check and the request.
		margin := min(time.Minute, time.Duration(secs)*time.Second/2)
		c.tok.token = Secret(tok.AccessToken)
		c.tok.expires = c.clock.Now().Add(time.Duration(secs)*time.Second - margin)
		c.log.Debug("got a Graph access token", "expires_in", secs)
		return c.tok.token, nil
	}
	return "", fmt.Errorf("%w (gave up after %d attempts)", lastErr, c.maxAttempts)
}

// drop forgets token if it is still the cached one (Graph refused it).
func (t *tokenCache) drop(token Secret) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == token {
		t.token = ""
	}
}

// describeTokenError renders the identity platform's error and the first
// line of its description (which carries the AADSTS code), never the
// request.
func describeTokenError(body []byte) string {
	var e tokenError
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	desc, _, _ := strings.Cut(e.Description, "\r\n")
	desc, _, _ = strings.Cut(desc, "\n")
	if desc == "" {
		return ": " + e.Error
	}
	return ": " + e.Error + ": " + strings.TrimRight(strings.TrimSpace(desc), ".")
}

// graphError is Graph's error document.
type graphError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func describeGraphError(body []byte) string {
	var e graphError
	if json.Unmarshal(body, &e) != nil || (e.Error.Code == "" && e.Error.Message == "") {
		return ""
	}
	return ": " + e.Error.Code + ": " + e.Error.Message
}

// endpoint makes a Graph v1.0 URL. The query is encoded with %20 for
// spaces, as Graph's documentation writes it.
func (c *client) endpoint(path string, query url.Values) string {
	u := *c.graph
	u.Path = strings.TrimRight(u.Path, "/") + "/v1.0" + path
	u.RawPath = ""
	u.RawQuery = strings.ReplaceAll(query.Encode(), "+", "%20")
	return u.String()
}

// page is one page of a Graph collection.
type page struct {
	Value    []map[string]any `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

// get fetches one page at rawURL (used exactly as given). advanced adds
// "ConsistencyLevel: eventual" (the URL carries $count=true). 429, 503 and
// 504 wait for Retry-After; other 5xx and network errors back off; a 401
// renews the token once. op names the read in errors.
func (c *client) get(ctx context.Context, op, rawURL string, advanced bool, r core.Reporter) (*page, error) {
	backoff := time.Second
	renewed := false
	var lastErr error
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		token, err := c.accessToken(ctx, r)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, core.Errorf(core.CodeInconsistent, op, "malformed URL: %v", err)
		}
		req.Header.Set("Authorization", "Bearer "+token.Reveal())
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "usersync")
		if advanced {
			req.Header.Set("ConsistencyLevel", "eventual")
		}
		c.requests.Add(1)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &core.Error{Code: core.CodeCanceled, Op: op, Err: ctx.Err()}
			}
			lastErr = core.Errorf(core.CodeUnavailable, op, "GET %s: %v", redactURL(req.URL), unwrapURLError(err))
			if werr := c.retryWait(ctx, r, backoff, "network error backoff", attempt); werr != nil {
				return nil, werr
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		switch st := resp.StatusCode; {
		case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable || st == http.StatusGatewayTimeout:
			code := core.CodeThrottled
			if st != http.StatusTooManyRequests {
				code = core.CodeUnavailable
			}
			lastErr = core.Errorf(code, op, "Graph answered %s%s", resp.Status, describeGraphError(body))
			if werr := c.retryWait(ctx, r, retryAfter(resp.Header, backoff, c.clock), fmt.Sprintf("%d Retry-After", st), attempt); werr != nil {
				return nil, werr
			}
			backoff = min(backoff*2, 60*time.Second)
			continue
		case st >= 500:
			lastErr = core.Errorf(core.CodeUnavailable, op, "Graph answered %s%s", resp.Status, describeGraphError(body))
			if werr := c.retryWait(ctx, r, backoff, fmt.Sprintf("%d backoff", st), attempt); werr != nil {
				return nil, werr
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		case st == http.StatusUnauthorized:
			if !renewed {
				renewed = true
				c.tok.drop(token)
				attempt--
				continue
			}
			return nil, core.Errorf(core.CodeUnauthenticated, op, "Graph rejected the access token (401)%s", describeGraphError(body))
		case st == http.StatusForbidden:
			return nil, core.Errorf(core.CodePermissionDenied, op, "the app may not read this (403)%s; grant the application permissions User.Read.All and GroupMember.Read.All with admin consent", describeGraphError(body))
		case st == http.StatusNotFound:
			return nil, core.Errorf(core.CodeNotFound, op, "not found (404)%s", describeGraphError(body))
		case st != http.StatusOK:
			return nil, core.Errorf(core.CodeInvalidInput, op, "Graph answered %s%s", resp.Status, describeGraphError(body))
		}
		if rerr != nil {
			return nil, core.Errorf(core.CodeUnavailable, op, "reading the response: %v", rerr)
		}
		if len(body) > maxBody {
			return nil, core.Errorf(core.CodeInconsistent, op, "response larger than %d bytes", maxBody)
		}
		var p page
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			return nil, core.Errorf(core.CodeInconsistent, op, "malformed JSON from Graph: %v", err)
		}
		if p.Value == nil {
			return nil, core.Errorf(core.CodeInconsistent, op, "the response has no value array")
		}
		if p.NextLink != "" {
			if err := c.checkNext(p.NextLink, rawURL); err != nil {
				return nil, &core.Error{Code: core.CodeInconsistent, Op: op, Err: err}
			}
		}
		return &p, nil
	}
	return nil, fmt.Errorf("%w (gave up after %d attempts)", lastErr, c.maxAttempts)
}

// checkNext refuses a next link to another scheme or host (the token must
// only go to graph_host) and one that repeats the current page.
func (c *client) checkNext(next, current string) error {
	u, err := url.Parse(next)
	if err != nil {
		return fmt.Errorf("malformed @odata.nextLink: %v", err)
	}
	if !strings.EqualFold(u.Scheme, c.graph.Scheme) || !strings.EqualFold(u.Host, c.graph.Host) {
		return fmt.Errorf("refusing to follow an @odata.nextLink to %s://%s (graph_host is %s)", u.Scheme, u.Host, c.graph.Host)
	}
	if next == current {
		return errors.New("the @odata.nextLink repeats the current page")
	}
	return nil
}

// retryAfter reads Retry-After (seconds or an HTTP date), bounded to five
// minutes; without it, the backoff.
func retryAfter(h http.Header, fallback time.Duration, clock core.Clock) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return fallback
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return min(max(time.Duration(secs)*time.Second, 100*time.Millisecond), 5*time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(clock.Now()), 100*time.Millisecond), 5*time.Minute)
	}
	return fallback
}

// retryWait waits before another attempt, and not at all after the last.
func (c *client) retryWait(ctx context.Context, r core.Reporter, d time.Duration, cause string, attempt int) error {
	if attempt >= c.maxAttempts {
		return nil
	}
	until := c.clock.Now().Add(d)
	r.Throttled(core.ThrottleWait{Wait: d, Until: until, Cause: "entra " + cause, Attempt: attempt})
	c.log.Info("waiting for Microsoft Graph", "wait", d.String(), "cause", cause, "attempt", attempt)
	select {
	case <-ctx.Done():
		return &core.Error{Code: core.CodeCanceled, Op: "entra", Err: ctx.Err()}
	case <-c.clock.After(d):
		return nil
	}
}

// redactURL drops the query (skip tokens, filters) from URLs in messages.
func redactURL(u *url.URL) string {
	v := *u
	v.RawQuery = ""
	return v.String()
}

// unwrapURLError drops url.Error's URL (the caller names the request).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
