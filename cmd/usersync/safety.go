package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/usersync/usersync/connectors/notify"
	"github.com/usersync/usersync/connectors/secrets"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
)

// This file wires the safety limits beyond UST (grace period, group
// removal guard, licence seats) and the notifications into the run. The
// logic is in core, store and connectors/notify; these are the few calls
// a run lifecycle makes.

// clock is the time commands plan with; tests set env.now.
func (e *env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// logSafety logs the plan's safety data: licence seats, withheld groups
// and users in their grace period, as text lines and --json events
// (seats, group_hold, pending).
func (p *pipeline) logSafety(plan *core.Plan, rep *headlessReporter) {
	lg := named(p.log, "processor")
	for _, r := range plan.Seats {
		rep.event(evSeats, r)
		quota := r.Quota
		if quota == "" {
			quota = "unknown"
		}
		line := fmt.Sprintf("Seats: product profile %q (%s): %d members before, %d after (+%d, -%d), licence quota %s", r.Group, r.Org, r.Before, r.After, r.Adds, r.Removals, quota)
		if r.Held > 0 {
			line += fmt.Sprintf("; %d adds withheld", r.Held)
		}
		lg.Info(line)
	}
	for _, h := range plan.GroupHolds {
		rep.event(evGroupHold, h)
	}
	for _, u := range plan.Pending {
		rep.event(evPending, u)
		state := "pending"
		if u.IsDue {
			state = "due now"
		}
		lg.Info(fmt.Sprintf("Grace period: Adobe-only user %s, missing since %s, --adobe-only-user-action %s due %s (%s)",
			u.Email, u.FirstMissed.Format(time.RFC3339), u.Action, u.Due.Format(time.RFC3339), state))
	}
}

// printPending writes a plan's grace-period users for usersync show.
func printPending(w io.Writer, plan *core.Plan) {
	if plan == nil || len(plan.Pending) == 0 {
		return
	}
	fmt.Fprintf(w, "\nAdobe-only users in their grace period:\n")
	for _, u := range plan.Pending {
		due := "due " + u.Due.Local().Format(time.RFC1123)
		if u.IsDue {
			due = "action taken in this run"
		}
		fmt.Fprintf(w, "  %s  %s, missing since %s, %s\n", u.Email, u.Action, u.FirstMissed.Local().Format(time.RFC1123), due)
	}
}

// notifyRun sends the configured notifications about the run o, which
// ends with exit code code. It never changes the code: a failure to notify
// is logged.
func (p *pipeline) notifyRun(ctx context.Context, o *run.Outcome, code int) {
	cfg := p.cfg.Notifications
	if !cfg.Enabled() {
		return
	}
	r := o.Run
	s := notify.Summary{Command: cmp.Or(r.Command, "sync"), ExitCode: code, Outcome: outcomeOf(code)}
	s.Host, _ = os.Hostname()
	s.RunID, s.Status, s.TestMode, s.Started, s.Finished = r.ID, string(r.Status), r.TestMode, r.Started, r.Finished
	s.Changes, s.Succeeded, s.Failed, s.Withheld, s.Error = r.Changes, r.Succeeded, r.Failed, r.Withheld, r.Error
	if o.Err != nil {
		s.Error = o.Err.Error()
	}
	if plan := o.Plan; plan != nil {
		s.Counters = &o.Summary.Counters
		s.Limit, s.GroupHolds, s.Seats, s.Pending, s.Warnings = plan.Limit, plan.GroupHolds, plan.Seats, plan.Pending, plan.Warnings
	}
	if s.Outcome == notify.OutcomeUnchanged && s.Succeeded > 0 {
		s.Outcome = notify.OutcomeChanges
	}
	if !notify.Wanted(cfg, s.Outcome) {
		return
	}
	for _, err := range notify.Send(ctx, cfg, s, secrets.Default(p.rf.secretsFile)) {
		named(p.log, "notify").Error(err.Error() + " (the run's outcome is unchanged)")
	}
}

// outcomeOf maps an exit code to the notification outcome; a run that
// exited 0 is "unchanged" until its results say otherwise.
func outcomeOf(code int) string {
	switch code {
	case exitOK, exitPending:
		return notify.OutcomeUnchanged
	case exitWithheld:
		return notify.OutcomeWithheld
	default:
		return notify.OutcomeFailure
	}
}
