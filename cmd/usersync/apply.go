package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/run"
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
	if ignored := planInputFlags(sf); len(ignored) > 0 {
		named(p.log, "main").Warn(fmt.Sprintf("Ignoring %s: apply uses the options and queries the plan was made with (plan again to change them)",
			strings.Join(ignored, ", ")))
	}
	return p.apply(ctx, e, applyArgs{rest: rest, yes: yes, resume: resume, events: events})
}

// planInputFlags names the sync flags given on apply's command line that a
// plan already settles (its changes, its test mode and its stored
// queries), so that apply can say it ignores them. -c, the encoding and
// --connector still pick the files and the source to read.
func planInputFlags(sf *config.SyncFlags) []string {
	var out []string
	lists := []struct {
		name string
		v    []string
	}{{"--users", sf.Users}, {"--adobe-users", sf.AdobeUsers}, {"--adobe-only-user-action", sf.AdobeOnlyUserAction}}
	for _, l := range lists {
		if len(l.v) > 0 {
			out = append(out, l.name)
		}
	}
	strs := []struct {
		name string
		v    *string
	}{{"--adobe-only-user-list", sf.AdobeOnlyUserList}, {"--strategy", sf.Strategy}, {"--user-filter", sf.UserFilter}}
	for _, s := range strs {
		if s.v != nil {
			out = append(out, s.name)
		}
	}
	pairs := []struct {
		on, off string
		v       *bool
	}{
		{"--process-groups", "--no-process-groups", sf.ProcessGroups},
		{"--update-user-info", "--no-update-user-info", sf.UpdateUserInfo},
		{"--exclude-unmapped-users", "--include-unmapped-users", sf.ExcludeUnmappedUsers},
		{"--test-mode", "--no-test-mode", sf.TestMode},
	}
	for _, b := range pairs {
		switch {
		case b.v == nil:
		case *b.v:
			out = append(out, b.on)
		default:
			out = append(out, b.off)
		}
	}
	return out
}

// applyArgs are cmdApply's parsed command line.
type applyArgs struct {
	rest        []string
	yes, resume bool
	events      io.Writer
}

// apply carries out cmdApply once the configuration is loaded: it loads
// the plan (a plan file, a stored run, or the run to resume) through the
// run engine, asks, and applies it.
func (p *pipeline) apply(ctx context.Context, e *env, a applyArgs) int {
	rep := newHeadlessReporter(p.log, a.events, p.cfg.Logging.LogProgress)
	fail := func(err error) int {
		code := p.finish(ctx, rep, &run.Outcome{Err: err}, false)
		fmt.Fprintf(e.stderr, "usersync: %v\n", err)
		return code
	}
	db, err := p.openDB()
	if err != nil {
		return fail(err)
	}
	p.db = db
	defer p.closeLate()
	eng := p.engine(db, false)

	var d *run.Draft
	switch {
	case a.resume:
		id := ""
		if len(a.rest) == 1 {
			if id, err = resolveRunID(db, a.rest[0]); err != nil {
				return fail(err)
			}
		}
		if d, err = eng.Resumable(id); err != nil {
			return fail(err)
		}
		named(p.log, "main").Info(fmt.Sprintf("Resuming run %s: %d changes already applied, %d were in flight and are sent again (safe: every command is idempotent)",
			d.Run.ID, len(d.Done), len(d.InFlight)))
	case isPlanFile(a.rest[0]):
		f, err := run.ReadPlanFile(a.rest[0])
		if err != nil {
			return fail(err)
		}
		named(p.log, "main").Info("Checking that neither side changed since the plan was made")
		if d, err = eng.Open(ctx, f.Plan, f.Run, rep); err != nil {
			return fail(err)
		}
	default:
		id, err := resolveRunID(db, a.rest[0])
		if err != nil {
			return fail(err)
		}
		plan, err := db.Plan(id)
		if err != nil {
			return fail(err)
		}
		named(p.log, "main").Info("Checking that neither side changed since the plan was made")
		if d, err = eng.Open(ctx, plan, id, rep); err != nil {
			return fail(err)
		}
	}
	if !a.yes {
		x, err := eng.Exclusions(d, nil)
		if err != nil {
			return fail(err)
		}
		pending, deletions := 0, 0
		for _, c := range d.Plan.Changes {
			if !d.Done[c.ID] && !x.Has(c.ID) {
				pending++
				if c.Action == core.ActionDelete {
					deletions++
				}
			}
		}
		if !confirm(e, d.Plan, pending, deletions) {
			fmt.Fprintln(e.stderr, "Nothing was sent.")
			return exitFatal
		}
	}
	return p.finish(ctx, rep, eng.Apply(ctx, d, nil, rep), false)
}

func isPlanFile(arg string) bool {
	if strings.HasSuffix(strings.ToLower(arg), ".json") {
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && !fi.IsDir()
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
