package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/run"
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
	// pflag prints the usage on --help, once: on stdout, since it is what
	// was asked for.
	fs.Usage = func() { printUsage(e.stdout, fs, usage) }
	rest, err := config.ParseArgs(fs, args)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
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
	return p.headless(ctx, "sync", events, planOutput{})
}

type planOutput struct {
	file     string // -o
	detailed bool   // --detailed-exitcode
	planOnly bool
	// mapping is plan --mapping: a file whose groups: list replaces
	// directory_users.groups for this run.
	mapping string
	// configured is the configuration's own mapping when --mapping
	// replaced it: the plan is compared with it.
	configured []core.GroupMapping
}

// addPlanFlags adds plan's own flags to fs.
func addPlanFlags(fs *pflag.FlagSet, out *planOutput) {
	fs.StringVarP(&out.file, "out", "o", "", "write the plan to this file (apply it later with 'usersync apply FILE')")
	fs.BoolVar(&out.detailed, "detailed-exitcode", false, "exit 10 when changes are pending, 0 when there are none")
	fs.StringVar(&out.mapping, "mapping", "", "try the groups: list in this file instead of directory_users.groups (this run only)")
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
	out.planOnly = true
	console, events := logOutput(e, rf)
	p, code := loadPipeline(ctx, e, sf, rf, console)
	if p == nil {
		return code
	}
	defer p.close()
	if out.mapping != "" {
		out.configured = p.opts.GroupMapping
		if err := p.useMapping(out.mapping); err != nil {
			return fatal(e, err)
		}
	}
	return p.headless(ctx, "plan", events, out)
}

// headless runs fetch, plan and (unless planOnly) apply through the run
// engine, rendering UST's banners, log lines and action summary. It
// returns the exit code.
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
		return p.finish(ctx, rep, &run.Outcome{Err: err}, out.detailed)
	}
	p.db = db
	defer p.closeLate()
	eng := p.engine(db, out.detailed)
	rec, err := eng.Start(command)
	if err != nil {
		return p.finish(ctx, rep, &run.Outcome{Err: err}, out.detailed)
	}

	stage := "Sync with UMAPI"
	if p.opts.Strategy == core.StrategyPush {
		stage = "Push to UMAPI"
	}
	named(log, "main").Info(banner('-', "Start Load from Directory"))
	t0 := time.Now()
	snap, err := eng.Fetch(ctx, rep)
	if err != nil {
		if ctx.Err() != nil {
			err = core.Errorf(core.CodeCanceled, "fetch", "interrupted while reading: nothing was sent")
		} else {
			err = fmt.Errorf("%v; nothing was sent", err)
		}
		return p.finish(ctx, rep, eng.Fail(rec, err), out.detailed)
	}
	named(log, "main").Info(banner('-', fmt.Sprintf("End Load from Directory (Total time: %s)", formatDuration(time.Since(t0)))))
	named(log, "main").Info(banner('-', "Start "+stage))
	t1 := time.Now()
	d, err := eng.Plan(ctx, rec, snap)
	if err != nil {
		return p.finish(ctx, rep, eng.Fail(rec, err), out.detailed)
	}
	plan := d.Plan
	x, err := eng.Exclusions(d, nil)
	if err != nil {
		return p.finish(ctx, rep, eng.Fail(d.Run, err), out.detailed)
	}
	logFindings(named(log, "processor"), plan.Findings, rep)
	if out.configured != nil {
		// What --mapping changes, from the same snapshot.
		if base, _, err := core.Replan(ctx, snap, p.opts, out.configured); err == nil {
			diff := core.DiffPlans(base, plan)
			named(log, "processor").Info(fmt.Sprintf("Compared with directory_users.groups, the mapping of %s makes %d changes more and %d fewer", out.mapping, len(diff.Added), len(diff.Dropped)))
			for _, l := range diff.Lines() {
				named(log, "processor").Info("  " + l)
			}
			rep.event(evMappingDiff, diff)
		}
	}
	p.logPlan(plan, x, rep)
	p.logSafety(plan, rep)
	est := x.Estimate(plan, core.DefaultRateLimit)
	named(log, "processor").Info(fmt.Sprintf("Plan: %d changes in %d requests, about %s at Adobe's rate limit",
		len(plan.Changes)-x.Len(), est.Requests, est.Duration.Round(time.Second)))
	if plan.Limit != nil && plan.Limit.Exceeded {
		named(log, "processor").Log(ctx, LevelCritical, fmt.Sprintf(
			"Unable to process Adobe-only users, as their count (%d) is larger than the max_adobe_only_users setting (%s); %d Adobe-only changes withheld, everything else proceeds",
			plan.Limit.Count, plan.Limit.Setting, len(plan.Withheld)))
	}

	var o *run.Outcome
	if out.planOnly {
		if out.file != "" {
			if err := run.WritePlanFile(out.file, plan, d.Run.ID); err != nil {
				return p.finish(ctx, rep, eng.Fail(d.Run, err), out.detailed)
			}
			named(log, "main").Info(fmt.Sprintf("Plan written to %s (run %s); apply it with: usersync apply %s", out.file, d.Run.ID, out.file))
		} else {
			named(log, "main").Info(fmt.Sprintf("Plan stored as run %s; apply it with: usersync apply %s", d.Run.ID, d.Run.ID))
		}
		o = eng.Planned(d)
	} else {
		o = eng.Apply(ctx, d, nil, rep)
	}
	named(log, "main").Info(banner('-', fmt.Sprintf("End %s (Total time: %s)", stage, formatDuration(time.Since(t1)))))
	return p.finish(ctx, rep, o, out.detailed)
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

// useMapping makes the groups: list of file the mapping of this run.
func (p *pipeline) useMapping(file string) error {
	m, err := config.LoadMapping(file)
	if err != nil {
		return err
	}
	if err := p.cfg.ReplaceMapping(m); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	p.opts.GroupMapping = p.cfg.Options.GroupMapping
	named(p.log, "main").Warn(fmt.Sprintf("The group mapping of %s replaces directory_users.groups for this plan only; to apply it, put it in %s and plan again", file, p.cfg.File))
	return nil
}

// logFindings writes the plan's diagnosis: a WARNING (or INFO, for a
// notice) line per finding, and a `warning` event per finding with --json.
// Findings the source already logged are not written twice.
func logFindings(lg *slog.Logger, fs []core.Finding, rep *headlessReporter) {
	for _, f := range fs {
		if rep != nil {
			rep.event(evWarning, f)
		}
		if f.Logged {
			continue
		}
		if f.Severity == core.SeverityWarning {
			lg.Warn(f.Message)
		} else {
			lg.Info(f.Message)
		}
	}
}
