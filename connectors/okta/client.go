package okta

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// maxBody bounds one response body; Okta pages of 1,000 users are a few MB.
const maxBody = 64 << 20

// client is the small HTTP driver under Source: authenticated GETs with
// rate-limit waits, retries and Link paging.
type client struct {
	base        *url.URL
	token       Token
	http        *http.Client
	clock       core.Clock
	log         *slog.Logger
	maxAttempts int
	// notBefore delays the next request when the last response said the
	// rate-limit window is used up.
	notBefore time.Time
	requests  int
}

func newClient(cfg Config, log *slog.Logger) (*client, error) {
	base, err := url.Parse(cfg.Host)
	if err != nil || base.Host == "" {
		return nil, core.Errorf(core.CodeInvalidInput, "okta", "invalid host %q", cfg.Host)
	}
	c := &client{base: base, token: cfg.APIToken, http: cfg.HTTPClient, clock: cfg.Clock, log: log, maxAttempts: cfg.MaxAttempts}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		roots, err := config.EnvRoots("okta")
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
		c.maxAttempts = 8
	}
	return c, nil
}

// endpoint makes an API URL below the base.
func (c *client) endpoint(path string, query url.Values) *url.URL {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = query.Encode()
	return &u
}

// apiError is the error document Okta returns.
type apiError struct {
	Code    string `json:"errorCode"`
	Summary string `json:"errorSummary"`
	ID      string `json:"errorId"`
}

// getJSON fetches u into out and returns the rel="next" link, if any.
// 429 waits until X-Rate-Limit-Reset; 5xx and network errors are retried
// with backoff; other failures are coded errors. op names the read in
// errors ("okta members of group X page 3").
func (c *client) getJSON(ctx context.Context, op string, u *url.URL, out any, r core.Reporter) (*url.URL, error) {
	backoff := time.Second
	var lastErr error
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		if err := c.waitNotBefore(ctx, r, attempt); err != nil {
			return nil, err
		}
		resp, err := c.do(ctx, u)
		if err != nil {
			if ctx.Err() != nil {
				return nil, &core.Error{Code: core.CodeCanceled, Op: op, Err: ctx.Err()}
			}
			if isCertError(err) {
				// Retrying cannot fix an untrusted certificate.
				return nil, core.Errorf(core.CodeUnavailable, op, "%v (if a proxy inspects TLS, give its CA certificate in SSL_CERT_FILE or REQUESTS_CA_BUNDLE)", err)
			}
			lastErr = &core.Error{Code: core.CodeUnavailable, Op: op, Err: err}
			if werr := c.retryWait(ctx, r, backoff, "network error backoff", attempt); werr != nil {
				return nil, werr
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		c.noteRateLimit(resp.Header)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			wait := c.resetWait(resp.Header, backoff)
			backoff = min(backoff*2, 60*time.Second)
			lastErr = core.Errorf(core.CodeThrottled, op, "Okta rate limit exceeded (429)%s", summary(body))
			c.notBefore = time.Time{} // the wait below already runs to the reset
			if werr := c.retryWait(ctx, r, wait, "429 X-Rate-Limit-Reset", attempt); werr != nil {
				return nil, werr
			}
			continue
		case resp.StatusCode >= 500:
			lastErr = core.Errorf(core.CodeUnavailable, op, "Okta server error %s%s", resp.Status, summary(body))
			if werr := c.retryWait(ctx, r, backoff, fmt.Sprintf("%d backoff", resp.StatusCode), attempt); werr != nil {
				return nil, werr
			}
			backoff = min(backoff*2, 30*time.Second)
			continue
		case resp.StatusCode == http.StatusUnauthorized:
			return nil, core.Errorf(core.CodeUnauthenticated, op, "Okta rejected the API token (401)%s; check api_token / secure_api_token_key", summary(body))
		case resp.StatusCode == http.StatusForbidden:
			return nil, core.Errorf(core.CodePermissionDenied, op, "the API token may not read this (403)%s", summary(body))
		case resp.StatusCode == http.StatusNotFound:
			return nil, core.Errorf(core.CodeNotFound, op, "not found (404)%s", summary(body))
		case resp.StatusCode != http.StatusOK:
			return nil, core.Errorf(core.CodeInvalidInput, op, "Okta answered %s%s", resp.Status, summary(body))
		}
		if rerr != nil {
			return nil, core.Errorf(core.CodeUnavailable, op, "reading the response: %v", rerr)
		}
		if len(body) > maxBody {
			return nil, core.Errorf(core.CodeInconsistent, op, "response larger than %d bytes", maxBody)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return nil, core.Errorf(core.CodeInconsistent, op, "malformed JSON from Okta: %v", err)
		}
		next, err := c.nextLink(resp.Header)
		if err != nil {
			return nil, &core.Error{Code: core.CodeInconsistent, Op: op, Err: err}
		}
		return next, nil
	}
	return nil, fmt.Errorf("%w (gave up after %d attempts)", lastErr, c.maxAttempts)
}

