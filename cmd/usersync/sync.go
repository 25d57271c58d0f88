package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/usersync/usersync/connectors/csv"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/store"
)

// parseSync parses UST's sync flags plus usersync's own; extra adds the
// command's own flags. It returns the positional arguments; commands that
// take none check rest themselves.
func parseSync(e *env, name, usage string, args []string, extra func(fs *pflag.FlagSet)) (sf *config.SyncFlags, rf runFlags, rest []string, code int, ok bool) {
	fs, sf := config.NewSyncFlagSet(name)
	rf.add(fs)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: usersync %s\n\n", usage)
		fs.SetOutput(e.stderr)
		fs.PrintDefaults()
	}
	rest, err := config.ParseArgs(fs, args)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fs.Usage()
			return nil, rf, nil, exitOK, false
		}
		fmt.Fprintf(e.stderr, "usersync %s: %v\n", name, err)
		return nil, rf, nil, exitUsage, false
	}
	return sf, rf, rest, 0, true
}

// noArgs reports stray positional arguments as a usage error.
func noArgs(e *env, name string, rest []string) bool {
	if len(rest) > 0 {
		fmt.Fprintf(e.stderr, "usersync %s: unexpected argument %q\n", name, rest[0])
		return false
	}
	return true
}

// loadPipeline builds the pipeline and maps errors to exit codes.
func loadPipeline(ctx context.Context, e *env, sf *config.SyncFlags, rf runFlags, console io.Writer) (*pipeline, int) {
	p, err := newPipeline(ctx, e, sf, rf, console)
	if err != nil {
		if rf.json {
			code := exitFatal
			if config.IsUsage(err) {
				code = exitUsage
			}
			newHeadlessReporter(nil, e.stdout, false).errorEvent(code, err)
		}
		if config.IsUsage(err) {
			fmt.Fprintf(e.stderr, "usersync: %v\n", err)
			return nil, exitUsage
		}
		if os.IsNotExist(errors.Unwrap(err)) || errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(e.stderr, "usersync: %v\nTo start: 'usersync init' writes example configuration files; 'usersync demo' shows everything on a built-in example.\n", err)
			return nil, exitFatal
		}
		return nil, fatal(e, err)
	}
	return p, 0
}

// logOutput is where headless log lines go: stdout (UST's grep pipelines
// read it), or stderr when stdout carries JSON events.
func logOutput(e *env, rf runFlags) (console io.Writer, events io.Writer) {
	if rf.json {
		return e.stderr, e.stdout
	}
	return e.stdout, nil
}

func cmdSync(ctx context.Context, e *env, args []string) int {
	sf, rf, rest, code, ok := parseSync(e, "sync", "sync [-c FILE] [UST sync flags] [--json] [--db PATH]", args, nil)
	if !ok {
		return code
	}
	if !noArgs(e, "sync", rest) {
		return exitUsage
	}
	console, events := logOutput(e, rf)
	p, code := loadPipeline(ctx, e, sf, rf, console)
	if p == nil {
		return code
	}
	defer p.close()
	code = p.headless(ctx, "sync", events, planOutput{args: args})
	p.notifyRun(ctx, "sync", code)
	return code
}

type planOutput struct {
	file     string // -o
	detailed bool   // --detailed-exitcode
	planOnly bool
	// args is the command line the plan is made with, recorded so that
	// apply reads both sides again with the same selection.
	args []string
}

// addPlanFlags adds plan's own flags to fs.
func addPlanFlags(fs *pflag.FlagSet, out *planOutput) {
	fs.StringVarP(&out.file, "out", "o", "", "write the plan to this file (apply it later with 'usersync apply FILE')")
	fs.BoolVar(&out.detailed, "detailed-exitcode", false, "exit 10 when changes are pending, 0 when there are none")
}

func cmdPlan(ctx context.Context, e *env, args []string) int {
	var out planOutput
	sf, rf, rest, code, ok := parseSync(e, "plan", "plan [-c FILE] [UST sync flags] [-o PLAN.json] [--json] [--detailed-exitcode]", args, func(fs *pflag.FlagSet) {
		addPlanFlags(fs, &out)
	})
	if !ok {
		return code
	}
	if !noArgs(e, "plan", rest) {
		return exitUsage
	}
	out.planOnly, out.args = true, args
	console, events := logOutput(e, rf)
	p, code := loadPipeline(ctx, e, sf, rf, console)
	if p == nil {
		return code
	}
	defer p.close()
	return p.headless(ctx, "plan", events, out)
}

