package tui_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/tui"
	"github.com/usersync/usersync/tui/tuitest"
)

// driver is tuitest's driver with the environment's clock and short names
// for the tests of this package.
type driver struct {
	*tuitest.Driver
	m     *tui.Model
	clock *tuitest.Clock
}

func newDriver(t testing.TB, b tui.Backend, clock *tuitest.Clock, w, h int) *driver {
	t.Helper()
	td := tuitest.New(t, b, tui.Options{Title: "demo", NoColor: true, Now: clock.Now}, w, h)
	return &driver{Driver: td, m: td.Model, clock: clock}
}

func (d *driver) update(msg any)                      { d.Send(msg) }
func (d *driver) until(what string, cond func() bool) { d.T.Helper(); d.Until(what, cond) }
func (d *driver) settle()                             { d.Settle() }
func (d *driver) press(ks ...string)                  { d.Press(ks...) }
func (d *driver) typ(s string)                        { d.Type(s) }
func (d *driver) screen() string                      { return d.m.Screen() }
func (d *driver) size() (int, int)                    { return d.Width, d.Height }
func (d *driver) quit() bool                          { return d.Quit }

// ready starts a console on b and waits for the review.
func ready(t testing.TB, b tui.Backend, clock *tuitest.Clock, w, h int) *driver {
	t.Helper()
	d := newDriver(t, b, clock, w, h)
	d.until("the review", func() bool { return d.screen() == "Review" })
	return d
}

// start builds an environment and a console on it at 80×24, at the review.
func start(t *testing.T, o envOpts) (*driver, *env) {
	t.Helper()
	e := newEnv(t, o)
	return ready(t, e.b, e.clock, 80, 24), e
}

func displayWidth(s string) int { return ansi.StringWidth(s) }

// gateActions holds every action request until the test sends on gate
// (or closes it), or the client gives the request up. A test that leaves
// a request held closes gate before it ends: the server's Close waits for
// every handler.
func gateActions(gate <-chan struct{}) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/action/") {
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
}

// holdTokens holds every token request until gate is closed or the
// client gives the request up.
func holdTokens(gate <-chan struct{}) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/ims/token") {
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	}
}

// throttleFirstRead answers the first users read with 429 and Retry-After.
func throttleFirstRead(retryAfter string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		var done atomic.Bool
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/users/") && done.CompareAndSwap(false, true) {
				w.Header().Set("Retry-After", retryAfter)
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// throttleAction answers the nth action request (1-based) with 429 and
// Retry-After, once.
func throttleAction(n int32, retryAfter string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		var seen atomic.Int32
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/action/") && seen.Add(1) == n {
				w.Header().Set("Retry-After", retryAfter)
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// succeeded lists the changes res applied.
func succeeded(res *core.ApplyResult) []int {
	var ids []int
	for _, r := range res.Results {
		if r.Outcome == core.OutcomeSucceeded {
			ids = append(ids, r.ChangeID)
		}
	}
	return ids
}

// advance moves the clock by dur once a wait is pending on it: a wait is
// reported before the waiter starts its timer.
func (d *driver) advance(dur time.Duration) {
	d.T.Helper()
	d.until("a pending wait", func() bool { return d.clock.Waiting() > 0 })
	d.clock.Advance(dur)
}
