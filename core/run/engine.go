package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/usersync/usersync/core"
)

// Engine runs syncs: one loaded configuration with its connectors and the
// store its runs are recorded in. Every front end (sync, plan, apply, the
// console) calls it; none keeps a run lifecycle of its own.
type Engine struct {
	Store   Store
	Source  core.Source
	Targets map[string]core.Target
	Options *core.Options
	// OptionText is the run's options as text for the history (never
	// secrets: only flags and file names).
	OptionText map[string]string
	// Logger receives UST's processor lines: the plan's notes, rendered
	// as soon as it is made, and the executor's.
	Logger *slog.Logger
	// KeepRuns is how many runs the history keeps (0: all). Console drafts
	// are pruned first.
	KeepRuns int
	// WriteStrays writes the Adobe-only users for
	// --adobe-only-user-action write-file; nil writes nothing.
	WriteStrays func(*core.Plan) error
	// RateLimit is the pace the client sends action requests at, which
	// estimates count with; zero is Adobe's documented limit.
	RateLimit core.RateLimit
	// Clock drives the executor's waits; nil is the system clock.
	Clock core.Clock
	// Now stamps records; nil is time.Now.
	Now func() time.Time
	// NewID names a new run; nil lets the store name it.
	NewID func() string
	// ConfigFile is the main configuration file, named in the command
	// that finishes an interrupted run.
	ConfigFile string
	// ExitCode is the front end's one mapping of an outcome to an exit
	// code, recorded with the run; nil records 0.
	ExitCode func(*Outcome) int
}

func (e *Engine) newID() string {
	if e.NewID == nil {
		return ""
	}
	return e.NewID()
}

func (e *Engine) exitCode(o *Outcome) int {
	if e.ExitCode == nil {
		return 0
	}
	return e.ExitCode(o)
}

