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

// Release moves the withheld changes ids of a fresh draft into the changes
// it sends, as the operator approved, and records the plan again so that
// the run's history shows them. Released changes keep Held, which names
// the limit they were released from. The draft gets a new plan (the old
// one is never modified, so views holding it stay consistent); an ID that
// is not withheld, or withheld by a limit that cannot be released, is
// refused and nothing changes.
func (e *Engine) Release(d *Draft, ids []int) error {
	if !d.fresh {
		return fmt.Errorf("only a plan just made can have withheld changes released; plan again")
	}
	if d.Run.Status != StatusPlanned {
		return fmt.Errorf("run %s is %s: its plan can no longer change", d.Run.ID, d.Run.Status)
	}
	p, err := releasePlan(d.Plan, ids)
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

// releasePlan returns a copy of p with the withheld changes ids moved
// into Changes, each after the last change of its org (the plan's order
// is the executor's: secondary orgs first).
func releasePlan(p *core.Plan, ids []int) (*core.Plan, error) {
	want := map[int]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var moved, kept []core.Change
	for _, c := range p.Withheld {
		if !want[c.ID] {
			kept = append(kept, c)
			continue
		}
		if !Releasable(c.Held) {
			return nil, fmt.Errorf("change %d is withheld by %s, which cannot be released: the org would refuse the adds or over-assign seats; set limits.license_quota to send them", c.ID, c.Held)
		}
		delete(want, c.ID)
		moved = append(moved, c)
	}
	if len(want) > 0 {
		missing := make([]int, 0, len(want))
		for id := range want {
			missing = append(missing, id)
		}
		slices.Sort(missing)
		return nil, fmt.Errorf("changes %v are not withheld in this plan", missing)
	}
	q := *p
	q.Withheld = kept
	q.Changes = slices.Clone(p.Changes)
	for _, c := range moved {
		if c.Held == "" {
			c.Held = core.HoldAdobeOnly
		}
		at := len(q.Changes)
		for i := len(q.Changes) - 1; i >= 0; i-- {
			if q.Changes[i].Org == c.Org {
				at = i + 1
				break
			}
		}
		q.Changes = slices.Insert(q.Changes, at, c)
	}
	return &q, nil
}
