// Command usersync keeps an Adobe organisation's users and product access in
// step with a company directory. See README.md and docs/.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// Version is the program version, set at build time with
// -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

// Exit codes (DESIGN.md, every command).
const (
	exitOK        = 0
	exitFatal     = 1
	exitUsage     = 2
	exitFailed    = 3  // some actions failed at the server
	exitWithheld  = 4  // Adobe-only actions withheld by a safety limit
	exitPending   = 10 // plan --detailed-exitcode: changes pending
	exitInterrupt = 130
)

// env is what a command may touch of the outside world; tests fill it.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// tty reports whether stdout is a terminal (console vs headless).
	tty bool
	// now is the clock runs plan with (the grace period); nil is
	// time.Now.
	now func() time.Time
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"console", "the interactive console: fetch, review, approve, apply", cmdConsole},
		{"sync", "headless: fetch, plan, apply, summary (UST's sync)", cmdSync},
		{"plan", "fetch and plan; change nothing", cmdPlan},
		{"apply", "apply a saved plan (file or run id) exactly", cmdApply},
		{"explain", "why a user is or is not synced, step by step", cmdExplain},
		{"history", "past runs", cmdHistory},
		{"show", "one run and its per-user results", cmdShow},
		{"check", "validate the configuration and reach both sides", cmdCheck},
		{"sim", "run the UMAPI simulator", cmdSim},
		{"demo", "everything embedded: a simulator org, a bundled directory, the console", cmdDemo},
		{"init", "write commented example configuration files", cmdInit},
		{"example-config", "write commented example configuration files", cmdInit},
		{"credentials", "manage secrets in the OS keyring (set|get|delete)", cmdCredentials},
		{"version", "print the version", cmdVersion},
		{"help", "list the commands", cmdHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		tty: isatty.IsTerminal(os.Stdout.Fd()) && isatty.IsTerminal(os.Stdin.Fd())}
	os.Exit(runMain(ctx, e, os.Args[1:]))
}

// run dispatches a command line and returns the exit code.
func runMain(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		// UST's bare command line was a sync with invocation_defaults;
		// keep that for cron and scripts. Without a config, both forms
		// say how to start.
		if _, err := os.Stat(config.DefaultConfigFile); err == nil && !e.tty {
			return cmdSync(ctx, e, nil)
		}
		return cmdConsole(ctx, e, nil)
	}
	switch args[0] {
	case "-h", "--help":
		return cmdHelp(ctx, e, nil)
	case "-v", "--version":
		return cmdVersion(ctx, e, nil)
	}
	if strings.HasPrefix(args[0], "-") {
		// UST's command line had no sub-command (sync was the default). Keep
		// existing cron lines working: without a terminal, flags alone mean
		// sync; at a terminal they open the console with those flags.
		if e.tty {
			return cmdConsole(ctx, e, args)
		}
		return cmdSync(ctx, e, args)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "usersync: unknown command %q%s\nRun 'usersync help' for the list.\n", args[0], suggestCommand(args[0]))
	return exitUsage
}

func suggestCommand(s string) string {
	best, bestD := "", 3
	for _, c := range commands() {
		if d := core.EditDistance(strings.ToLower(s), c.name); d < bestD {
			best, bestD = c.name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func cmdHelp(_ context.Context, e *env, _ []string) int {
	fmt.Fprintln(e.stdout, "usersync keeps an Adobe organisation in step with your directory.")
	fmt.Fprintln(e.stdout, "\nUsage: usersync [command] [options]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(e.stdout, "  %-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(e.stdout, "\nWithout a command, usersync opens the console (at a terminal) or runs sync (in cron and scripts).")
	fmt.Fprintln(e.stdout, "Each command takes --help. The manual is in docs/.")
	return exitOK
}

func cmdVersion(_ context.Context, e *env, _ []string) int {
	fmt.Fprintf(e.stdout, "usersync %s\n", Version)
	return exitOK
}

// errorf prints a fatal error in one line on stderr and returns exitFatal.
func fatal(e *env, err error) int {
	fmt.Fprintf(e.stderr, "usersync: %v\n", err)
	return exitFatal
}