// headless runs fetch, plan and (unless planOnly) apply, with UST's
// banners, log lines and action summary, recording everything in the
// database. It returns the exit code.
func (p *pipeline) headless(ctx context.Context, command string, events io.Writer, out planOutput) int {
	log := p.log
	test := ""
	if p.opts.TestMode {
		test = " (TEST MODE)"
	}
	named(log, "main").Info(banner('=', fmt.Sprintf("Start Run (User Sync version: usersync %s)%s", Version, test)))
	named(log, "main").Info(fmt.Sprintf("usersync %s, %s", Version, goRuntime()))
	named(log, "main").Info("Command line: " + strings.Join(os.Args, " "))

	rep := newHeadlessReporter(log, events, p.cfg.Logging.LogProgress)
	db, err := p.openDB()
	if err != nil {
		named(log, "main").Log(ctx, LevelCritical, err.Error())
		rep.errorEvent(exitFatal, err)
		return p.end(exitFatal)
	}
	defer db.Close()
	run, err := db.CreateRun(store.RunInfo{Command: command, Status: store.StatusPlanned, TestMode: p.opts.TestMode, Options: withArgs(p.optionText(), out.args)})
	if err != nil {
		named(log, "main").Log(ctx, LevelCritical, err.Error())
		rep.errorEvent(exitFatal, err)
		return p.end(exitFatal)
	}
	fail := func(code int, err error) int {
		named(log, "main").Log(ctx, LevelCritical, err.Error())
		rep.errorEvent(code, err)
		run.Status, run.ExitCode, run.Error, run.Finished = store.StatusFailed, code, err.Error(), time.Now().UTC()
		if code == exitInterrupt || core.Code(err) == core.CodeCanceled || errors.Is(err, context.Canceled) {
			run.Status = store.StatusInterrupted
		}
		db.UpdateRun(run)
		return p.end(code)
	}

	stage := "Sync with UMAPI"
	if p.opts.Strategy == core.StrategyPush {
		stage = "Push to UMAPI"
	}
	named(log, "main").Info(banner('-', "Start Load from Directory"))
	t0 := time.Now()
	snap, err := core.Fetch(ctx, p.source, p.targets, p.opts, rep)
	if err != nil {
		if ctx.Err() != nil {
			return fail(exitInterrupt, fmt.Errorf("interrupted while reading: nothing was sent"))
		}
		return fail(exitFatal, fmt.Errorf("%v; nothing was sent", err))
	}
	named(log, "main").Info(banner('-', fmt.Sprintf("End Load from Directory (Total time: %s)", formatDuration(time.Since(t0)))))
	if err := db.SaveSnapshot(run.ID, snap); err != nil {
		return fail(exitFatal, err)
	}
	named(log, "main").Info(banner('-', "Start "+stage))
	t1 := time.Now()
	if err := p.prepareSafety(db); err != nil {
		return fail(exitFatal, err)
	}
	plan, err := core.BuildPlan(ctx, snap, p.opts)
	if err != nil {
		return fail(exitFatal, err)
	}
	if err := db.SavePlan(run.ID, plan); err != nil {
		return fail(exitFatal, err)
	}
	if err := p.writeStrays(plan); err != nil {
		return fail(exitFatal, err)
	}
	exclude, err := rememberedExclusions(db, plan)
	if err != nil {
		return fail(exitFatal, err)
	}
	run.Excluded = sortedIDs(exclude)
	run.Counters, run.Changes, run.Withheld = plan.Counters, len(plan.Changes), len(plan.Withheld)
	p.logPlan(plan, exclude, rep)
	p.logSafety(plan, rep)
	est := core.EstimatePlan(plan, exclude, core.DefaultRateLimit)
	named(log, "processor").Info(fmt.Sprintf("Plan: %d changes in %d requests, about %s at Adobe's rate limit",
		len(plan.Changes)-len(exclude), est.Requests, est.Duration.Round(time.Second)))
	if plan.Limit != nil && plan.Limit.Exceeded {
		named(log, "processor").Log(ctx, LevelCritical, fmt.Sprintf(
			"Unable to process Adobe-only users, as their count (%d) is larger than the max_adobe_only_users setting (%s); %d Adobe-only changes withheld, everything else proceeds",
			plan.Limit.Count, plan.Limit.Setting, len(plan.Withheld)))
	}

	var res core.ApplyResult
	if out.planOnly {
		if out.file != "" {
			if err := writePlanFile(out.file, plan, run.ID, out.args); err != nil {
				return fail(exitFatal, err)
			}
			named(log, "main").Info(fmt.Sprintf("Plan written to %s (run %s); apply it with: usersync apply %s", out.file, run.ID, out.file))
		} else {
			named(log, "main").Info(fmt.Sprintf("Plan stored as run %s; apply it with: usersync apply %s", run.ID, run.ID))
		}
	} else {
		run.Status = store.StatusApplying
		db.UpdateRun(run)
		res, err = core.Apply(ctx, plan, p.targets, core.ApplyOptions{Exclude: exclude, Journal: db.Journal(run.ID), Reporter: rep, Logger: named(log, "processor")})
		if err != nil && !res.Cancelled {
			return fail(exitFatal, err)
		}
		db.SaveResults(run.ID, res.Results)
		p.savePending(db, plan)
	}
	named(log, "main").Info(banner('-', fmt.Sprintf("End %s (Total time: %s)", stage, formatDuration(time.Since(t1)))))
	for _, l := range core.SummaryLines(plan, &res) {
		named(log, "processor").Info(l)
	}
	rep.event("summary", summaryEvent{run.ID, plan.Counters, applyOrNil(out.planOnly, &res), plan.Limit, est})

	code := exitOK
	switch {
	case out.planOnly:
		run.Status = store.StatusPlanned
		if out.detailed && len(plan.Changes)-len(exclude)+len(plan.Withheld) > 0 {
			code = exitPending
		}
		run.ExitCode, run.Finished = code, time.Now().UTC()
	default:
		code = applyExitCode(plan, &res)
		if code == exitInterrupt {
			named(log, "main").Log(ctx, LevelCritical, fmt.Sprintf("Interrupted: %d changes were not sent; 'usersync apply --resume' finishes the run", len(res.NotSent)))
		}
		finishRun(&run, code, &res)
	}
	db.UpdateRun(run)
	if n, err := db.Prune(p.rf.keepRuns); err == nil && n > 0 {
		named(log, "main").Debug(fmt.Sprintf("Removed %d old runs from the database", n))
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
}

// withArgs records in a run's options the command line its plan was made
// with (see optionArgs).
func withArgs(opts map[string]string, args []string) map[string]string {
	if args != nil {
		b, _ := json.Marshal(args)
		opts[optionArgs] = string(b)
	}
	return opts
}

// finishRun records the outcome of an apply that ended with code: its
// status, its per-change counts and its request count.
func finishRun(run *store.RunInfo, code int, res *core.ApplyResult) {
	switch code {
	case exitInterrupt:
		run.Status = store.StatusInterrupted
	case exitWithheld:
		run.Status = store.StatusWithheld
	case exitFatal:
		run.Status = store.StatusFailed
	default:
		run.Status = store.StatusApplied
	}
	for _, r := range res.Results {
		switch r.Outcome {
		case core.OutcomeSucceeded:
			run.Succeeded++
		case core.OutcomeFailed:
			run.Failed++
		}
	}
	run.Requests, run.ExitCode, run.Finished = res.Requests, code, time.Now().UTC()
}

func applyOrNil(planOnly bool, r *core.ApplyResult) *core.ApplyResult {
	if planOnly {
		return nil
	}
	return r
}

// applyExitCode maps an apply's outcome to the exit code: interrupted,
// then server failures, then a withheld limit.
func applyExitCode(p *core.Plan, r *core.ApplyResult) int {
	switch {
	case r.Cancelled:
		return exitInterrupt
	}
	for _, c := range r.Results {
		if c.Outcome == core.OutcomeFailed {
			return exitFailed
		}
	}
	if len(p.Withheld) > 0 || (p.Limit != nil && p.Limit.Exceeded) {
		return exitWithheld
	}
	return exitOK
}

func (p *pipeline) end(code int) int {
	named(p.log, "main").Info(banner('=', fmt.Sprintf("End Run (Total time: %s)", formatDuration(time.Since(p.started)))))
	return code
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

// rememberedExclusions are the changes of plan that an exclusion
// remembered in the console covers, with their dependents (holdDependents).
func rememberedExclusions(db *store.DB, plan *core.Plan) (map[int]bool, error) {
	ex, err := db.Exclusions()
	if err != nil || len(ex) == 0 {
		return nil, err
	}
	out := map[int]bool{}
	for _, c := range plan.Changes {
		for _, x := range ex {
			if x.Matches(c) {
				out[c.ID] = true
			}
		}
	}
	return holdDependents(plan, out), nil
}

// holdDependents returns exclude (a copy, when it grows) with the changes
// that cannot succeed without an excluded one: a user whose creation is
// held back has no account for the rest of its changes (group adds,
// updates) to act on, so those are held back with it instead of failing
// at the server.
func holdDependents(plan *core.Plan, exclude map[int]bool) map[int]bool {
	noAccount := map[[2]string]bool{}
	for _, c := range plan.Changes {
		if exclude[c.ID] && c.Action == core.ActionCreate {
			noAccount[[2]string{c.Org, c.Key}] = true
		}
	}
	if len(noAccount) == 0 {
		return exclude
	}
	out := make(map[int]bool, len(exclude))
	for id, v := range exclude {
		out[id] = v
	}
	for _, c := range plan.Changes {
		if noAccount[[2]string{c.Org, c.Key}] {
			out[c.ID] = true
		}
	}
	return out
}

func sortedIDs(m map[int]bool) []int {
	var ids []int
	for id := range m {
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

// logPlan emits one plan_change event per change with --json (the
// planner itself logs UST's per-user lines), and says which changes a
// remembered exclusion holds back.
func (p *pipeline) logPlan(plan *core.Plan, exclude map[int]bool, rep *headlessReporter) {
	lg := named(p.log, "processor")
	for _, c := range plan.Changes {
		if !exclude[c.ID] {
			rep.event("plan_change", c)
			continue
		}
		rep.event("plan_change", struct {
			core.Change
			Excluded bool `json:"excluded"`
		}{c, true})
		lg.Info(fmt.Sprintf("Excluded by a remembered exclusion (see usersync show): [%s] %s", c.Org, describeChange(c)))
	}
	for _, c := range plan.Withheld {
		rep.event("plan_change", struct {
			core.Change
			Withheld bool `json:"withheld"`
		}{c, true})
	}
}

func describeChange(c core.Change) string {
	who := c.User.User
	if c.User.Domain != "" {
		who += " (" + c.User.Domain + ")"
	}
	switch c.Action {
	case core.ActionCreateGroup:
		return fmt.Sprintf("Creating user group %q", c.Group)
	case core.ActionCreate:
		return fmt.Sprintf("Adding user with user key: %s", c.Key)
	case core.ActionUpdate:
		var parts []string
		for _, a := range c.Attrs {
			parts = append(parts, fmt.Sprintf("%s: %q -> %q", a.Name, a.Before, a.After))
		}
		return fmt.Sprintf("Updating user %s: %s", who, strings.Join(parts, ", "))
	case core.ActionAddGroups:
		return fmt.Sprintf("Adding user %s to groups: %s", who, strings.Join(c.Groups, ", "))
	case core.ActionRemoveGroups:
		return fmt.Sprintf("Removing user %s from groups: %s", who, strings.Join(c.Groups, ", "))
	case core.ActionRemoveAllGroups:
		return fmt.Sprintf("Removing Adobe-only user %s from all groups", who)
	case core.ActionRemoveFromOrg:
		return fmt.Sprintf("Removing Adobe-only user %s from the organization", who)
	case core.ActionDelete:
		return fmt.Sprintf("Removing Adobe-only user %s from the organization and deleting the account", who)
	}
	return fmt.Sprintf("%s %s", c.Action, who)
}

// planFile is the format of 'usersync plan -o'.
type planFile struct {
	Format string `json:"format"` // "usersync-plan"
	Run    string `json:"run_id"`
	// Args is the plan command's command line (flags and file names,
	// never secrets).
	Args []string   `json:"args,omitempty"`
	Plan *core.Plan `json:"plan"`
}

// optionArgs is the key of RunInfo.Options that records the command line
// (JSON) of a run that made a plan.
const optionArgs = "args"

func writePlanFile(path string, plan *core.Plan, runID string, args []string) error {
	b, err := json.MarshalIndent(planFile{Format: "usersync-plan", Run: runID, Args: args, Plan: plan}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func readPlanFile(path string) (*planFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f planFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is not a usersync plan file: %v", path, err)
	}
	if f.Format != "usersync-plan" || f.Plan == nil {
		return nil, fmt.Errorf("%s is not a usersync plan file (written by 'usersync plan -o')", path)
	}
	return &f, nil
}
