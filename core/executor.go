package core

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Result codes the executor itself gives to changes (server codes start
// with "error.").
const (
	// ResultNotRun marks a change whose step came after a failed step of the
	// same command: the server skips the rest of a command once a step fails.
	ResultNotRun = "usersync.not_run"
	// ResultSendFailed marks a change whose request got no usable answer
	// after every retry. The server may or may not have applied it.
	ResultSendFailed = "usersync.send_failed"
	// ResultBlocked marks a change that was not sent because it cannot
	// succeed (Change.Blocked, or a create UMAPI would refuse); its reason
	// is in the message.
	ResultBlocked = "usersync.blocked"
)

// progressInterval is how often Apply reports progress at most.
const progressInterval = 100 * time.Millisecond

// Apply sends the changes of p to their orgs' targets and reports what
// became of each. It sends the requests BuildRequests packs, one at a time,
// org by org in Plan.Orgs order, skipping o.Exclude (reported as skipped)
// and o.Done (not reported: a previous run applied them).
//
// Before each request it writes o.Journal.Sending, after the reply
// o.Journal.Sent. A change carried by several requests (a user joining many
// groups through usergroup commands) appears in the Sent results of each;
// it is done when all of them succeeded.
//
// A step of a usergroup command fails for all the users in its list, so
// changes that failed inside usergroup commands are sent once more at the
// end, one user a command, to learn which users really failed.
//
// Per-change failures are collected in the result and do not stop the run.
// A request that fails as a whole after the target's retries fails its
// changes and the run goes on (as UST does); an authentication, permission
// or unknown-org failure stops the run, because every later request would
// fail the same way, and Apply returns that error with the result.
//
// When ctx is cancelled, Apply lets the request in flight finish (the
// target completes an attempt already on the wire), sends nothing more, and
// returns with Cancelled set and NotSent listing the changes not (fully)
// sent. Resending them later is safe: every command is idempotent.
func Apply(ctx context.Context, p *Plan, targets map[string]Target, o ApplyOptions) (ApplyResult, error) {
	rep := o.Reporter
	if rep == nil {
		rep = NopReporter{}
	}
	clock := o.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	skip := make(map[int]bool, len(o.Exclude)+len(o.Done))
	for id, v := range o.Exclude {
		skip[id] = skip[id] || v
	}
	for id, v := range o.Done {
		skip[id] = skip[id] || v
	}
	pk := pack(p, skip)
	res := ApplyResult{Orgs: map[string]OrgStats{}}
	for _, r := range pk.requests {
		if targets[r.Org] == nil {
			return res, Errorf(CodeInvalidInput, "apply", "no UMAPI connection for org %q", r.Org)
		}
	}

	ex := &executor{
		plan: p, rep: rep, log: log, clock: clock, res: &res,
		pending: map[int]int{}, status: map[int]*ChangeResult{},
	}
	ex.byID = make(map[int]*Change, len(p.Changes))
	for i := range p.Changes {
		ex.byID[p.Changes[i].ID] = &p.Changes[i]
	}
	for _, c := range p.Changes {
		if o.Exclude[c.ID] && !o.Done[c.ID] {
			ex.finish(ChangeResult{ChangeID: c.ID, Org: c.Org, Outcome: OutcomeSkipped, Message: "excluded"})
		}
	}
	for _, r := range pk.invalid {
		log.Error(fmt.Sprintf("change %d not sent: %s", r.ChangeID, r.Message), "org", r.Org)
		ex.finish(r)
	}
	for _, r := range pk.requests {
		for _, id := range r.ChangeIDs() {
			ex.pending[id]++
		}
	}
	ex.total = len(pk.requests)

	ex.targets, ex.journal = targets, o.Journal
	stopFlusher := ex.startFlusher()
	runErr := ex.sendAll(ctx, pk.requests)
	if runErr == nil && !res.Cancelled && len(ex.retry) > 0 {
		runErr = ex.resendUserGroupFailures(ctx)
	}
	// Failures waiting for a resend that did not happen stand as they are.
	for _, id := range slices.Sorted(maps.Keys(ex.retry)) {
		if ex.pending[id] > 0 {
			delete(ex.pending, id)
		}
		ex.finish(*ex.retry[id])
		delete(ex.retry, id)
	}
	// Everything not (fully) sent.
	var notSent []int
	for id, n := range ex.pending {
		if n > 0 {
			notSent = append(notSent, id)
		}
	}
	slices.Sort(notSent)
	for _, id := range notSent {
		org := ""
		if c := ex.byID[id]; c != nil {
			org = c.Org
		}
		ex.pending[id] = 0
		delete(ex.status, id)
		rep.ChangeDone(ChangeResult{ChangeID: id, Org: org, Outcome: OutcomeSkipped, Message: "not sent"})
	}
	if len(notSent) > 0 && (res.Cancelled || runErr != nil) {
		res.NotSent = notSent
	}
	stopFlusher()
	ex.progress(true)
	slices.SortFunc(res.Results, func(a, b ChangeResult) int { return a.ChangeID - b.ChangeID })
	if res.Cancelled && runErr == nil {
		runErr = ctx.Err()
		if runErr == nil {
			runErr = Errorf(CodeCanceled, "apply", "interrupted")
		} else {
			runErr = &Error{Code: CodeCanceled, Op: "apply", Err: runErr}
		}
	}
	return res, runErr
}

// sendAll sends reqs in order, stopping early on cancellation or on a
// failure that every later request would share.
func (ex *executor) sendAll(ctx context.Context, reqs []PackedRequest) error {
	for _, r := range reqs {
		if ctx.Err() != nil {
			ex.res.Cancelled = true
			return nil
		}
		seq := ex.seq
		ex.seq++
		ex.org = r.Org
		ids := r.ChangeIDs()
		if ex.journal != nil {
			if err := ex.journal.Sending(seq, r.Org, r.Request, ids); err != nil {
				return fmt.Errorf("journal: %w", err)
			}
		}
		resp, err := ex.targets[r.Org].Send(ctx, r.Request, sendReporter{ex})
		if Code(err) != CodeCanceled {
			// A request cancelled while it waited (pacing, or a retry's
			// back-off) is not counted as sent: its changes are not sent,
			// and resending them is safe.
			ex.res.Requests++
		}
		var results []ChangeResult
		var runErr error
		stop := false
		switch code := Code(err); {
		case err == nil:
			results = ex.mapResponse(r, resp)
		case code == CodeCanceled:
			// The target gave up waiting to retry: nothing more reached the
			// server than an attempt whose outcome is unknown. Resending is
			// safe, so these count as not sent.
			ex.res.Cancelled = true
			for _, id := range ids {
				results = append(results, ChangeResult{ChangeID: id, Org: r.Org, Outcome: OutcomeSkipped, Message: "interrupted"})
			}
		default:
			msg := err.Error()
			if code != CodeUnauthenticated && code != CodePermissionDenied && code != CodeNotFound && code != CodeInvalidInput {
				msg += " (the request may or may not have been applied)"
			}
			ex.log.Error(fmt.Sprintf("sent actions %s may have failed: %s", requestIDs(r.Request), err), "org", r.Org)
			for _, id := range ids {
				results = append(results, ChangeResult{ChangeID: id, Org: r.Org, Outcome: OutcomeFailed, Code: ResultSendFailed, Message: msg})
			}
			ex.commandsFailed += len(r.Request.Commands)
			if code == CodeUnauthenticated || code == CodePermissionDenied || code == CodeNotFound {
				runErr, stop = err, true
			}
		}
		if ex.journal != nil {
			if jerr := ex.journal.Sent(seq, results); jerr != nil && runErr == nil {
				runErr, stop = fmt.Errorf("journal: %w", jerr), true
			}
		}
		if Code(err) == CodeCanceled {
			// Leave these changes to the not-sent list.
			ex.progress(false)
			return runErr
		}
		for _, cr := range results {
			ex.record(cr)
		}
		ex.sent++
		ex.progress(false)
		if stop {
			return runErr
		}
	}
	return nil
}

// resendUserGroupFailures sends again, as user commands, the changes that
// failed inside usergroup commands. A usergroup step fails as a whole when
// one of its users cannot be added (deleted since the read, say), and the
// server then skips the command's later steps: resending each user alone
// tells which users really failed. The commands are idempotent, so the
// members that did get in are not harmed.
func (ex *executor) resendUserGroupFailures(ctx context.Context) error {
	fb := &Plan{Orgs: ex.plan.Orgs, TestMode: ex.plan.TestMode}
	for _, id := range slices.Sorted(maps.Keys(ex.retry)) {
		fb.Changes = append(fb.Changes, *ex.byID[id])
	}
	reqs := pack(fb, nil).requests
	for i := range reqs {
		// The sync session was closed by the last request already.
		reqs[i].Request.SyncStart, reqs[i].Request.SyncEnd = false, false
		for _, id := range reqs[i].ChangeIDs() {
			ex.pending[id]++
		}
	}
	ex.total += len(reqs)
	ex.log.Info(fmt.Sprintf("resending %d changes that failed in user group commands or after a refused step, one user a command", len(fb.Changes)))
	ex.resending = true
	return ex.sendAll(ctx, reqs)
}

// executor is the state of one Apply.
type executor struct {
	plan  *Plan
	byID  map[int]*Change
	rep   Reporter
	log   *slog.Logger
	clock Clock
	res   *ApplyResult
	org   string

	// pending counts, per change, the requests still to answer for it;
	// status accumulates its outcome until then.
	pending map[int]int
	status  map[int]*ChangeResult

	targets   map[string]Target
	journal   Journal
	seq       int
	resending bool
	// retry holds changes that failed in a usergroup command, to be sent
	// again as user commands; ugFailed marks them as they fail.
	retry    map[int]*ChangeResult
	ugFailed map[int]bool
	// notRun marks changes the server skipped after a refused step that
	// did not concern the user itself: they are resent on their own.
	notRun map[int]bool

	total, sent                       int
	commandsSucceeded, commandsFailed int
	// pmu guards the progress snapshot shared with the flusher goroutine.
	pmu          sync.Mutex
	lastProgress time.Time
	// heldProgress is the newest snapshot coalescing held back; the flusher
	// delivers it within progressInterval, so that the counters shown
	// during a long rate-limit wait are current.
	heldProgress *Progress
}

// record folds one request's result for a change into its outcome and
// reports the change once no request is left for it.
func (ex *executor) record(cr ChangeResult) {
	st := ex.status[cr.ChangeID]
	if st == nil {
		c := cr
		st = &c
		ex.status[cr.ChangeID] = st
	} else {
		if st.Outcome != OutcomeFailed && cr.Outcome == OutcomeFailed {
			st.Outcome, st.Code, st.Message = cr.Outcome, cr.Code, cr.Message
		}
		st.Warnings = append(st.Warnings, cr.Warnings...)
	}
	ex.pending[cr.ChangeID]--
	if ex.pending[cr.ChangeID] <= 0 {
		delete(ex.pending, cr.ChangeID)
		delete(ex.status, cr.ChangeID)
		// A change the server skipped only because an earlier step of its
		// command was refused is sent again on its own: one refused step
		// must never take a valid change down with it.
		if st.Outcome == OutcomeFailed && (ex.ugFailed[cr.ChangeID] || (st.Code == ResultNotRun && ex.notRun[cr.ChangeID])) && !ex.resending {
			if ex.retry == nil {
				ex.retry = map[int]*ChangeResult{}
			}
			ex.retry[cr.ChangeID] = st
			return
		}
		delete(ex.retry, cr.ChangeID)
		ex.finish(*st)
	}
}

func (ex *executor) finish(cr ChangeResult) {
	ex.res.Results = append(ex.res.Results, cr)
	if cr.Outcome != OutcomeSkipped {
		s := ex.res.Orgs[cr.Org]
		s.Total++
		if cr.Outcome == OutcomeSucceeded {
			s.Success++
		} else {
			s.Errors++
		}
		ex.res.Orgs[cr.Org] = s
	}
	ex.rep.ChangeDone(cr)
}

// progress reports counters, at most every progressInterval unless final;
// a snapshot held back is delivered by flushProgress.
func (ex *executor) progress(final bool) {
	p := Progress{
		Phase: PhaseApply, Org: ex.org,
		RequestsSent: ex.sent, RequestsTotal: ex.total,
		CommandsSucceeded: ex.commandsSucceeded, CommandsFailed: ex.commandsFailed,
		Done: final,
	}
	now := ex.clock.Now()
	ex.pmu.Lock()
	defer ex.pmu.Unlock()
	if !final && !ex.lastProgress.IsZero() && now.Sub(ex.lastProgress) < progressInterval {
		ex.heldProgress = &p
		return
	}
	ex.lastProgress, ex.heldProgress = now, nil
	ex.rep.Progress(p)
}

// flushProgress delivers a held-back snapshot, if any.
func (ex *executor) flushProgress() {
	ex.pmu.Lock()
	defer ex.pmu.Unlock()
	if ex.heldProgress != nil {
		ex.lastProgress = ex.clock.Now()
		ex.rep.Progress(*ex.heldProgress)
		ex.heldProgress = nil
	}
}

// startFlusher delivers held-back snapshots every progressInterval until
// the returned stop function is called.
func (ex *executor) startFlusher() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-ex.clock.After(progressInterval):
				ex.flushProgress()
			}
		}
	}()
	return func() { close(quit); <-done }
}