// Rate is the pace estimates count with: RateLimit, or Adobe's limit.
func (e *Engine) Rate() core.RateLimit {
	if e.RateLimit == (core.RateLimit{}) {
		return core.DefaultRateLimit
	}
	return e.RateLimit
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// Draft is a plan ready to apply: a run's plan, the snapshots it was made
// from (nil for a plan read back from a file) and what is already applied.
type Draft struct {
	// Run is the run the plan was recorded in. Apply records into it when
	// it is a fresh plan of this engine (sync, console); otherwise (apply
	// PLAN|RUN-ID, resume) Apply starts a new run that names it.
	Run      Record
	Snapshot *core.Snapshot
	Plan     *core.Plan
	// Chosen are the exclusions recorded with the plan's run (the
	// operator's, in the console); applying it keeps them.
	Chosen map[int]bool
	// Done are the changes already applied (resume), InFlight those that
	// were in flight when the run stopped and are sent again.
	Done     map[int]bool
	InFlight []int
	// fresh is set for a plan this engine just made.
	fresh bool
}

// Exclusions resolves the draft's effective exclusions with chosen (the
// operator's choice, on top of the draft's own) and the remembered ones.
func (e *Engine) Exclusions(d *Draft, chosen map[int]bool) (Exclusions, error) {
	remembered, err := e.Store.Exclusions()
	if err != nil {
		return Exclusions{}, fmt.Errorf("reading the remembered exclusions: %w", err)
	}
	all := map[int]bool{}
	for id := range d.Chosen {
		all[id] = true
	}
	for id, v := range chosen {
		if v {
			all[id] = true
		}
	}
	return Exclude(d.Plan, all, remembered), nil
}

// Fetch reads both sides as the engine's options ask.
func (e *Engine) Fetch(ctx context.Context, r core.Reporter) (*core.Snapshot, error) {
	return core.Fetch(ctx, e.Source, e.Targets, e.Options, r)
}

// Start records a new run of command before anything is read, so that a
// failed read is in the history too.
func (e *Engine) Start(command string) (Record, error) {
	r, err := e.Store.CreateRun(Record{ID: e.newID(), Command: command, Status: StatusPlanned, Started: e.now(),
		TestMode: e.Options.TestMode, Options: e.OptionText})
	if err != nil {
		return Record{}, fmt.Errorf("recording the run: %w", err)
	}
	return r, nil
}

// Fail records that run stopped on err before anything was sent, and
// returns the outcome.
func (e *Engine) Fail(run Record, err error) *Outcome {
	o := &Outcome{Run: run, Err: err}
	run.Status, run.Error, run.Finished = StatusFailed, err.Error(), e.now()
	if o.Kind() == Interrupted {
		run.Status = StatusInterrupted
	}
	run.ExitCode = e.exitCode(o)
	o.Run = run
	if run.ID != "" {
		if werr := e.Store.UpdateRun(run); werr != nil {
			o.RecordErr = fmt.Errorf("recording run %s: %w", run.ID, werr)
		}
	}
	return o
}

// Plan builds the plan of snap and records it in run (from Start): the
// snapshots, the plan with its resolved inputs, the Adobe-only file.
func (e *Engine) Plan(ctx context.Context, run Record, snap *core.Snapshot) (*Draft, error) {
	if err := e.Store.SaveSnapshot(run.ID, snap); err != nil {
		return nil, fmt.Errorf("saving the snapshots of run %s: %w", run.ID, err)
	}
	if err := e.prepareSafety(); err != nil {
		return nil, err
	}
	plan, err := core.BuildPlan(ctx, snap, e.Options)
	if err != nil {
		if pe, ok := errors.AsType[*core.PlanError](err); ok {
			core.LogNotes(ctx, e.Logger, pe.Notes)
		}
		return nil, err
	}
	core.LogNotes(ctx, e.Logger, plan.Notes)
	in := core.ResolveInputs(e.Options)
	in.Options = e.OptionText
	plan.Inputs = &in
	if err := e.Store.SavePlan(run.ID, plan); err != nil {
		return nil, fmt.Errorf("saving the plan of run %s: %w", run.ID, err)
	}
	if e.WriteStrays != nil {
		if err := e.WriteStrays(plan); err != nil {
			return nil, err
		}
	}
	run.TestMode, run.Counters, run.Changes, run.Withheld = plan.TestMode, plan.Counters, len(plan.Changes), len(plan.Withheld)
	d := &Draft{Run: run, Snapshot: snap, Plan: plan, fresh: true}
	x, err := e.Exclusions(d, nil)
	if err != nil {
		return nil, err
	}
	d.Run.Excluded = x.IDs()
	if err := e.Store.UpdateRun(d.Run); err != nil {
		return nil, fmt.Errorf("recording run %s: %w", run.ID, err)
	}
	return d, nil
}

// Planned is the outcome of a plan that is not applied (plan, or a
// console that quits before applying).
func (e *Engine) Planned(d *Draft) *Outcome {
	x, err := e.Exclusions(d, nil)
	o := &Outcome{Run: d.Run, Plan: d.Plan, Excluded: x, PlanOnly: true, Err: err}
	o.Summary = Summarize(d.Plan, x, d.Done, nil)
	if k := o.Kind(); k == Pending || k == OK {
		o.Run.ExitCode, o.Run.Finished = e.exitCode(o), e.now()
		if werr := e.Store.UpdateRun(o.Run); werr != nil {
			o.RecordErr = fmt.Errorf("recording run %s: %w", o.Run.ID, werr)
		}
		o.RecordErr = errors.Join(o.RecordErr, e.prune(o.Run.ID))
	}
	return o
}

// Open loads a saved plan to apply: a plan file's plan, or the plan of a
// stored run. It reads both sides again with the plan's own inputs and
// refuses the plan when either changed since it was made.
func (e *Engine) Open(ctx context.Context, plan *core.Plan, from string, r core.Reporter) (*Draft, error) {
	d := &Draft{Plan: plan, Run: Record{ID: from}}
	if from != "" {
		if rec, err := e.Store.Run(from); err == nil {
			d.Run = rec
			d.Chosen = map[int]bool{}
			for _, id := range rec.Excluded {
				d.Chosen[id] = true
			}
		}
	}
	// Remembered exclusions and dependents are resolved again at apply;
	// only the operator's own choices travel with the run. The run's
	// Excluded holds both, which is the same set at apply time.
	in := core.ResolveInputs(e.Options)
	opts := e.Options
	if plan.Inputs != nil {
		in = *plan.Inputs
		o := *e.Options
		o.Strategy = in.Strategy
		opts = &o
	}
	snap, err := core.FetchInputs(ctx, e.Source, e.Targets, opts, in, r)
	if err != nil {
		return nil, fmt.Errorf("%w; nothing was sent", err)
	}
	if err := CheckFresh(plan, snap); err != nil {
		return nil, err
	}
	d.Snapshot = snap
	return d, nil
}

// CheckFresh refuses a plan whose snapshots no longer match either side.
func CheckFresh(plan *core.Plan, snap *core.Snapshot) error {
	var stale []string
	if plan.DirectoryDigest != "" && core.DirectoryDigest(&snap.Directory) != plan.DirectoryDigest {
		stale = append(stale, "the directory")
	}
	if plan.AdobeDigest != "" && core.AdobeDigest(snap.Adobe) != plan.AdobeDigest {
		stale = append(stale, "the Adobe org")
	}
	if len(stale) > 0 {
		return core.Errorf(core.CodeStale, "apply", "the plan is stale: %s changed since it was made (%s). Nothing was sent; run 'usersync plan' again and review the new plan",
			strings.Join(stale, " and "), plan.CreatedAt.Local().Format(time.RFC1123))
	}
	return nil
}

// Resumable loads the run 'apply --resume' finishes: run id, or (id "")
// the newest run that sent changes, when it did not finish. An older
// interrupted run is never picked once a later run applied anything: its
// plan is out of date, and the later run converged the org anyway.
func (e *Engine) Resumable(id string) (*Draft, error) {
	var info Record
	var err error
	if id != "" {
		if info, err = e.Store.Run(id); err != nil {
			return nil, err
		}
		sent, err := e.Store.Sent(info.ID)
		if err != nil {
			return nil, err
		}
		if info.Status != StatusApplying && info.Status != StatusInterrupted && (info.Status != StatusFailed || !sent) {
			return nil, fmt.Errorf("run %s is %s, not interrupted: nothing to resume", info.ID, info.Status)
		}
	} else if info, err = e.newestResumable(); err != nil {
		return nil, err
	}
	plan, err := e.Store.Plan(info.ID)
	if err != nil {
		return nil, err
	}
	d := &Draft{Run: info, Plan: plan, Done: map[int]bool{}, Chosen: map[int]bool{}}
	for _, id := range info.Excluded {
		d.Chosen[id] = true
	}
	seen := map[string]bool{}
	for id := info.ID; id != "" && !seen[id]; {
		seen[id] = true
		done, inFlight, err := e.Store.ResumeState(id)
		if err != nil {
			return nil, err
		}
		for c := range done {
			d.Done[c] = true
		}
		if id == info.ID {
			d.InFlight = inFlight
		}
		r, err := e.Store.Run(id)
		if err != nil || r.ResumedFrom == "" {
			break
		}
		id = r.ResumedFrom
	}
	return d, nil
}

func (e *Engine) newestResumable() (Record, error) {
	runs, err := e.Store.Runs(0)
	if err != nil {
		return Record{}, err
	}
	for _, r := range runs {
		switch r.Status {
		case StatusApplying, StatusInterrupted:
			return r, nil
		case StatusApplied, StatusWithheld:
			return Record{}, fmt.Errorf("no interrupted apply to resume: the newest apply (run %s) finished", r.ID)
		case StatusFailed:
			// A run that failed before sending anything does not count;
			// one that failed in the middle of its apply is finished like
			// an interrupted one.
			if sent, err := e.Store.Sent(r.ID); err == nil && sent {
				return r, nil
			}
		}
	}
	return Record{}, errors.New("no interrupted apply to resume")
}

// Apply sends d's plan without the effective exclusions (d's own, chosen
// and the remembered ones, with their dependents), journals every request,
// saves the results and finishes the run record. A draft this engine just
// planned is applied in its own run; any other starts a new "apply" run
// that names the one it came from. The outcome is never nil.
func (e *Engine) Apply(ctx context.Context, d *Draft, chosen map[int]bool, r core.Reporter) *Outcome {
	x, err := e.Exclusions(d, chosen)
	if err != nil {
		return e.Fail(d.Run, err)
	}
	run := d.Run
	if !d.fresh {
		run, err = e.Store.CreateRun(Record{ID: e.newID(), Command: "apply", Started: e.now(), TestMode: d.Plan.TestMode,
			Options: e.OptionText, ResumedFrom: d.Run.ID, Counters: d.Plan.Counters,
			Changes: len(d.Plan.Changes), Withheld: len(d.Plan.Withheld)})
		if err != nil {
			return &Outcome{Plan: d.Plan, Excluded: x, Err: fmt.Errorf("recording the run: %w; nothing was sent", err)}
		}
	}
	run.Status, run.Excluded = StatusApplying, x.IDs()
	if err := e.Store.UpdateRun(run); err != nil {
		return &Outcome{Run: run, Plan: d.Plan, Excluded: x, Err: fmt.Errorf("recording run %s: %w; nothing was sent", run.ID, err)}
	}
	if !d.fresh {
		if err := e.Store.SavePlan(run.ID, d.Plan); err != nil {
			return e.Fail(run, fmt.Errorf("saving the plan of run %s: %w; nothing was sent", run.ID, err))
		}
	}
	res, err := core.Apply(ctx, d.Plan, e.Targets, core.ApplyOptions{Exclude: x.Set(), Done: d.Done,
		Journal: e.Store.Journal(run.ID), Reporter: r, Clock: e.Clock, Logger: e.Logger})
	o := &Outcome{Run: run, Plan: d.Plan, Result: res, Excluded: x}
	if err != nil && !res.Cancelled {
		o.Err = err
	}
	o.Summary = Summarize(d.Plan, x, d.Done, &res)
	if o.Summary.NotSent > 0 && (o.Kind() == Interrupted || o.Kind() == Fatal) {
		o.Resume = resumeCommand(run.ID, e.ConfigFile)
	}
	var werr error
	if err := e.Store.SaveResults(run.ID, res.Results); err != nil {
		werr = fmt.Errorf("saving the results of run %s: %w", run.ID, err)
	}
	if e.Options.Safety.GracePeriod > 0 && !d.Plan.TestMode && o.Kind() != Fatal {
		// The grace-period entries hold once the plan was applied; after
		// a fatal error the next run starts from the entries before it.
		if err := e.Store.SavePending(d.Plan.Pending); err != nil {
			werr = errors.Join(werr, fmt.Errorf("recording the Adobe-only users in their grace period: %w", err))
		}
	}
	switch o.Kind() {
	case Interrupted:
		run.Status = StatusInterrupted
	case Withheld:
		run.Status = StatusWithheld
	case Fatal:
		run.Status, run.Error = StatusFailed, o.Err.Error()
	default:
		run.Status = StatusApplied
	}
	run.Succeeded, run.Failed = o.Summary.Succeeded+o.Summary.AlreadyDone, o.Summary.Failed
	// The record counts what was applied, as the summary does, not what
	// was planned.
	run.Counters = o.Summary.Counters
	run.Requests, run.Finished = o.Summary.Requests, e.now()
	o.Run = run
	run.ExitCode = e.exitCode(o)
	o.Run = run
	if err := e.Store.UpdateRun(run); err != nil {
		werr = errors.Join(werr, fmt.Errorf("recording run %s: %w", run.ID, err))
	}
	o.RecordErr = errors.Join(werr, e.prune(run.ID))
	return o
}

// prepareSafety gives the planner the time to plan at and, with a grace
// period, the entries kept by earlier runs.
func (e *Engine) prepareSafety() error {
	e.Options.Safety.Now = e.now()
	if e.Options.Safety.GracePeriod <= 0 {
		return nil
	}
	pend, err := e.Store.Pending()
	if err != nil {
		return fmt.Errorf("reading the Adobe-only users in their grace period: %w", err)
	}
	e.Options.Safety.Pending = pend
	return nil
}

// prune keeps KeepRuns runs, deleting console drafts (planned, never
// applied) before any other run, oldest first; current is never deleted.
func (e *Engine) prune(current string) error {
	if e.KeepRuns <= 0 {
		return nil
	}
	runs, err := e.Store.Runs(0)
	if err != nil {
		return fmt.Errorf("pruning old runs: %w", err)
	}
	excess := len(runs) - e.KeepRuns
	if excess <= 0 {
		return nil
	}
	var drafts, others []string
	for i := len(runs) - 1; i >= 0; i-- { // oldest first
		switch {
		case runs[i].ID == current:
		case runs[i].Draft():
			drafts = append(drafts, runs[i].ID)
		default:
			others = append(others, runs[i].ID)
		}
	}
	for _, id := range append(drafts, others...) {
		if excess == 0 {
			break
		}
		if err := e.Store.DeleteRun(id); err != nil {
			return fmt.Errorf("pruning run %s: %w", id, err)
		}
		excess--
	}
	return nil
}
