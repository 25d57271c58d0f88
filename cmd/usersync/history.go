package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/store"
)

// dbPath resolves the database: --db, else USERSYNC_DB, else usersync.db
// beside the main configuration file.
func dbPath(e *env, flagDB, configPath string) string {
	if flagDB != "" {
		return flagDB
	}
	if v := e.getenv("USERSYNC_DB"); v != "" {
		return v
	}
	if configPath == "" {
		configPath = config.DefaultConfigFile
	}
	return filepath.Join(filepath.Dir(configPath), "usersync.db")
}

// dbFlags are the flags of commands that only read the database.
type dbFlags struct {
	db     string
	config string
}

func (f *dbFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "the database (default: usersync.db beside the config file, or $USERSYNC_DB)")
	fs.StringVarP(&f.config, "config-filename", "c", config.DefaultConfigFile, "the main configuration file (locates the database)")
}

func newFlagSet(e *env, name, usage string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	// pflag prints the usage on --help, once: on stdout, since it is what
	// was asked for.
	fs.Usage = func() { printUsage(e.stdout, fs, usage) }
	return fs
}

// printUsage prints a command's usage line and flags to w.
func printUsage(w io.Writer, fs *pflag.FlagSet, usage string) {
	fmt.Fprintf(w, "Usage: usersync %s\n\n", usage)
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// parseFlags parses and maps errors to exit codes; ok is false when the
// command should return code.
func parseFlags(fs *pflag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

func openReadOnly(e *env, f dbFlags) (*store.DB, error) {
	path := dbPath(e, f.db, f.config)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no database at %s: no run has been recorded there yet (use --db to name another)", path)
	}
	return store.Open(path, store.Options{ReadOnly: true, Timeout: 5 * time.Second})
}

// closeReadOnly closes a database opened for reading. A failure is
// reported, and turns a clean exit into a failed one.
func closeReadOnly(e *env, db *store.DB, code int) int {
	if err := db.Close(); err != nil {
		fmt.Fprintf(e.stderr, "usersync: closing %s: %v\n", db.Path(), err)
		if code == exitOK {
			return exitFatal
		}
	}
	return code
}

func cmdHistory(_ context.Context, e *env, args []string) (code int) {
	var f dbFlags
	var limit int
	var asJSON bool
	fs := newFlagSet(e, "history", "history [--db PATH] [-n N] [--json]")
	f.add(fs)
	fs.IntVarP(&limit, "limit", "n", 20, "how many runs to list (0: all)")
	fs.BoolVar(&asJSON, "json", false, "one JSON object per run")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	db, err := openReadOnly(e, f)
	if err != nil {
		return fatal(e, err)
	}
	defer func() { code = closeReadOnly(e, db, code) }()
	runs, err := db.Runs(limit)
	if err != nil {
		return fatal(e, err)
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, r := range runs {
			enc.Encode(r)
		}
		return exitOK
	}
	if len(runs) == 0 {
		fmt.Fprintln(e.stdout, "No runs recorded yet.")
		return exitOK
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tCOMMAND\tSTARTED\tSTATUS\tEXIT\tCHANGES\tOK\tFAILED\tWITHHELD")
	for _, r := range runs {
		mode := r.Command
		if r.TestMode {
			mode += " (test)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", r.ID, mode, r.Started.Local().Format("2006-01-02 15:04"),
			r.Status, r.ExitCode, r.Changes, r.Succeeded, r.Failed, r.Withheld)
	}
	tw.Flush()
	return exitOK
}

// resultRow is one change of a run with its outcome, as show prints it.
type resultRow struct {
	ChangeID int               `json:"change_id"`
	Org      string            `json:"org"`
	Action   core.Action       `json:"action"`
	User     string            `json:"user"`
	Groups   []string          `json:"groups,omitempty"`
	Attrs    []core.AttrChange `json:"attrs,omitempty"`
	Outcome  string            `json:"outcome"`
	Code     string            `json:"code,omitempty"`
	Message  string            `json:"message,omitempty"`
	Rule     string            `json:"rule,omitempty"`
}

func runRows(p *core.Plan, results []core.ChangeResult, excluded []int) []resultRow {
	byID := map[int]core.ChangeResult{}
	for _, r := range results {
		byID[r.ChangeID] = r
	}
	ex := map[int]bool{}
	for _, id := range excluded {
		ex[id] = true
	}
	var rows []resultRow
	add := func(c core.Change, outcome string) {
		user := c.User.User
		if c.Action == core.ActionCreateGroup {
			user = c.Group
		}
		row := resultRow{ChangeID: c.ID, Org: c.Org, Action: c.Action, User: user, Groups: c.Groups, Attrs: c.Attrs, Outcome: outcome, Rule: c.Rule}
		// The executor reports an excluded change as skipped; show says
		// why.
		if r, ok := byID[c.ID]; ok && !(outcome == "excluded" && r.Outcome == core.OutcomeSkipped) {
			row.Outcome, row.Code, row.Message = string(r.Outcome), r.Code, r.Message
		}
		rows = append(rows, row)
	}
	for _, c := range p.Changes {
		switch {
		case ex[c.ID]:
			add(c, "excluded")
		default:
			add(c, "not sent")
		}
	}
	for _, c := range p.Withheld {
		add(c, "withheld")
	}
	return rows
}

func cmdShow(_ context.Context, e *env, args []string) (code int) {
	var f dbFlags
	var asJSON, asCSV bool
	fs := newFlagSet(e, "show", "show RUN-ID [--json|--csv]")
	f.add(fs)
	fs.BoolVar(&asJSON, "json", false, "the run and its per-change results as JSON")
	fs.BoolVar(&asCSV, "csv", false, "per-change results as CSV")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 || (asJSON && asCSV) {
		printUsage(e.stderr, fs, "show RUN-ID [--json|--csv]")
		return exitUsage
	}
	db, err := openReadOnly(e, f)
	if err != nil {
		return fatal(e, err)
	}
	defer func() { code = closeReadOnly(e, db, code) }()
	id := fs.Arg(0)
	if id == "last" || id == "latest" {
		r, ok, err := db.LatestRun()
		if err != nil || !ok {
			return fatal(e, fmt.Errorf("no runs recorded yet"))
		}
		id = r.ID
	}
	// The console and the history cut run IDs: a unique prefix will do.
	if id, err = resolveRunID(db, id); err != nil {
		return fatal(e, err)
	}
	info, err := db.Run(id)
	if err != nil {
		return fatal(e, err)
	}
	var rows []resultRow
	p, err := db.Plan(id)
	if err == nil {
		results, err := db.Results(id)
		if err != nil {
			return fatal(e, err)
		}
		rows = runRows(p, results, info.Excluded)
	}
	exclusions, err := db.Exclusions()
	if err != nil {
		return fatal(e, fmt.Errorf("reading the remembered exclusions: %w", err))
	}
	switch {
	case asJSON:
		var pending []core.PendingUser
		if p != nil {
			pending = p.Pending
		}
		json.NewEncoder(e.stdout).Encode(struct {
			Run        store.RunInfo      `json:"run"`
			Results    []resultRow        `json:"results"`
			Exclusions []core.Exclusion   `json:"remembered_exclusions,omitempty"`
			Pending    []core.PendingUser `json:"pending,omitempty"`
		}{info, rows, exclusions, pending})
	case asCSV:
		w := csv.NewWriter(e.stdout)
		w.Write([]string{"change_id", "org", "action", "user", "groups", "outcome", "code", "message"})
		for _, r := range rows {
			w.Write([]string{fmt.Sprint(r.ChangeID), r.Org, string(r.Action), r.User, strings.Join(r.Groups, ";"), r.Outcome, r.Code, r.Message})
		}
		w.Flush()
	default:
		fmt.Fprintf(e.stdout, "Run %s (%s)\n  started  %s\n", info.ID, info.Command, info.Started.Local().Format(time.RFC1123))
		if !info.Finished.IsZero() {
			fmt.Fprintf(e.stdout, "  finished %s\n", info.Finished.Local().Format(time.RFC1123))
		}
		fmt.Fprintf(e.stdout, "  status   %s (exit %d)\n  changes  %d planned, %d succeeded, %d failed, %d withheld, %d excluded\n",
			info.Status, info.ExitCode, info.Changes, info.Succeeded, info.Failed, info.Withheld, len(info.Excluded))
		if info.ResumedFrom != "" {
			fmt.Fprintf(e.stdout, "  plan of  run %s\n", info.ResumedFrom)
		}
		if info.Error != "" {
			fmt.Fprintf(e.stdout, "  error    %s\n", info.Error)
		}
		printPending(e.stdout, p)
		if len(exclusions) > 0 {
			fmt.Fprintf(e.stdout, "\nRemembered exclusions (applied to every run until removed):\n")
			for _, x := range exclusions {
				fmt.Fprintf(e.stdout, "  %s %s %s %s\n", x.Org, x.Action, x.Key, x.Note)
			}
		}
		if len(rows) > 0 {
			fmt.Fprintln(e.stdout)
			tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tORG\tACTION\tUSER\tGROUPS\tOUTCOME\tDETAIL")
			for _, r := range rows {
				detail := r.Code
				if r.Message != "" {
					detail += " " + r.Message
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ChangeID, r.Org, r.Action, r.User, strings.Join(r.Groups, ", "), r.Outcome, strings.TrimSpace(detail))
			}
			tw.Flush()
		}
	}
	return exitOK
}
