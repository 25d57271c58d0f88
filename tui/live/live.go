// Package live is the console's backend over the real run engine and
// store: what 'usersync console' runs and what the console's tests drive.
package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/run"
	"github.com/usersync/usersync/store"
	"github.com/usersync/usersync/tui"
)

// Backend is the console's backend over the run engine: the console
// renders, the engine plans, applies and records.
type Backend struct {
	eng *run.Engine
	db  *store.DB
	// applied, when set, is called with every apply's outcome (the
	// command logs UST's Action Summary with it).
	applied func(*run.Outcome)

	// loadOpts validate the configuration file after a mapping edit.
	loadOpts config.LoadOptions

	// mu guards draft, outcome and the engine's Options pointer, which a
	// written mapping edit replaces.
	mu      sync.Mutex
	draft   *run.Draft
	outcome *run.Outcome
}

// SetLoadOptions sets the options the configuration file was loaded with;
// WriteMapping validates the edited file by loading it with them.
func (b *Backend) SetLoadOptions(lo config.LoadOptions) { b.loadOpts = lo }

// options is the engine's options as now configured.
func (b *Backend) options() *core.Options {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.eng.Options
}

var _ tui.Backend = (*Backend)(nil)

// New returns the backend of a console over eng, whose store is db.
// applied, when not nil, is called with the outcome of every apply.
func New(eng *run.Engine, db *store.DB, applied func(*run.Outcome)) *Backend {
	return &Backend{eng: eng, db: db, applied: applied}
}

// Outcome is the outcome of the console's last apply; nil when the
// current plan has not been applied.
func (b *Backend) Outcome() *run.Outcome {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.outcome
}

