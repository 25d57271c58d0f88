package core

import (
	"log/slog"
	"time"
)

// Exclusion is an operator's decision not to apply a change. Remembered
// exclusions apply to later runs too, matched by org, user key and action.
type Exclusion struct {
	Org    string `json:"org"`
	Key    string `json:"key"`
	Action Action `json:"action"`
	Note   string `json:"note,omitempty"`
}

// Matches reports whether the exclusion covers change c.
func (e Exclusion) Matches(c Change) bool {
	return e.Org == c.Org && e.Key == c.Key && (e.Action == "" || e.Action == c.Action)
}

// RateLimit is the action API's request budget per org connection.
type RateLimit struct {
	Requests int           // requests allowed per Window
	Window   time.Duration // e.g. 10 per minute
}

// DefaultRateLimit is UMAPI's documented per-client action limit.
var DefaultRateLimit = RateLimit{Requests: 10, Window: time.Minute}

// Estimate is what applying a plan will cost, shown before approval.
type Estimate struct {
	Requests int            `json:"requests"`
	Commands int            `json:"commands"`
	PerOrg   map[string]int `json:"per_org"` // requests per org
	// Duration is the time the requests take at the rate limit.
	Duration time.Duration `json:"duration"`
	// RateLimit is the limit Duration assumes; Remaining uses it too.
	RateLimit RateLimit `json:"-"`
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Exclude lists change IDs not to send (operator exclusions).
	Exclude map[int]bool
	// Done lists change IDs already applied (from a journal, on resume).
	Done     map[int]bool
	Journal  Journal
	Reporter Reporter
	Clock    Clock
	Logger   *slog.Logger
}