// do sends one GET with the SSWS token.
func (c *client) do(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "SSWS "+c.token.Reveal())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "usersync")
	c.requests++
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error carries the URL (no secret in it) and the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("GET %s: %w", redactURL(u), ue.Err)
		}
		return nil, err
	}
	return resp, nil
}

// isCertError reports whether err is a TLS certificate verification
// failure.
func isCertError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// redactURL drops paging cursors from URLs shown in messages.
func redactURL(u *url.URL) string {
	v := *u
	v.RawQuery = ""
	return v.String()
}

// summary renders Okta's error document, when there is one.
func summary(body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil || (e.Summary == "" && e.Code == "") {
		return ""
	}
	s := ": " + e.Summary
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s
}

// resetWait is how long to wait after a 429: until X-Rate-Limit-Reset
// (epoch seconds) plus a second of margin for clock skew, or the backoff
// when the header is missing or already past.
func (c *client) resetWait(h http.Header, fallback time.Duration) time.Duration {
	reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64)
	if err != nil {
		return fallback
	}
	d := time.Unix(reset, 0).Sub(c.clock.Now()) + time.Second
	if d <= time.Second {
		return fallback
	}
	return min(d, 5*time.Minute)
}

// noteRateLimit remembers that the window is used up, so that the next
// request waits for the reset instead of drawing a 429.
func (c *client) noteRateLimit(h http.Header) {
	if strings.TrimSpace(h.Get("X-Rate-Limit-Remaining")) != "0" {
		return
	}
	reset, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), 10, 64)
	if err != nil {
		return
	}
	t := time.Unix(reset, 0).Add(time.Second)
	if limit := c.clock.Now().Add(5 * time.Minute); t.After(limit) {
		t = limit
	}
	c.notBefore = t
}

func (c *client) waitNotBefore(ctx context.Context, r core.Reporter, attempt int) error {
	if c.notBefore.IsZero() {
		return nil
	}
	d := c.notBefore.Sub(c.clock.Now())
	c.notBefore = time.Time{}
	if d <= 0 {
		return nil
	}
	return c.wait(ctx, r, d, "rate limit (X-Rate-Limit-Remaining: 0)", attempt)
}

// retryWait waits before another attempt, and not at all after the last
// one: the caller is about to give up.
func (c *client) retryWait(ctx context.Context, r core.Reporter, d time.Duration, cause string, attempt int) error {
	if attempt >= c.maxAttempts {
		return nil
	}
	return c.wait(ctx, r, d, cause, attempt)
}

// wait reports a wait and sleeps on the clock, or returns when ctx ends.
func (c *client) wait(ctx context.Context, r core.Reporter, d time.Duration, cause string, attempt int) error {
	until := c.clock.Now().Add(d)
	r.Throttled(core.ThrottleWait{Wait: d, Until: until, Cause: "okta " + cause, Attempt: attempt})
	c.log.Info("waiting for Okta", "wait", d.String(), "cause", cause, "attempt", attempt)
	select {
	case <-ctx.Done():
		return &core.Error{Code: core.CodeCanceled, Op: "okta", Err: ctx.Err()}
	case <-c.clock.After(d):
		return nil
	}
}

// nextLink finds rel="next" in the Link headers. A next link to another
// scheme or host is refused: the token must only go to the configured org.
func (c *client) nextLink(h http.Header) (*url.URL, error) {
	for _, line := range h.Values("Link") {
		for _, l := range parseLinks(line) {
			if l.rel != "next" {
				continue
			}
			u, err := c.base.Parse(l.target)
			if err != nil {
				return nil, fmt.Errorf("malformed next link %q: %v", l.target, err)
			}
			if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) {
				return nil, fmt.Errorf("refusing to follow a next link to %s://%s (the org is %s)", u.Scheme, u.Host, c.base.Host)
			}
			return u, nil
		}
	}
	return nil, nil
}

type link struct{ target, rel string }

// parseLinks parses an RFC 8288 Link header value:
// <url>; rel="next", <url>; rel="self".
func parseLinks(s string) []link {
	var out []link
	for {
		start := strings.IndexByte(s, '<')
		if start < 0 {
			return out
		}
		end := strings.IndexByte(s[start:], '>')
		if end < 0 {
			return out
		}
		l := link{target: s[start+1 : start+end]}
		s = s[start+end+1:]
		params := s
		if i := strings.IndexByte(s, '<'); i >= 0 {
			params = s[:i]
		}
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			v = strings.Trim(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(v), ",")), `"`)
			for _, rel := range strings.Fields(v) {
				out = append(out, link{target: l.target, rel: strings.ToLower(rel)})
			}
		}
	}
}
