package google

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// maxBody bounds one response body; a page of 500 full users is a few MB.
const maxBody = 64 << 20

// client is the HTTP driver under Source: the token, authenticated GETs
// with back-off, and Google's error documents.
type client struct {
	cfg         Config
	base        *url.URL
	http        *http.Client
	clock       core.Clock
	log         *slog.Logger
	maxAttempts int
	baseDelay   time.Duration

	tok      *tokenCache
	requests int
}

// tokenCache keeps the access token between reads of one Source, until it
// expires.
type tokenCache struct {
	mu    sync.Mutex
	token string
	exp   time.Time
}

func newClient(cfg Config, tok *tokenCache, log *slog.Logger) (*client, error) {
	if cfg.Key == nil || cfg.Key.private == nil {
		return nil, core.Errorf(core.CodeInvalidInput, "google", "no service account key")
	}
	host := cfg.APIHost
	if host == "" {
		host = DefaultAPIHost
	}
	base, err := url.Parse(host)
	if err != nil || base.Host == "" {
		return nil, core.Errorf(core.CodeInvalidInput, "google", "invalid admin_api_host %q", host)
	}
	c := &client{cfg: cfg, base: base, http: cfg.HTTPClient, clock: cfg.Clock, log: log,
		maxAttempts: cfg.MaxAttempts, baseDelay: cfg.BaseDelay, tok: tok}
	if c.tok == nil {
		c.tok = &tokenCache{}
	}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		roots, err := config.EnvRoots("google")
		if err != nil {
			return nil, err
		}
		if roots != nil {
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
	if c.baseDelay <= 0 {
		c.baseDelay = RetryBaseDelay
	}
	return c, nil
}

// endpoint makes a Directory API URL.
func (c *client) endpoint(path string, q url.Values) *url.URL {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/admin/directory/v1" + path
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return &u
}

// assertion builds the signed JWT of the bearer grant.
func (c *client) assertion(now time.Time) (string, error) {
	k := c.cfg.Key
	hdr := map[string]string{"alg": "RS256", "typ": "JWT"}
	if k.PrivateKeyID != "" {
		hdr["kid"] = k.PrivateKeyID
	}
	claims := map[string]any{
		"iss": k.ClientEmail, "sub": c.cfg.Subject, "aud": k.TokenURI,
		"scope": ScopeUsers + " " + ScopeGroups,
		"iat":   now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	hb, _ := json.Marshal(hdr)
	cb, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.private, crypto.SHA256, sum[:])
	if err != nil {
		return "", core.Errorf(core.CodeInvalidInput, "google token", "signing the assertion failed")
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// accessToken returns the cached token, or fetches one at token_uri.
func (c *client) accessToken(ctx context.Context, r core.Reporter) (string, error) {
	c.tok.mu.Lock()
	defer c.tok.mu.Unlock()
	if c.tok.token != "" && c.clock.Now().Before(c.tok.exp) {
		return c.tok.token, nil
	}
	const op = "google token"
	var lastErr error
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		jwt, err := c.assertion(c.clock.Now())
		if err != nil {
			return "", err
		}
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Key.TokenURI, strings.NewReader(form.Encode()))
		if err != nil {
			return "", core.Errorf(core.CodeInvalidInput, op, "bad token_uri")
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("User-Agent", "usersync")
		c.requests++
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return "", &core.Error{Code: core.CodeCanceled, Op: op, Err: ctx.Err()}
			}
			lastErr = core.Errorf(core.CodeUnavailable, op, "POST %s: %v", c.cfg.Key.TokenURI, unwrapURLError(err))
			if werr := c.retryWait(ctx, r, attempt, "network error backoff"); werr != nil {
				return "", werr
			}
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		var tr struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int64  `json:"expires_in"`
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &tr)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			lastErr = core.Errorf(core.CodeUnavailable, op, "Google's token endpoint answered %s", resp.Status)
			if resp.StatusCode == http.StatusTooManyRequests {
				lastErr = core.Errorf(core.CodeThrottled, op, "Google's token endpoint answered %s", resp.Status)
			}
			if werr := c.retryWait(ctx, r, attempt, fmt.Sprintf("%d backoff", resp.StatusCode)); werr != nil {
				return "", werr
			}
			continue
		case resp.StatusCode != http.StatusOK || tr.AccessToken == "":
			detail := tr.Error
			if tr.Description != "" {
				detail += ": " + tr.Description
			}
			if detail == "" {
				detail = resp.Status
			}
			return "", core.Errorf(core.CodeUnauthenticated, op,
				"Google refused the service account's token request (%s); check the key file, that the key is still active, and that the service account's client ID has domain-wide delegation for %s and %s acting as %s",
				detail, ScopeUsers, ScopeGroups, c.cfg.Subject)
		}
		exp := tr.ExpiresIn
		if exp <= 0 {
			exp = 3600
		}
		// A minute's margin, so a token is not used as it expires.
		c.tok.token, c.tok.exp = tr.AccessToken, c.clock.Now().Add(time.Duration(exp)*time.Second-time.Minute)
		return c.tok.token, nil
	}
	return "", fmt.Errorf("%w (gave up after %d attempts)", lastErr, c.maxAttempts)
}

