package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
	"github.com/usersync/usersync/store"
	"github.com/usersync/usersync/tui"
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
	p.args = args
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
	b := newConsoleBackend(p, db)
	if err := tui.Run(ctx, b, tui.Options{Title: title, AltScreen: true, NoColor: e.getenv("NO_COLOR") != ""}); err != nil {
		if errors.Is(err, context.Canceled) {
			// SIGINT or SIGTERM: the console finished the request in
			// flight; the journal says what was sent.
			return exitInterrupt
		}
		return fatal(e, err)
	}
	return b.exitCode()
}

// consoleBackend gives the console the run engine the headless commands
// use: the console renders, the engine plans, applies and records.
type consoleBackend struct {
	p   *pipeline
	eng *run.Engine
	db  *store.DB

	mu      sync.Mutex
	draft   *run.Draft
	outcome *run.Outcome
}

var _ tui.Backend = (*consoleBackend)(nil)

// exitCode is the exit code of the console's last apply (0 when it
// applied nothing).
func (b *consoleBackend) exitCode() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.outcome == nil {
		return exitOK
	}
	return exitCode(b.outcome, false)
}

func (b *consoleBackend) Fetch(ctx context.Context, r core.Reporter) (*core.Snapshot, error) {
	snap, err := b.eng.Fetch(ctx, r)
	if err != nil {
		return nil, err
	}
	// The mappings screen shows groups missing in Adobe, so read the group
	// lists even when auto_create did not.
	for org, t := range b.p.targets {
		o, ok := snap.Adobe[org]
		if !ok || o.Groups != nil {
			continue
		}
		if gs, err := t.Groups(ctx, r); err == nil {
			o.Groups = gs
			snap.Adobe[org] = o
		}
	}
	return snap, nil
}

// Plan records a new console run with its plan: every fetch starts a new
// run, so a summary never mixes plans.
func (b *consoleBackend) Plan(ctx context.Context, snap *core.Snapshot) (*core.Plan, error) {
	rec, err := b.eng.Start("console")
	if err != nil {
		return nil, err
	}
	d, err := b.eng.Plan(ctx, rec, snap)
	if err != nil {
		b.eng.Fail(rec, err)
		return nil, err
	}
	b.mu.Lock()
	b.draft, b.outcome = d, nil
	b.mu.Unlock()
	return d.Plan, nil
}

func (b *consoleBackend) Mappings(snap *core.Snapshot, p *core.Plan) []tui.MappingRow {
	dirMembers := map[string]int{}
	for _, u := range snap.Directory.Users {
		for _, g := range u.Groups {
			dirMembers[g]++
		}
	}
	missingDir := map[string]bool{}
	for _, g := range snap.Directory.MissingGroups {
		missingDir[g] = true
	}
	type orgGroup struct{ org, name string }
	adobeMembers := map[orgGroup]int{}
	known := map[string]map[string]bool{}
	for org, o := range snap.Adobe {
		for _, u := range o.Users {
			for _, g := range u.Groups {
				adobeMembers[orgGroup{org, core.NormalizeGroup(g)}]++
			}
		}
		if o.Groups != nil {
			known[org] = map[string]bool{}
			for _, g := range o.Groups {
				known[org][core.NormalizeGroup(g.Name)] = true
			}
		}
	}
	creates := map[orgGroup]bool{}
	for _, c := range p.Changes {
		if c.Action == core.ActionCreateGroup {
			creates[orgGroup{c.Org, core.NormalizeGroup(c.Group)}] = true
		}
	}
	var rows []tui.MappingRow
	for _, m := range b.p.opts.GroupMapping {
		row := tui.MappingRow{DirectoryGroup: m.DirectoryGroup, DirectoryMembers: dirMembers[m.DirectoryGroup], DirectoryMissing: missingDir[m.DirectoryGroup]}
		for _, q := range m.AdobeGroups {
			org, name := core.SplitQualifiedGroup(q)
			if org == "" {
				org = core.PrimaryOrg
			}
			k := orgGroup{org, core.NormalizeGroup(name)}
			mg := tui.MappedGroup{Org: org, Name: name, Members: adobeMembers[k], WillCreate: creates[k]}
			if set, ok := known[org]; ok && !set[k.name] {
				mg.Missing = true
			}
			row.Adobe = append(row.Adobe, mg)
		}
		rows = append(rows, row)
	}
	return rows
}