// sendReporter is the reporter a target hears while it sends a request.
// Waits go straight through, never coalesced; before a wait starts, the
// progress snapshot coalescing held back goes first, so that the counters
// shown during the wait (and the time left computed from them) are current.
type sendReporter struct{ ex *executor }

func (r sendReporter) Progress(p Progress) { r.ex.rep.Progress(p) }

func (r sendReporter) Throttled(w ThrottleWait) {
	if !w.End {
		r.ex.flushProgress()
	}
	r.ex.rep.Throttled(w)
}

func (r sendReporter) ChangeDone(c ChangeResult) { r.ex.rep.ChangeDone(c) }

// mapResponse turns a response into one result per change the request
// carries. An error at (index, step) fails the changes that step carries;
// the server runs no later step of that command, so their changes fail as
// not run. A usergroup step's error fails every user in its list.
func (ex *executor) mapResponse(r PackedRequest, resp ActionResponse) []ChangeResult {
	ids := r.ChangeIDs()
	out := make(map[int]*ChangeResult, len(ids))
	for _, id := range ids {
		out[id] = &ChangeResult{ChangeID: id, Org: r.Org, Outcome: OutcomeSucceeded}
	}
	curCmd := 0
	fail := func(id int, code, msg string) {
		cr := out[id]
		if cr.Outcome != OutcomeFailed {
			cr.Outcome, cr.Code, cr.Message = OutcomeFailed, code, msg
		}
		if r.Request.Commands[curCmd].UserGroup != "" && ex.byID[id] != nil && ex.byID[id].Action != ActionCreateGroup {
			if ex.ugFailed == nil {
				ex.ugFailed = map[int]bool{}
			}
			ex.ugFailed[id] = true
		}
	}
	type issueSet struct {
		errs, warns []ActionIssue
	}
	byCmd := map[int]*issueSet{}
	for _, e := range resp.Errors {
		if e.Index < 0 || e.Index >= len(r.Carries) {
			ex.log.Warn(fmt.Sprintf("UMAPI reported an error for command %d of a %d-command request: %s %s",
				e.Index, len(r.Carries), e.Code, e.Message), "org", r.Org)
			continue
		}
		if byCmd[e.Index] == nil {
			byCmd[e.Index] = &issueSet{}
		}
		byCmd[e.Index].errs = append(byCmd[e.Index].errs, e)
	}
	for _, w := range resp.Warnings {
		if w.Index < 0 || w.Index >= len(r.Carries) {
			continue
		}
		if byCmd[w.Index] == nil {
			byCmd[w.Index] = &issueSet{}
		}
		byCmd[w.Index].warns = append(byCmd[w.Index].warns, w)
	}
	stepsOf := func(cmd int, step int) []int {
		if step >= 0 && step < len(r.Carries[cmd]) {
			return []int{step}
		}
		all := make([]int, len(r.Carries[cmd]))
		for i := range all {
			all[i] = i
		}
		return all
	}
	failedCmds := 0
	for i := range r.Carries {
		set := byCmd[i]
		if set == nil {
			continue
		}
		for _, w := range set.warns {
			for _, s := range stepsOf(i, w.Step) {
				for _, id := range r.Carries[i][s] {
					out[id].Warnings = append(out[id].Warnings, strings.TrimSpace(w.Code+": "+w.Message))
				}
			}
		}
		if len(set.errs) == 0 {
			continue
		}
		failedCmds++
		curCmd = i
		first := len(r.Carries[i])
		for _, e := range set.errs {
			for _, s := range stepsOf(i, e.Step) {
				first = min(first, s)
				for _, id := range r.Carries[i][s] {
					fail(id, e.Code, e.Message)
				}
			}
			cmd := r.Request.Commands[i]
			target := cmd.User
			if target == "" {
				target = "usergroup " + cmd.UserGroup
			}
			stepName := ""
			if e.Step >= 0 && e.Step < len(cmd.Steps) {
				stepName = string(cmd.Steps[e.Step].Kind)
			}
			ex.log.Error(fmt.Sprintf("Error requestID: %s - User: %s - Command: %s - Error code: %s - Message: %s",
				cmd.RequestID, target, stepName, e.Code, e.Message), "org", r.Org)
		}
		// When the refused step concerned a group or an attribute, not the
		// user itself, the steps after it can still succeed on their own.
		resend := !userLevelFailure(r.Request.Commands[i], first, set.errs)
		for s := first + 1; s < len(r.Carries[i]); s++ {
			for _, id := range r.Carries[i][s] {
				fail(id, ResultNotRun, fmt.Sprintf("not applied: step %d of the same command failed first", first))
				if resend && r.Request.Commands[i].UserGroup == "" {
					if ex.notRun == nil {
						ex.notRun = map[int]bool{}
					}
					ex.notRun[id] = true
				}
			}
		}
	}
	if len(resp.Errors) == 0 && resp.NotCompleted > 0 {
		ex.log.Warn(fmt.Sprintf("UMAPI reported %d commands not completed but listed no errors", resp.NotCompleted), "org", r.Org)
	}
	if len(resp.Errors) > 0 && resp.Result == "success" {
		ex.log.Warn("UMAPI reported success but listed errors", "org", r.Org)
	}
	ex.commandsFailed += failedCmds
	ex.commandsSucceeded += len(r.Carries) - failedCmds
	results := make([]ChangeResult, 0, len(ids))
	for _, id := range ids {
		results = append(results, *out[id])
	}
	return results
}

// userLevelFailure reports whether the refusal of step first of cmd
// concerns the user itself (its create, its account, its domain or
// country), so that the command's later steps would fail the same way.
func userLevelFailure(cmd Command, first int, errs []ActionIssue) bool {
	if first < len(cmd.Steps) {
		switch cmd.Steps[first].Kind {
		case StepCreateFederatedID, StepCreateEnterpriseID, StepAddAdobeID:
			return true
		}
	}
	for _, e := range errs {
		for _, p := range []string{"error.user.", "error.domain.", "error.country.", "error.api.user.", "error.organization."} {
			if strings.HasPrefix(e.Code, p) {
				return true
			}
		}
	}
	return false
}

func requestIDs(req ActionRequest) string {
	var ids []string
	for _, c := range req.Commands {
		if c.RequestID != "" && !slices.Contains(ids, c.RequestID) {
			ids = append(ids, c.RequestID)
		}
	}
	return strings.Join(ids, ", ")
}
