package run

import (
	"fmt"
	"slices"

	"github.com/usersync/usersync/core"
)

// Releasable reports whether an operator may release a change withheld
// by hold. Group removals and Adobe-only actions are decisions the org
// honours once made; a licence-quota hold is not: the org would refuse
// the adds past the quota or over-assign seats that are not paid for, so
// only limits.license_quota (warn or ignore) lets them through.
func Releasable(hold core.Hold) bool {
	switch hold {
	case core.HoldGroupRemovals, core.HoldAdobeOnly, "":
		// "" is a plan written before holds were named: the Adobe-only limit.
		return true
	}
	return false
}

// Released are the changes of p an operator released from a safety
// limit: changes to send that still name the limit that held them.
func Released(p *core.Plan) []core.Change {
	var out []core.Change
	for _, c := range p.Changes {
		if c.Held != "" {
			out = append(out, c)
		}
	}
	return out
}

// Release names withheld changes an operator releases: those held by
// one limit, and for max_group_removals the removals from one group.
type Release struct {
	Hold core.Hold
	// Org and Group (normalised) name the group of a max_group_removals
	// hold.
	Org, Group string
}

// Release moves the changes r names of a fresh draft from the withheld
// changes into those it sends, as the operator approved, and records the
// plan again so that the run's history shows them. Released changes keep
// Held, which names the limit they were released from. A withheld change
// that also removes other held groups is split: only the removal from
// r's group is released, under a new change ID. The draft gets a new plan
// (the old one is never modified, so views holding it stay consistent); a
// release of nothing, or of a licence-quota hold, is refused and nothing
// changes.
func (e *Engine) Release(d *Draft, r Release) error {
	if !d.fresh {
		return fmt.Errorf("only a plan just made can have withheld changes released; plan again")
	}
	if d.Run.Status != StatusPlanned {
		return fmt.Errorf("run %s is %s: its plan can no longer change", d.Run.ID, d.Run.Status)
	}
	p, err := releasePlan(d.Plan, r)
	if err != nil {
		return err
	}
	if err := e.Store.SavePlan(d.Run.ID, p); err != nil {
		return fmt.Errorf("saving the plan of run %s: %w", d.Run.ID, err)
	}
	run := d.Run
	run.Changes, run.Withheld = len(p.Changes), len(p.Withheld)
	if err := e.Store.UpdateRun(run); err != nil {
		return fmt.Errorf("recording run %s: %w", run.ID, err)
	}
	d.Plan, d.Run = p, run
	return nil
}

// releasePlan returns a copy of p with the withheld changes r names moved
// into Changes, each after the last change of its org (the plan's order
// is the executor's: secondary orgs first).
func releasePlan(p *core.Plan, r Release) (*core.Plan, error) {
	if !Releasable(r.Hold) {
		return nil, fmt.Errorf("changes withheld by %s cannot be released: the org would refuse the adds or over-assign seats; set limits.license_quota to send them", r.Hold)
	}
	next := 0
	for _, c := range append(slices.Clone(p.Changes), p.Withheld...) {
		next = max(next, c.ID+1)
	}
	var moved, kept []core.Change
	for _, c := range p.Withheld {
		switch {
		case r.Hold == core.HoldAdobeOnly || r.Hold == "":
			if c.Held == core.HoldAdobeOnly || c.Held == "" {
				c.Held = core.HoldAdobeOnly
				moved = append(moved, c)
				continue
			}
		case c.Held == core.HoldGroupRemovals && c.Org == r.Org && slices.Contains(c.Groups, r.Group):
			if len(c.Groups) == 1 {
				moved = append(moved, c)
				continue
			}
			part := c
			part.ID, next = next, next+1
			part.Groups = []string{r.Group}
			part.Reasons = slices.Clone(c.Reasons)
			moved = append(moved, part)
			c.Groups = slices.DeleteFunc(slices.Clone(c.Groups), func(g string) bool { return g == r.Group })
		}
		kept = append(kept, c)
	}
	if len(moved) == 0 {
		what := string(r.Hold)
		if r.Group != "" {
			what = fmt.Sprintf("%s on %q", r.Hold, r.Group)
		}
		return nil, fmt.Errorf("nothing in this plan is withheld by %s", what)
	}
	q := *p
	q.Withheld = kept
	q.Changes = slices.Clone(p.Changes)
	var ids []int
	for _, c := range moved {
		ids = append(ids, c.ID)
		at := len(q.Changes)
		for i := len(q.Changes) - 1; i >= 0; i-- {
			if q.Changes[i].Org == c.Org {
				at = i + 1
				break
			}
		}
		q.Changes = slices.Insert(q.Changes, at, c)
	}
	if r.Hold == core.HoldGroupRemovals {
		q.GroupHolds = slices.Clone(p.GroupHolds)
		for i := range q.GroupHolds {
			if h := &q.GroupHolds[i]; h.Org == r.Org && h.Group == r.Group {
				h.Changes = ids
			}
		}
	}
	return &q, nil
}
