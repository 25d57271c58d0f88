package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/usersync/usersync/core"
)

// headlessReporter turns progress into UST-style log lines, or into JSON
// events with --json. Progress lines are coalesced to one a second per
// phase and org; the final (Done) one always gets through.
type headlessReporter struct {
	log      *slog.Logger
	events   *json.Encoder // nil unless --json
	progress bool          // logging.log_progress

	mu       sync.Mutex
	last     map[string]time.Time
	lastLine map[string]string // the last progress line logged, per phase and org
	now      func() time.Time
}

func newHeadlessReporter(log *slog.Logger, jsonOut io.Writer, progress bool) *headlessReporter {
	r := &headlessReporter{log: log, progress: progress, last: map[string]time.Time{}, lastLine: map[string]string{}, now: time.Now}
	if jsonOut != nil {
		r.events = json.NewEncoder(jsonOut)
	}
	return r
}

// eventType names a --json event; the names are a contract.
type eventType string

// The --json event types.
const (
	evPlanChange   eventType = "plan_change"
	evProgress     eventType = "progress"
	evThrottle     eventType = "throttle"
	evThrottleEnd  eventType = "throttle_end"
	evWarning      eventType = "warning"
	evMappingDiff  eventType = "mapping_diff"
	evSeats        eventType = "seats"
	evGroupHold    eventType = "group_hold"
	evPending      eventType = "pending"
	evActionResult eventType = "action_result"
	evSummary      eventType = "summary"
	evError        eventType = "error"
)

// event writes one JSON line; fields only ever gain members.
func (r *headlessReporter) event(typ eventType, v any) {
	if r.events == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events.Encode(struct {
		Type eventType `json:"type"`
		Time time.Time `json:"time"`
		Data any       `json:"data"`
	}{typ, r.now().UTC(), v})
}

// errorEvent reports a fatal error with --json, so that a consumer of the
// event stream learns why it ended.
func (r *headlessReporter) errorEvent(code int, err error) {
	r.event(evError, struct {
		Message  string `json:"message"`
		ExitCode int    `json:"exit_code"`
	}{err.Error(), code})
}

func (r *headlessReporter) Progress(p core.Progress) {
	key := string(p.Phase) + "/" + p.Org
	r.mu.Lock()
	t := r.now()
	if !p.Done && t.Sub(r.last[key]) < time.Second {
		r.mu.Unlock()
		return
	}
	r.last[key] = t
	r.mu.Unlock()
	r.event(evProgress, p)
	if !r.progress {
		return
	}
	logger, line := "", ""
	switch p.Phase {
	case core.PhaseDirectory:
		logger, line = "main", fmt.Sprintf("Directory: %d users read%s", p.Users, doneText(p.Done))
	case core.PhaseAdobe:
		pages := ""
		if p.PagesTotal > 0 {
			pages = fmt.Sprintf(", page %d/%d (%d%%)", p.Pages, p.PagesTotal, 100*p.Pages/p.PagesTotal)
		}
		logger, line = "umapi", fmt.Sprintf("Adobe org %s: %d users read%s%s", orgName(p.Org), p.Users, pages, doneText(p.Done))
	case core.PhaseApply:
		if p.RequestsTotal > 0 {
			logger, line = "processor", fmt.Sprintf("%d/%d (%d%%) requests sent to %s: %d commands succeeded, %d failed",
				p.RequestsSent, p.RequestsTotal, 100*p.RequestsSent/p.RequestsTotal, orgName(p.Org), p.CommandsSucceeded, p.CommandsFailed)
		}
	}
	// The final report often repeats the last one word for word.
	r.mu.Lock()
	repeat := line == "" || r.lastLine[key] == line
	r.lastLine[key] = line
	r.mu.Unlock()
	if !repeat {
		named(r.log, logger).Info(line)
	}
}

func doneText(done bool) string {
	if done {
		return " (done)"
	}
	return ""
}

func orgName(org string) string {
	if org == "" {
		return core.PrimaryOrg
	}
	return org
}

// Throttled renders a wait event: a `throttle` event when it starts and a
// `throttle_end` event when it ends with --json, and a warning line when it
// starts. The console's wait line reads the same fields.
func (r *headlessReporter) Throttled(w core.ThrottleWait) {
	typ := evThrottle
	if w.End {
		typ = evThrottleEnd
	}
	r.event(typ, struct {
		core.ThrottleWait
		Seconds float64 `json:"seconds"`
		Reason  string  `json:"reason"`
	}{w, w.Wait.Seconds(), w.Reason()})
	if w.End {
		return
	}
	// A wait without an org is the directory's (Okta, Entra, Google):
	// UMAPI waits always name their org.
	who, logger := orgName(w.Org), "umapi_client.connection"
	if w.Org == "" {
		who, logger = "directory", "directory"
	}
	msg := fmt.Sprintf("%s: waiting %s (%s), until %s",
		who, w.Wait.Round(100*time.Millisecond), w.Reason(), w.Until.Local().Format("15:04:05"))
	if w.Wait < 50*time.Millisecond {
		// Pacing that rounds to "0s" is not worth a warning.
		named(r.log, logger).Debug(msg)
		return
	}
	named(r.log, logger).Warn(msg)
}

func (r *headlessReporter) ChangeDone(c core.ChangeResult) {
	r.event(evActionResult, c)
	if c.Outcome == core.OutcomeFailed {
		// The executor logs UST's "Error requestID: action_N …" line for a
		// failed command; this one, by change, is for debugging only, so
		// that a failure is not logged twice under two numberings.
		named(r.log, "user_sync.connector.connector_umapi.action").Debug(
			fmt.Sprintf("%s change %d failed: %s %s", orgName(c.Org), c.ChangeID, c.Code, c.Message))
	}
	for _, w := range c.Warnings {
		named(r.log, "user_sync.connector.connector_umapi.action").Warn(fmt.Sprintf("%s change %d: %s", orgName(c.Org), c.ChangeID, w))
	}
}
