package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/store"
)

func goRuntime() string {
	return fmt.Sprintf("%s, %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// cmdApply applies a saved plan exactly: from a plan file or a stored run.
// It refuses a plan when either side changed since it was made, and
// --resume finishes an interrupted apply from its journal.
func cmdApply(ctx context.Context, e *env, args []string) int {
	var yes, resume bool
	sf, rf, rest, code, ok := parseSync(e, "apply", "apply PLAN.json|RUN-ID [--yes] | apply --resume [RUN-ID]", args, func(fs *pflag.FlagSet) {
		fs.BoolVar(&yes, "yes", false, "apply without asking for confirmation")
		fs.BoolVar(&resume, "resume", false, "finish the newest interrupted apply (or RUN-ID) from its journal")
	})
	if !ok {
		return code
	}
	if (!resume && len(rest) != 1) || len(rest) > 1 {
		fmt.Fprintln(e.stderr, "Usage: usersync apply PLAN.json|RUN-ID [--yes] | usersync apply --resume [RUN-ID]")
		return exitUsage
	}
	if !yes && !e.tty {
		fmt.Fprintln(e.stderr, "usersync apply: pass --yes to apply without a terminal to confirm at")
		return exitUsage
	}
	console, events := logOutput(e, rf)
	p, code := loadPipeline(ctx, e, sf, rf, console)
	if p == nil {
		return code
	}
	defer p.close()
	named(p.log, "main").Info(banner('=', fmt.Sprintf("Start Run (User Sync version: usersync %s)", Version)))
	named(p.log, "main").Info("Command line: " + strings.Join(os.Args, " "))
	return p.end(p.apply(ctx, e, applyArgs{args: args, rest: rest, sf: sf, yes: yes, resume: resume, events: events}))
}

// applyArgs are cmdApply's parsed command line.
type applyArgs struct {
	args, rest  []string
	sf          *config.SyncFlags
	yes, resume bool
	events      io.Writer
}

// apply carries out cmdApply once the configuration is loaded.
func (p *pipeline) apply(ctx context.Context, e *env, a applyArgs) int {
	args, rest, sf, yes, resume, events, rf := a.args, a.rest, a.sf, a.yes, a.resume, a.events, p.rf
	// A fatal error goes to the log too (a log file, a mailed grep of
	// CRITICAL lines), not only to standard error.
	fail := func(err error) int {
		named(p.log, "main").Log(ctx, LevelCritical, err.Error())
		return fatal(e, err)
	}
	db, err := p.openDB()
	if err != nil {
		return fail(err)
	}
	defer db.Close()

	var plan *core.Plan
	var from string
	var planArgs []string // the command line the plan was made with
	var done map[int]bool
	// excluded are the changes the operator held back for this plan's run
	// (in the console); applying or resuming it keeps them held back.
	var excluded []int
	switch {
	case resume:
		var info store.RunInfo
		if len(rest) == 1 {
			info, err = db.Run(rest[0])
		} else {
			info, err = resumable(db)
		}
		if err != nil {
			return fail(err)
		}
		if info.Status != store.StatusApplying && info.Status != store.StatusInterrupted &&
			(info.Status != store.StatusFailed || !sentAny(db, info.ID)) {
			return fail(fmt.Errorf("run %s is %s, not interrupted: nothing to resume", info.ID, info.Status))
		}
		if plan, err = db.Plan(info.ID); err != nil {
			return fail(err)
		}
		var inFlight []int
		if done, inFlight, err = resumeState(db, info); err != nil {
			return fail(err)
		}
		from, excluded = info.ID, info.Excluded
		named(p.log, "main").Info(fmt.Sprintf("Resuming run %s: %d changes already applied, %d were in flight and are sent again (safe: every command is idempotent)",
			info.ID, len(done), len(inFlight)))
	case isPlanFile(rest[0]):
		f, err := readPlanFile(rest[0])
		if err != nil {
			return fail(err)
		}
		plan, from, planArgs = f.Plan, f.Run, f.Args
	default:
		if plan, err = db.Plan(rest[0]); err != nil {
			return fail(err)
		}
		info, err := db.Run(rest[0])
		if err != nil {
			return fail(err)
		}
		from, excluded = rest[0], info.Excluded
		if a, ok := info.Options[optionArgs]; ok {
			json.Unmarshal([]byte(a), &planArgs)
		}
	}

	if !resume {
		// Read both sides as the plan did: with the plan's sync flags,
		// unless this command line gives its own.
		check := p
		if planArgs != nil && !syncFlagsGiven(args) {
			a := planArgs
			if sf.ConfigFilename != nil && *sf.ConfigFilename != "" {
				a = append(append([]string(nil), a...), "--config-filename", *sf.ConfigFilename)
			}
			psf, err := planSyncFlags(a)
			if err != nil {
				return fail(fmt.Errorf("the plan's command line %q: %v", strings.Join(planArgs, " "), err))
			}
			named(p.log, "main").Info("Reading both sides with the plan's flags: " + strings.Join(planArgs, " "))
			pp, code := loadPipeline(ctx, e, psf, rf, nil)
			if pp == nil {
				return code
			}
			defer pp.close()
			check = pp
		}
		rep := newHeadlessReporter(p.log, nil, p.cfg.Logging.LogProgress)
		named(p.log, "main").Info("Checking that neither side changed since the plan was made")
		snap, err := core.Fetch(ctx, check.source, check.targets, check.opts, rep)
		if err != nil {
			return fail(fmt.Errorf("%v; nothing was sent", err))
		}
		if err := checkFresh(plan, snap); err != nil {
			return fail(err)
		}
	}
	pending := 0
	deletions := 0
	for _, c := range plan.Changes {
		if !done[c.ID] {
			pending++
			if c.Action == core.ActionDelete {
				deletions++
			}
		}
	}
	if !yes {
		if !confirm(e, plan, pending, deletions) {
			fmt.Fprintln(e.stderr, "Nothing was sent.")
			return exitFatal
		}
	}
	run, err := db.CreateRun(store.RunInfo{Command: "apply", Status: store.StatusApplying, TestMode: plan.TestMode,
		Options: p.optionText(), ResumedFrom: from, Counters: plan.Counters, Changes: len(plan.Changes), Withheld: len(plan.Withheld)})
	if err != nil {
		return fail(err)
	}
	db.SavePlan(run.ID, plan)
	rep := newHeadlessReporter(p.log, events, p.cfg.Logging.LogProgress)
	exclude, err := rememberedExclusions(db, plan)
	if err != nil {
		return fail(err)
	}
	for _, id := range excluded {
		if exclude == nil {
			exclude = map[int]bool{}
		}
		exclude[id] = true
	}
	exclude = holdDependents(plan, exclude)
	run.Excluded = sortedIDs(exclude)
	res, err := core.Apply(ctx, plan, p.targets, core.ApplyOptions{Exclude: exclude, Done: done, Journal: db.Journal(run.ID), Reporter: rep, Logger: named(p.log, "processor")})
	db.SaveResults(run.ID, res.Results)
	p.savePending(db, plan)
	if err != nil && !res.Cancelled {
		run.Status, run.Error, run.ExitCode, run.Finished = store.StatusFailed, err.Error(), exitFatal, time.Now().UTC()
		db.UpdateRun(run)
		return fail(err)
	}
	for _, l := range core.SummaryLines(plan, &res) {
		named(p.log, "processor").Info(l)
	}
	rep.event("summary", summaryEvent{run.ID, plan.Counters, &res, plan.Limit, core.EstimatePlan(plan, exclude, core.DefaultRateLimit)})
	code := applyExitCode(plan, &res)
	if code == exitInterrupt {
		named(p.log, "main").Log(ctx, LevelCritical, fmt.Sprintf("Interrupted: %d changes were not sent; 'usersync apply --resume' finishes the run", len(res.NotSent)))
	}
	finishRun(&run, code, &res)
	run.Succeeded += len(done)
	db.UpdateRun(run)
	if n, err := db.Prune(p.rf.keepRuns); err == nil && n > 0 {
		named(p.log, "main").Debug(fmt.Sprintf("Removed %d old runs from the database", n))
	}
	return code
}

// syncFlagsGiven reports whether args set any of UST's sync flags other
// than the configuration file.
func syncFlagsGiven(args []string) bool {
	fs, _ := config.NewSyncFlagSet("apply")
	names := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { names[f.Name] = true })
	delete(names, "config-filename")
	var rf runFlags
	rf.add(fs)
	var yes, resume bool
	fs.BoolVar(&yes, "yes", false, "")
	fs.BoolVar(&resume, "resume", false, "")
	if _, err := config.ParseArgs(fs, args); err != nil {
		return false
	}
	given := false
	fs.Visit(func(f *pflag.Flag) { given = given || names[f.Name] })
	return given
}

// planSyncFlags parses the recorded command line of a plan or sync run.
func planSyncFlags(args []string) (*config.SyncFlags, error) {
	fs, sf := config.NewSyncFlagSet("plan")
	var rf runFlags
	rf.add(fs)
	var out planOutput
	addPlanFlags(fs, &out)
	_, err := config.ParseArgs(fs, args)
	return sf, err
}

// resumable is the run 'apply --resume' finishes: the newest run that
// sent changes, when it did not finish. An older interrupted run is never
// picked once a later run applied anything: its plan is out of date, and
// the later run converged the org anyway.
func resumable(db *store.DB) (store.RunInfo, error) {
	runs, err := db.Runs(0)
	if err != nil {
		return store.RunInfo{}, err
	}
	for _, r := range runs {
		switch r.Status {
		case store.StatusApplying, store.StatusInterrupted:
			return r, nil
		case store.StatusApplied, store.StatusWithheld:
			return store.RunInfo{}, fmt.Errorf("no interrupted apply to resume: the newest apply (run %s) finished", r.ID)
		case store.StatusFailed:
			// A run that failed before sending anything does not count;
			// one that failed in the middle of its apply (a fatal error
			// from the server) is finished like an interrupted one.
			if sentAny(db, r.ID) {
				return r, nil
			}
		}
	}
	return store.RunInfo{}, errors.New("no interrupted apply to resume")
}

// sentAny reports whether a run's journal records any request.
func sentAny(db *store.DB, id string) bool {
	entries, err := db.JournalEntries(id)
	return err == nil && len(entries) > 0
}

// resumeState is what an interrupted run and the runs it resumed (the
// same plan) already applied, and what it had in flight.
func resumeState(db *store.DB, info store.RunInfo) (done map[int]bool, inFlight []int, err error) {
	done = map[int]bool{}
	seen := map[string]bool{}
	for id := info.ID; id != "" && !seen[id]; {
		seen[id] = true
		d, f, err := db.ResumeState(id)
		if err != nil {
			return nil, nil, err
		}
		for c := range d {
			done[c] = true
		}
		if id == info.ID {
			inFlight = f
		}
		r, err := db.Run(id)
		if err != nil || r.ResumedFrom == "" {
			break
		}
		id = r.ResumedFrom
	}
	return done, inFlight, nil
}

func isPlanFile(arg string) bool {
	if strings.HasSuffix(strings.ToLower(arg), ".json") {
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && !fi.IsDir()
}

// checkFresh refuses a plan whose snapshots no longer match either side.
func checkFresh(plan *core.Plan, snap *core.Snapshot) error {
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

func confirm(e *env, plan *core.Plan, pending, deletions int) bool {
	in := bufio.NewReader(e.stdin)
	fmt.Fprintf(e.stderr, "Apply %d changes%s? [y/N] ", pending, map[bool]string{true: " in TEST MODE", false: ""}[plan.TestMode])
	line, _ := in.ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return false
	}
	if deletions > 0 {
		fmt.Fprintf(e.stderr, "The plan deletes %d Adobe accounts. Type that number to go on: ", deletions)
		line, _ = in.ReadString('\n')
		if n, err := strconv.Atoi(strings.TrimSpace(line)); err != nil || n != deletions {
			return false
		}
	}
	return true
}
