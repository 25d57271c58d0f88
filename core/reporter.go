package core

import (
	"cmp"
	"fmt"
	"time"
)

// Phase names a stage of a run.
type Phase string

// The phases.
const (
	PhaseDirectory Phase = "directory" // reading the identity source
	PhaseAdobe     Phase = "adobe"     // reading an Adobe org
	PhasePlan      Phase = "plan"
	PhaseApply     Phase = "apply"
)

// Progress is a snapshot of a phase's progress. Zero fields are unknown.
type Progress struct {
	Phase Phase  `json:"phase"`
	Org   string `json:"org,omitempty"` // for PhaseAdobe and PhaseApply
	// Users, Groups and Pages count what has been read so far; PagesTotal
	// is set once known.
	Users      int `json:"users,omitempty"`
	Groups     int `json:"groups,omitempty"`
	Pages      int `json:"pages,omitempty"`
	PagesTotal int `json:"pages_total,omitempty"`
	// Apply counters.
	RequestsSent      int    `json:"requests_sent,omitempty"`
	RequestsTotal     int    `json:"requests_total,omitempty"`
	CommandsSucceeded int    `json:"commands_succeeded,omitempty"`
	CommandsFailed    int    `json:"commands_failed,omitempty"`
	Done              bool   `json:"done,omitempty"`
	Message           string `json:"message,omitempty"`
}

// WaitKind says why a run waits before a request: the client pacing itself
// to the rate limit, the server throttling it (429), or a back-off after a
// failure (5xx or a connection error).
type WaitKind string

// The kinds of wait. The zero value is a wait whose kind its reporter did
// not say (a source connector's, say); its Cause text stands alone.
const (
	WaitPacing    WaitKind = "pacing"    // the client keeps to the rate limit before sending
	WaitThrottled WaitKind = "throttled" // the server answered 429: wait as it says (Retry-After), or back off
	WaitBackoff   WaitKind = "backoff"   // a 5xx answer or a connection error: wait, then retry
)

// ThrottleWait is a wait event: a wait before a retry or the next request
// starts, or (End) has ended. Every wait that starts is reported, however
// short, and so is its end, even when the run is cancelled during it; an
// end repeats the start's fields.
type ThrottleWait struct {
	Org   string        `json:"org,omitempty"`
	Kind  WaitKind      `json:"kind,omitempty"`
	Wait  time.Duration `json:"wait"`
	Until time.Time     `json:"until"`
	// Cause is the wait's detail as a short text: "rate limit",
	// "429 Retry-After", "503 backoff", "connection error backoff". Code
	// branches on Kind; Cause stays for the --json consumers that read it.
	Cause string `json:"cause"`
	// Status is the HTTP status that caused a throttled or backoff wait;
	// zero for pacing and connection errors.
	Status  int  `json:"status,omitempty"`
	Attempt int  `json:"attempt,omitempty"`
	End     bool `json:"end,omitempty"`
}

// Reason says in words why w waits, for people: "pacing to the rate
// limit", "throttled by the server: HTTP 429", "backing off after
// HTTP 503", "backing off after a connection error".
func (w ThrottleWait) Reason() string {
	switch w.Kind {
	case WaitPacing:
		return "pacing to the rate limit"
	case WaitThrottled:
		return fmt.Sprintf("throttled by the server: HTTP %d", cmp.Or(w.Status, 429))
	case WaitBackoff:
		if w.Status != 0 {
			return fmt.Sprintf("backing off after HTTP %d", w.Status)
		}
		return "backing off after a connection error"
	}
	return w.Cause
}

// Reporter receives progress from fetches and applies. Implementations must
// be safe for concurrent use. Progress snapshots are coalesced by callers to
// about ten a second; the final one (Done) always arrives. Waits are never
// coalesced: Throttled hears every wait's start and end as they happen, and
// a snapshot held back by coalescing is delivered before a wait starts, so
// the counters shown during a wait are current.
type Reporter interface {
	Progress(Progress)
	Throttled(ThrottleWait)
	ChangeDone(ChangeResult)
}

// NopReporter discards everything.
type NopReporter struct{}

// Progress does nothing.
func (NopReporter) Progress(Progress) {}

// Throttled does nothing.
func (NopReporter) Throttled(ThrottleWait) {}

// ChangeDone does nothing.
func (NopReporter) ChangeDone(ChangeResult) {}

// ProgressGate coalesces a reader's progress snapshots to about ten a
// second, as Reporter asks: the first and the final snapshot always go out.
// The zero ProgressGate is ready. It is not safe for concurrent use; a
// reader that reports from several goroutines holds its own lock around
// Allow and the report, so that snapshots go out in order.
type ProgressGate struct {
	last time.Time
}

// Allow reports whether a snapshot taken at now goes out, and if so
// records the time: always when final, otherwise when none went out in
// the last progressInterval.
func (g *ProgressGate) Allow(now time.Time, final bool) bool {
	if !final && !g.last.IsZero() && now.Sub(g.last) < progressInterval {
		return false
	}
	g.last = now
	return true
}