// forgetToken drops a token the API refused, so the next call fetches one.
func (c *client) forgetToken(tok string) {
	c.tok.mu.Lock()
	defer c.tok.mu.Unlock()
	if c.tok.token == tok {
		c.tok.token = ""
	}
}

// googleError is the error document of Google APIs.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

func parseError(body []byte) (msg, reason string) {
	var e googleError
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	if len(e.Error.Errors) > 0 {
		reason = e.Error.Errors[0].Reason
	}
	return e.Error.Message, reason
}

// rateReasons are the 403 reasons Google uses for quota limits; they are
// retried like 429.
var rateReasons = map[string]bool{"rateLimitExceeded": true, "userRateLimitExceeded": true, "quotaExceeded": true}

// getJSON fetches u into out. 429, 5xx, rate-limit 403s and network errors
// are retried with exponential back-off; an expired token is renewed once;
// other failures are coded errors. op names the read in errors.
func (c *client) getJSON(ctx context.Context, op string, u *url.URL, out any, r core.Reporter) error {
	var lastErr error
	renewed := false
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		tok, err := c.accessToken(ctx, r)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return core.Errorf(core.CodeInvalidInput, op, "bad URL")
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "usersync")
		c.requests++
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return &core.Error{Code: core.CodeCanceled, Op: op, Err: ctx.Err()}
			}
			lastErr = core.Errorf(core.CodeUnavailable, op, "GET %s: %v", redactURL(u), unwrapURLError(err))
			if werr := c.retryWait(ctx, r, attempt, "network error backoff"); werr != nil {
				return werr
			}
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		var msg, reason, detail string
		if resp.StatusCode != http.StatusOK {
			// Only failures carry Google's error document.
			if msg, reason = parseError(body); msg != "" {
				detail = ": " + msg
			}
		}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode == http.StatusForbidden && rateReasons[reason]):
			lastErr = core.Errorf(core.CodeThrottled, op, "Google rate limit (%s)%s", resp.Status, detail)
			if werr := c.retryWait(ctx, r, attempt, fmt.Sprintf("%d backoff", resp.StatusCode)); werr != nil {
				return werr
			}
			continue
		case resp.StatusCode >= 500:
			lastErr = core.Errorf(core.CodeUnavailable, op, "Google server error %s%s", resp.Status, detail)
			if werr := c.retryWait(ctx, r, attempt, fmt.Sprintf("%d backoff", resp.StatusCode)); werr != nil {
				return werr
			}
			continue
		case resp.StatusCode == http.StatusUnauthorized:
			if !renewed {
				renewed = true
				c.forgetToken(tok)
				attempt--
				continue
			}
			return core.Errorf(core.CodeUnauthenticated, op, "Google rejected the access token (401)%s", detail)
		case resp.StatusCode == http.StatusForbidden:
			return core.Errorf(core.CodePermissionDenied, op, "not allowed (403)%s; the subject must be an administrator who may read users and groups", detail)
		case resp.StatusCode == http.StatusNotFound:
			return core.Errorf(core.CodeNotFound, op, "not found (404)%s", detail)
		case resp.StatusCode != http.StatusOK:
			return core.Errorf(core.CodeInvalidInput, op, "Google answered %s%s", resp.Status, detail)
		}
		if rerr != nil {
			return core.Errorf(core.CodeUnavailable, op, "reading the response: %v", rerr)
		}
		if len(body) > maxBody {
			return core.Errorf(core.CodeInconsistent, op, "response larger than %d bytes", maxBody)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return core.Errorf(core.CodeInconsistent, op, "malformed JSON from Google: %v", err)
		}
		return nil
	}
	return fmt.Errorf("%w (gave up after %d attempts)", lastErr, c.maxAttempts)
}

// retryWait waits base·2^(attempt-1), at most 64 seconds, before another
// attempt, and not at all after the last one.
func (c *client) retryWait(ctx context.Context, r core.Reporter, attempt int, cause string) error {
	if attempt >= c.maxAttempts {
		return nil
	}
	d := c.baseDelay << (attempt - 1)
	if d > 64*time.Second || d <= 0 {
		d = 64 * time.Second
	}
	until := c.clock.Now().Add(d)
	r.Throttled(core.ThrottleWait{Wait: d, Until: until, Cause: "google " + cause, Attempt: attempt})
	c.log.Info("waiting for Google", "wait", d.String(), "cause", cause, "attempt", attempt)
	select {
	case <-ctx.Done():
		return &core.Error{Code: core.CodeCanceled, Op: "google", Err: ctx.Err()}
	case <-c.clock.After(d):
		return nil
	}
}

// unwrapURLError drops url.Error's wrapping (its URL may carry a page
// token); the caller names the URL itself.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactURL drops the query (page tokens) from URLs shown in messages.
func redactURL(u *url.URL) string {
	v := *u
	v.RawQuery = ""
	return v.String()
}