func (b *Backend) Fetch(ctx context.Context, r core.Reporter) (*core.Snapshot, error) {
	snap, err := b.eng.Fetch(ctx, r)
	if err != nil {
		return nil, err
	}
	// The mappings screen shows groups missing in Adobe, so read the group
	// lists even when auto_create did not.
	for org, t := range b.eng.Targets {
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
func (b *Backend) Plan(ctx context.Context, snap *core.Snapshot) (*core.Plan, error) {
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

func (b *Backend) Mappings(snap *core.Snapshot, p *core.Plan) []tui.MappingRow {
	return mappingRows(snap, p, b.options().GroupMapping)
}

// GroupMapping is the configured group mapping (the written one).
func (b *Backend) GroupMapping() []core.GroupMapping {
	return slices.Clone(b.options().GroupMapping)
}

// Replan recomputes the plan from snap with mapping, without fetching:
// the console previews a mapping edit with it. The plan is not recorded.
func (b *Backend) Replan(ctx context.Context, snap *core.Snapshot, mapping []core.GroupMapping) (*tui.Replanned, error) {
	p, notes, err := core.Replan(ctx, snap, b.options(), mapping)
	if err != nil {
		return nil, err
	}
	return &tui.Replanned{Plan: p, Notes: notes, Mappings: mappingRows(snap, p, mapping)}, nil
}

// MappingChanges lists the changes of p that concern the row of directory
// group dg in mapping.
func (b *Backend) MappingChanges(p *core.Plan, mapping []core.GroupMapping, dg string) []int {
	o := *b.options()
	o.GroupMapping = mapping
	return core.MappingChanges(p, &o, dg)
}

// WriteMapping writes edits to the main configuration file (keeping its
// comments and order, after a backup beside it), then makes the edited
// mapping the engine's and records a new console run with the plan
// recomputed from snap, ready to apply. A failed write changes nothing.
func (b *Backend) WriteMapping(ctx context.Context, snap *core.Snapshot, edits []config.MappingEdit) (string, *tui.Replanned, error) {
	path := b.eng.ConfigFile
	if path == "" {
		return "", nil, errors.New("the console does not know its configuration file, so it cannot write the mapping")
	}
	cur := b.options()
	mapping, err := config.ApplyMappingEdits(cur.GroupMapping, edits...)
	if err != nil {
		return "", nil, err
	}
	backup, err := config.EditMappingFile(path, b.loadOpts, edits...)
	if err != nil {
		return "", nil, err
	}
	o := *cur
	o.GroupMapping = mapping
	b.mu.Lock()
	b.eng.Options = &o
	b.mu.Unlock()
	// Plan from the snapshot as core.Replan sees it: users read but not
	// selected may be selected by the new mapping, and the mapped groups
	// missing in the directory are those no user read is in.
	s := *snap
	s.Directory.Users = append(slices.Clone(snap.Directory.Users), snap.Directory.Unselected...)
	s.Directory.Unselected = nil
	seen := map[string]bool{}
	for _, u := range s.Directory.Users {
		for _, g := range u.Groups {
			seen[g] = true
		}
	}
	s.Directory.MissingGroups = nil
	for _, m := range mapping {
		if !seen[m.DirectoryGroup] {
			s.Directory.MissingGroups = append(s.Directory.MissingGroups, m.DirectoryGroup)
		}
	}
	plan, err := b.Plan(ctx, &s)
	if err != nil {
		return backup, nil, fmt.Errorf("the mapping was written, but planning with it failed: %w", err)
	}
	return backup, &tui.Replanned{Plan: plan, Mappings: mappingRows(snap, plan, mapping)}, nil
}

func mappingRows(snap *core.Snapshot, p *core.Plan, mapping []core.GroupMapping) []tui.MappingRow {
	// Members count every user read in the group, selected or not: an
	// edited mapping may select users the configured one did not.
	dirMembers := map[string]int{}
	for _, us := range [][]core.DirectoryUser{snap.Directory.Users, snap.Directory.Unselected} {
		for _, u := range us {
			for _, g := range u.Groups {
				dirMembers[g]++
			}
		}
	}
	missingDir := map[string]bool{}
	for _, g := range snap.Directory.MissingGroups {
		missingDir[g] = true
	}
	for _, m := range mapping {
		if dirMembers[m.DirectoryGroup] == 0 {
			missingDir[m.DirectoryGroup] = true
		}
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
	for _, m := range mapping {
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

func (b *Backend) Estimate(p *core.Plan, exclude map[int]bool) tui.Cost {
	// The estimate counts what Apply will send, dependents held back.
	x := run.Exclude(p, exclude, nil)
	return tui.Cost{Excluded: x, Estimate: x.Estimate(p, b.eng.Rate())}
}

func (b *Backend) Detail(snap *core.Snapshot, p *core.Plan, c core.Change) tui.ChangeDetail {
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

func (b *Backend) Explain(ctx context.Context, snap *core.Snapshot, query string) (*core.Explanation, error) {
	return core.ExplainFrom(ctx, snap, b.eng.Source, b.options(), query)
}

func (b *Backend) Apply(ctx context.Context, p *core.Plan, exclude map[int]bool, r core.Reporter) *run.Outcome {
	b.mu.Lock()
	d := b.draft
	b.mu.Unlock()
	if d == nil || d.Plan != p {
		return &run.Outcome{Plan: p, Err: errors.New("this plan is not the console's current plan; fetch again")}
	}
	o := b.eng.Apply(ctx, d, exclude, r)
	b.mu.Lock()
	b.outcome = o
	b.mu.Unlock()
	if b.applied != nil {
		b.applied(o)
	}
	return o
}

func (b *Backend) Release(_ context.Context, p *core.Plan, r run.Release) (*core.Plan, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.draft
	if d == nil || d.Plan != p {
		return nil, errors.New("this plan is not the console's current plan; fetch again")
	}
	if b.outcome != nil {
		return nil, errors.New("this plan has been applied; fetch again")
	}
	if err := b.eng.Release(d, r); err != nil {
		return nil, err
	}
	return d.Plan, nil
}

func summaryOf(r store.RunInfo) tui.RunSummary {
	return tui.RunSummary{ID: r.ID, Started: r.Started, Finished: r.Finished, Command: r.Command, TestMode: r.TestMode,
		Changes: r.Changes, Requests: r.Requests, Succeeded: r.Succeeded, Failed: r.Failed, Excluded: len(r.Excluded),
		Skipped: max(0, r.Changes-r.Succeeded-r.Failed-len(r.Excluded)), Cancelled: r.Status == store.StatusInterrupted}
}

func (b *Backend) History(context.Context) ([]tui.RunSummary, error) {
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

func (b *Backend) Run(_ context.Context, id string) (*tui.RunDetail, error) {
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

func (b *Backend) Exclusions() ([]core.Exclusion, error) { return b.db.Exclusions() }

func (b *Backend) RememberExclusion(x core.Exclusion) error { return b.db.RememberExclusion(x) }

func (b *Backend) ForgetExclusion(x core.Exclusion) error { return b.db.ForgetExclusion(x) }
