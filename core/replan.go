package core

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Replan recomputes a plan from an existing snapshot with mapping in
// place of the configured group mapping: no fetch, so a mapping edit can
// be tried at once. Users the source read but did not select (a CSV file
// is read whole) are candidates again, since the new mapping may select
// them. Notes says what the snapshot cannot show: directory groups the new
// mapping names that no user read is in (a source that reads only mapped
// groups never read them), and Adobe groups whose members were not read.
func Replan(ctx context.Context, snap *Snapshot, o *Options, mapping []GroupMapping) (plan *Plan, notes []string, err error) {
	no := *o
	no.GroupMapping = mapping
	s := *snap
	if len(snap.Directory.Unselected) > 0 {
		s.Directory.Users = append(append([]DirectoryUser(nil), snap.Directory.Users...), snap.Directory.Unselected...)
		s.Directory.Unselected = nil
	}
	seen := map[string]bool{}
	for _, u := range s.Directory.Users {
		for _, g := range u.Groups {
			seen[g] = true
		}
	}
	// Recompute which mapped directory groups are missing for the new
	// mapping, from what was read.
	s.Directory.MissingGroups = nil
	for _, m := range mapping {
		if !seen[m.DirectoryGroup] {
			s.Directory.MissingGroups = append(s.Directory.MissingGroups, m.DirectoryGroup)
			notes = append(notes, fmt.Sprintf("no user read is in directory group %q: if the source reads only mapped groups, fetch again to see its members", m.DirectoryGroup))
		}
	}
	for org, q := range AdobeQueries(&no) {
		os, ok := snap.Adobe[org]
		if !ok {
			notes = append(notes, fmt.Sprintf("%s was not read: fetch again", orgLabel(org)))
			continue
		}
		if os.Query.All {
			continue
		}
		read := map[string]bool{}
		for _, g := range os.Query.Groups {
			read[NormalizeGroup(g)] = true
		}
		for _, g := range q.Groups {
			if !read[NormalizeGroup(g)] {
				notes = append(notes, fmt.Sprintf("the members of Adobe group %q in %s were not read (--adobe-users mapped): fetch again to see them", g, orgLabel(org)))
			}
		}
	}
	plan, err = BuildPlan(ctx, &s, &no)
	return plan, notes, err
}

// ActionDelta is how the count of one action changes between two plans.
type ActionDelta struct {
	Action Action `json:"action"`
	Before int    `json:"before"`
	After  int    `json:"after"`
}

// PlanDiff is the difference between a plan and its recomputation (after
// a mapping edit): the changes only the new plan has, those only the old
// one had, and the count of each action before and after.
type PlanDiff struct {
	Added   []Change      `json:"added,omitempty"`
	Dropped []Change      `json:"dropped,omitempty"`
	Counts  []ActionDelta `json:"counts,omitempty"`
	// Findings are the new plan's findings the old one did not have, and
	// Resolved the old plan's findings the new one no longer has.
	Findings []Finding `json:"findings,omitempty"`
	Resolved []Finding `json:"resolved,omitempty"`
}

// Empty reports whether the plans make the same changes.
func (d *PlanDiff) Empty() bool { return len(d.Added) == 0 && len(d.Dropped) == 0 }

// DiffPlans compares two plans change by change (withheld changes
// included). Change IDs are ignored: they are positions, not identities.
func DiffPlans(before, after *Plan) PlanDiff {
	var d PlanDiff
	bk, ak := changeKeys(before), changeKeys(after)
	for _, c := range allChanges(after) {
		if bk[changeKey(&c)] == 0 {
			d.Added = append(d.Added, c)
		} else {
			bk[changeKey(&c)]--
		}
	}
	for _, c := range allChanges(before) {
		if ak[changeKey(&c)] == 0 {
			d.Dropped = append(d.Dropped, c)
		} else {
			ak[changeKey(&c)]--
		}
	}
	counts := map[Action]*ActionDelta{}
	delta := func(a Action) *ActionDelta {
		if counts[a] == nil {
			counts[a] = &ActionDelta{Action: a}
		}
		return counts[a]
	}
	for _, c := range allChanges(before) {
		delta(c.Action).Before++
	}
	for _, c := range allChanges(after) {
		delta(c.Action).After++
	}
	for _, v := range counts {
		if v.Before != v.After {
			d.Counts = append(d.Counts, *v)
		}
	}
	sort.Slice(d.Counts, func(i, j int) bool { return d.Counts[i].Action < d.Counts[j].Action })
	fb, fa := map[string]bool{}, map[string]bool{}
	for _, f := range before.Findings {
		fb[f.Message] = true
	}
	for _, f := range after.Findings {
		fa[f.Message] = true
		if !fb[f.Message] {
			d.Findings = append(d.Findings, f)
		}
	}
	for _, f := range before.Findings {
		if !fa[f.Message] {
			d.Resolved = append(d.Resolved, f)
		}
	}
	return d
}

// Lines says the difference in words, one line per changed change.
func (d *PlanDiff) Lines() []string {
	var out []string
	for _, c := range d.Counts {
		out = append(out, fmt.Sprintf("%s: %d → %d", c.Action, c.Before, c.After))
	}
	for _, c := range d.Added {
		out = append(out, "+ "+describeChange(&c))
	}
	for _, c := range d.Dropped {
		out = append(out, "- "+describeChange(&c))
	}
	return out
}

func allChanges(p *Plan) []Change {
	return append(append([]Change(nil), p.Changes...), p.Withheld...)
}

func changeKeys(p *Plan) map[string]int {
	m := map[string]int{}
	for _, c := range allChanges(p) {
		m[changeKey(&c)]++
	}
	return m
}

func changeKey(c *Change) string {
	gs := append([]string(nil), c.Groups...)
	sort.Strings(gs)
	var as []string
	for _, a := range c.Attrs {
		as = append(as, a.Name+"="+a.After)
	}
	return strings.Join([]string{c.Org, string(c.Action), c.Key, c.Group, strings.Join(gs, ","), strings.Join(as, ","), c.Blocked}, "\x00")
}

// MappingChanges returns the IDs of the changes of p (withheld ones
// included) that concern the mapping row of directory group dg in o: the
// additions to and removals from the Adobe groups it maps to, in their
// orgs. The console filters its review with it.
func MappingChanges(p *Plan, o *Options, dg string) []int {
	targets := map[string]bool{} // org + "\x00" + normalised group
	for _, m := range o.GroupMapping {
		if m.DirectoryGroup != dg {
			continue
		}
		for _, q := range m.AdobeGroups {
			org, name := SplitQualifiedGroup(q)
			if org == "" {
				org = PrimaryOrg
			}
			targets[org+"\x00"+NormalizeGroup(name)] = true
		}
	}
	var ids []int
	for _, c := range allChanges(p) {
		if c.Action != ActionAddGroups && c.Action != ActionRemoveGroups {
			continue
		}
		for _, g := range c.Groups {
			if targets[c.Org+"\x00"+NormalizeGroup(g)] {
				ids = append(ids, c.ID)
				break
			}
		}
	}
	return ids
}
