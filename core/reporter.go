package core

import "time"

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

// ThrottleWait reports a wait before a retry or the next request.
type ThrottleWait struct {
	Org   string        `json:"org,omitempty"`
	Wait  time.Duration `json:"wait"`
	Until time.Time     `json:"until"`
	// Cause says why: "429 Retry-After", "503 backoff", "rate limit".
	Cause   string `json:"cause"`
	Attempt int    `json:"attempt,omitempty"`
}

// Reporter receives progress from fetches and applies. Implementations must
// be safe for concurrent use. Progress snapshots are coalesced by callers to
// about ten a second; the final one (Done) always arrives.
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
