package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
	"github.com/usersync/usersync/store"
	"github.com/usersync/usersync/tui"
	"github.com/usersync/usersync/tui/live"
)

func cmdConsole(ctx context.Context, e *env, args []string) int {
	sf, rf, rest, code, ok := parseSync(e, "console", "console [-c FILE] [UST sync flags]", args, nil)
	if !ok {
		return code
	}
	if !noArgs(e, "console", rest) {
		return exitUsage
	}
	if _, err := os.Stat(sf.ConfigPath()); err != nil && len(args) == 0 {
		fmt.Fprintf(e.stdout, "No %s here.\n\nTo start:\n  usersync demo    the console on a built-in example org and directory, no setup needed\n  usersync init    write commented example configuration files to edit\n", sf.ConfigPath())
		return exitOK
	}
	// Logs never go onto the console's screen: only to the log file.
	p, code := loadPipeline(ctx, e, sf, rf, nil)
	if p == nil {
		return code
	}
	defer p.close()
	return p.console(ctx, e, sf.ConfigPath())
}

func (p *pipeline) console(ctx context.Context, e *env, title string) int {
	if !e.tty {
		fmt.Fprintln(e.stderr, "usersync: the console needs a terminal. In scripts and cron use 'usersync sync' or 'usersync plan' (for the demo: 'usersync demo --headless').")
		return exitUsage
	}
	db, err := p.openDB()
	if err != nil {
		return fatal(e, err)
	}
	defer db.Close()
	b := p.consoleBackend(db)
	err = tui.Run(ctx, b, tui.Options{Title: title, AltScreen: true, NoColor: e.getenv("NO_COLOR") != ""})
	code := exitOK
	if o := b.Outcome(); o != nil {
		code = exitCode(o, false)
		reportConsoleRun(e, o, code)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			// SIGINT or SIGTERM: the console finished the request in
			// flight; the journal says what was sent.
			return exitInterrupt
		}
		return fatal(e, err)
	}
	return code
}

// reportConsoleRun says on the terminal, once the console has left the
// screen, how the console's last apply ended: what was sent, what was
// not, and the command that finishes a run that stopped.
func reportConsoleRun(e *env, o *run.Outcome, code int) {
	s := o.Summary
	switch {
	case o.Resume != "":
		fmt.Fprintf(e.stderr, "usersync: run %s stopped before it finished: %s.\nTo finish it: %s\n", o.Run.ID, s.Sent(), o.Resume)
	default:
		fmt.Fprintf(e.stderr, "usersync: run %s: %s.\n", o.Run.ID, s.Sent())
	}
	if o.Err != nil && !errors.Is(o.Err, context.Canceled) {
		fmt.Fprintf(e.stderr, "usersync: %v\n", o.Err)
	}
	if n := len(s.Withheld); n > 0 {
		fmt.Fprintf(e.stderr, "usersync: %d changes were withheld by a safety limit (usersync show %s).\n", n, o.Run.ID)
	}
	if o.RecordErr != nil {
		fmt.Fprintf(e.stderr, "usersync: the run's record could not be written: %v\n", o.RecordErr)
	}
	fmt.Fprintf(e.stderr, "usersync: exit code %d\n", code)
}

var _ io.Writer = quietWriter{}

// consoleBackend is the console's backend over this pipeline's run
// engine; it logs UST's Action Summary of every apply.
func (p *pipeline) consoleBackend(db *store.DB) *live.Backend {
	b := live.New(p.engine(db, false), db, func(o *run.Outcome) {
		shown := *o.Plan
		shown.Counters = o.Summary.Counters
		for _, l := range core.SummaryLines(&shown, &o.Result) {
			named(p.log, "processor").Info(l)
		}
	})
	b.SetLoadOptions(p.loadOpts)
	return b
}