func (b *consoleBackend) Estimate(p *core.Plan, exclude map[int]bool) core.Estimate {
	// The estimate counts what Apply will send, dependents held back.
	return run.Exclude(p, exclude, nil).Estimate(p, core.DefaultRateLimit)
}

func (b *consoleBackend) Detail(snap *core.Snapshot, p *core.Plan, c core.Change) tui.ChangeDetail {
	var d tui.ChangeDetail
	match := func(email, username string) bool {
		for _, s := range []string{c.User.Email, c.User.User} {
			if s != "" && (strings.EqualFold(s, email) || strings.EqualFold(s, username)) {
				return true
			}
		}
		return false
	}
	for i := range snap.Directory.Users {
		if u := &snap.Directory.Users[i]; match(u.Email, u.Username) {
			d.Directory = u
			break
		}
	}
	for i, u := range snap.Adobe[c.Org].Users {
		if match(u.Email, u.Username) {
			d.Adobe = &snap.Adobe[c.Org].Users[i]
			break
		}
	}
	for _, r := range c.Reasons {
		if strings.Contains(strings.ToLower(r), "hook") {
			d.Hook = append(d.Hook, r)
		}
	}
	// The commands this user's changes travel in: pack just them.
	mini := *p
	mini.Changes = nil
	for _, o := range p.Changes {
		if o.Org == c.Org && o.Key == c.Key {
			mini.Changes = append(mini.Changes, o)
		}
	}
	for _, r := range core.BuildRequests(&mini, nil) {
		d.Commands = append(d.Commands, r.Request.Commands...)
	}
	return d
}

func (b *consoleBackend) Explain(ctx context.Context, snap *core.Snapshot, query string) (*core.Explanation, error) {
	return core.Explain(ctx, snap, b.p.opts, query)
}

func (b *consoleBackend) Apply(ctx context.Context, p *core.Plan, exclude map[int]bool, r core.Reporter) (core.ApplyResult, error) {
	b.mu.Lock()
	d := b.draft
	b.mu.Unlock()
	if d == nil || d.Plan != p {
		return core.ApplyResult{}, errors.New("this plan is not the console's current plan; fetch again")
	}
	o := b.eng.Apply(ctx, d, exclude, r)
	b.mu.Lock()
	b.outcome = o
	b.mu.Unlock()
	shown := *o.Plan
	shown.Counters = o.Summary.Counters
	for _, l := range core.SummaryLines(&shown, &o.Result) {
		named(b.p.log, "processor").Info(l)
	}
	return o.Result, errors.Join(o.Err, o.RecordErr)
}

func summaryOf(r store.RunInfo) tui.RunSummary {
	return tui.RunSummary{ID: r.ID, Started: r.Started, Finished: r.Finished, Command: r.Command, TestMode: r.TestMode,
		Changes: r.Changes, Requests: r.Requests, Succeeded: r.Succeeded, Failed: r.Failed, Excluded: len(r.Excluded),
		Skipped: max(0, r.Changes-r.Succeeded-r.Failed-len(r.Excluded)), Cancelled: r.Status == store.StatusInterrupted}
}

func (b *consoleBackend) History(context.Context) ([]tui.RunSummary, error) {
	runs, err := b.db.Runs(200)
	if err != nil {
		return nil, err
	}
	out := make([]tui.RunSummary, len(runs))
	for i, r := range runs {
		out[i] = summaryOf(r)
	}
	return out, nil
}

func (b *consoleBackend) Run(_ context.Context, id string) (*tui.RunDetail, error) {
	info, err := b.db.Run(id)
	if err != nil {
		return nil, err
	}
	d := &tui.RunDetail{Summary: summaryOf(info)}
	if p, err := b.db.Plan(id); err == nil {
		d.Changes = append(p.Changes, p.Withheld...)
	}
	if d.Results, err = b.db.Results(id); err != nil {
		return nil, err
	}
	d.Exclusions, _ = b.db.Exclusions()
	return d, nil
}

func (b *consoleBackend) Exclusions() ([]core.Exclusion, error) { return b.db.Exclusions() }

func (b *consoleBackend) RememberExclusion(x core.Exclusion) error { return b.db.RememberExclusion(x) }

func (b *consoleBackend) ForgetExclusion(x core.Exclusion) error { return b.db.ForgetExclusion(x) }

var _ io.Writer = quietWriter{}

func newConsoleBackend(p *pipeline, db *store.DB) *consoleBackend {
	return &consoleBackend{p: p, eng: p.engine(db, false), db: db}
}
