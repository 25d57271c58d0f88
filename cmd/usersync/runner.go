package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/usersync/usersync/connectors/csv"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
	"github.com/usersync/usersync/store"
)

// engine is the run engine over this pipeline's connectors and db.
// detailed is plan's --detailed-exitcode.
func (p *pipeline) engine(db *store.DB, detailed bool) *run.Engine {
	return &run.Engine{
		Store:       db.RunStore(),
		Source:      p.source,
		Targets:     p.targets,
		Options:     p.opts,
		OptionText:  p.optionText(),
		Logger:      named(p.log, "processor"),
		KeepRuns:    p.rf.keepRuns,
		ConfigFile:  p.cfg.File,
		WriteStrays: p.writeStrays,
		ExitCode:    func(o *run.Outcome) int { return exitCode(o, detailed) },
		Now:         p.e.clock,
		RateLimit:   p.rf.actionRate,
	}
}

// exitCode is the one mapping of a run's outcome to the exit code of
// every command that runs a sync (DESIGN.md, "Exit codes"). A run whose
// record could not be written never exits 0.
func exitCode(o *run.Outcome, detailed bool) int {
	code := exitOK
	switch o.Kind() {
	case run.Pending:
		if detailed {
			code = exitPending
		}
	case run.Failed:
		code = exitFailed
	case run.Withheld:
		code = exitWithheld
	case run.Interrupted:
		code = exitInterrupt
	case run.Fatal:
		code = exitFatal
	}
	if o.RecordErr != nil && (code == exitOK || code == exitPending) {
		code = exitFatal
	}
	return code
}

// finish renders the end of a headless run (the fatal error, UST's Action
// Summary, the withheld changes, how to finish an interrupted run, a
// record that could not be written) and returns the exit code.
func (p *pipeline) finish(ctx context.Context, rep *headlessReporter, o *run.Outcome, detailed bool) int {
	// Closing reports the first write that failed: a record lost is a
	// record lost even when the engine saw no error. A failure the engine
	// already reported is most likely the same one: it is not repeated.
	if err := p.closeDB(); err != nil && o.RecordErr == nil {
		o.RecordErr = err
	}
	code := exitCode(o, detailed)
	main := named(p.log, "main")
	if o.Err != nil {
		main.Log(ctx, LevelCritical, o.Err.Error())
		rep.errorEvent(code, o.Err)
	}
	if o.Plan != nil {
		shown := *o.Plan
		var res *core.ApplyResult
		if !o.PlanOnly {
			shown.Counters, res = o.Summary.Counters, &o.Result
		}
		for _, l := range core.SummaryLines(&shown, res) {
			named(p.log, "processor").Info(l)
		}
		for _, c := range o.Summary.Withheld {
			named(p.log, "processor").Warn("Withheld by a safety limit: [" + c.Org + "] " + describeChange(c))
		}
		rep.event(evSummary, summaryEvent{RunID: o.Run.ID, Counters: shown.Counters, Apply: res, Limit: o.Plan.Limit,
			Estimate: o.Excluded.Estimate(o.Plan, core.DefaultRateLimit), Summary: o.Summary, ExitCode: code})
	}
	if o.Resume != "" {
		main.Log(ctx, LevelCritical, fmt.Sprintf("Stopped: %s; '%s' finishes the run", o.Summary.Sent(), o.Resume))
	}
	if o.RecordErr != nil {
		err := fmt.Errorf("the run's record could not be written: %w", o.RecordErr)
		main.Log(ctx, LevelCritical, err.Error())
		rep.errorEvent(code, err)
	}
	if !o.PlanOnly {
		p.notifyRun(ctx, o, code)
	}
	return p.end(code)
}

// summaryEvent is the data of the --json summary event.
type summaryEvent struct {
	RunID    string            `json:"run_id"`
	Counters core.Counters     `json:"counters"`
	Apply    *core.ApplyResult `json:"apply,omitempty"`
	Limit    *core.LimitReport `json:"limit,omitempty"`
	Estimate core.Estimate     `json:"estimate"`
	Summary  run.Summary       `json:"summary"`
	ExitCode int               `json:"exit_code"`
}

// logPlan renders the plan: UST's line per change, and with --json one
// plan_change event per change, marking the excluded and withheld ones.
func (p *pipeline) logPlan(plan *core.Plan, x run.Exclusions, rep *headlessReporter) {
	lg := named(p.log, "processor")
	for _, c := range plan.Changes {
		switch {
		case x.Has(c.ID):
			rep.event(evPlanChange, struct {
				core.Change
				Excluded bool `json:"excluded"`
				Held     bool `json:"held,omitempty"`
			}{c, true, x.Held[c.ID]})
			why := "Excluded by a remembered exclusion (see usersync show)"
			if x.Held[c.ID] {
				why = "Held back with an excluded change it depends on"
			}
			lg.Info(fmt.Sprintf("%s: [%s] %s", why, c.Org, describeChange(c)))
		default:
			rep.event(evPlanChange, c)
		}
	}
	for _, c := range plan.Withheld {
		rep.event(evPlanChange, struct {
			core.Change
			Withheld bool `json:"withheld"`
		}{c, true})
	}
}

// writeStrays writes the Adobe-only users for --adobe-only-user-action
// write-file (before the limit check, as UST does).
func (p *pipeline) writeStrays(plan *core.Plan) error {
	if p.opts.AdobeOnlyAction != core.AdobeOnlyWriteFile || p.opts.AdobeOnlyFile == "" {
		return nil
	}
	if err := csv.WriteStrays(p.opts.AdobeOnlyFile, plan.Strays); err != nil {
		return err
	}
	named(p.log, "processor").Info(fmt.Sprintf("Wrote %d Adobe-only users to %s", len(plan.Strays), p.opts.AdobeOnlyFile))
	return nil
}

// resolveRunID turns a unique prefix of a run ID into the ID (the console
// and the history cut IDs).
func resolveRunID(db *store.DB, prefix string) (string, error) {
	if _, err := db.Run(prefix); err == nil {
		return prefix, nil
	}
	runs, err := db.Runs(0)
	if err != nil {
		return "", err
	}
	var found []string
	for _, r := range runs {
		if strings.HasPrefix(r.ID, prefix) {
			found = append(found, r.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no run %q (see 'usersync history')", prefix)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%q names %d runs (%s, …): give more of the ID", prefix, len(found), strings.Join(found[:2], ", "))
}

// closeDB closes the run's database, once; its error is the first store
// write that failed since it was opened (store.DB.Close).
func (p *pipeline) closeDB() error {
	db := p.db
	if db == nil {
		return nil
	}
	p.db = nil
	return db.Close()
}

// closeLate closes the database when finish did not (a declined apply),
// saying so if a write was lost; the exit code is already non-zero.
func (p *pipeline) closeLate() {
	if err := p.closeDB(); err != nil {
		named(p.log, "main").Log(context.Background(), LevelCritical, "the run's record could not be written: "+err.Error())
	}
}

func (p *pipeline) end(code int) int {
	named(p.log, "main").Info(banner('=', fmt.Sprintf("End Run (Total time: %s)", formatDuration(time.Since(p.started)))))
	return code
}
