package core

import (
	"fmt"
	"sort"
	"time"
)

// PendingUser is an Adobe-only user in its grace period
// (limits.adobe_only_grace_period): it has lost its mapped groups and
// stays in the org until Due, when the configured action is taken.
type PendingUser struct {
	Key   string `json:"key"` // the user key
	Email string `json:"email"`
	// Action is the Adobe-only action that waits (remove or delete).
	Action AdobeOnlyKind `json:"action"`
	// FirstMissed is when a run first found the user missing from the
	// directory; Due is FirstMissed plus the grace period.
	FirstMissed time.Time `json:"first_missed"`
	Due         time.Time `json:"due"`
	// IsDue is set when the plan takes the action (the period is over).
	IsDue bool `json:"is_due,omitempty"`
}

// PendingStore keeps the grace-period entries between runs. Pending
// returns every entry by user key; SavePending replaces them all with
// Plan.Pending of a run that was applied.
type PendingStore interface {
	Pending() (map[string]PendingUser, error)
	SavePending([]PendingUser) error
}

// graceState is the grace-period bookkeeping of one planning run.
type graceState struct {
	done    bool               // the primary's Adobe-only users were decided
	waiting map[userKey]string // primary users still in their period → due date
}

// graceOn reports whether the grace period applies to this run's
// Adobe-only action. It does not apply to --adobe-only-user-list, whose
// users have no known mapped groups.
func (p *planner) graceOn() bool {
	a := p.o.AdobeOnlyAction
	return p.o.Safety.GracePeriod > 0 && (a == AdobeOnlyRemove || a == AdobeOnlyDelete) && !p.listMode()
}

func (p *planner) now() time.Time {
	if !p.o.Safety.Now.IsZero() {
		return p.o.Safety.Now
	}
	return time.Now()
}

// graceDecide records, for every Adobe-only user of the primary org, when
// it was first missed and whether its action falls due in this run. It
// returns how many users have their action taken now.
func (p *planner) graceDecide() int {
	prim := &p.orgs[0]
	if !p.graceOn() {
		return len(prim.strays)
	}
	now := p.now().UTC()
	p.grace.done = true
	p.grace.waiting = map[userKey]string{}
	due := 0
	for _, s := range prim.strays {
		key := s.k.String()
		first := now
		if e, ok := p.o.Safety.Pending[key]; ok && !e.FirstMissed.IsZero() && !e.FirstMissed.After(now) {
			first = e.FirstMissed.UTC()
		}
		pu := PendingUser{Key: key, Email: s.ref.Email, Action: p.o.AdobeOnlyAction, FirstMissed: first,
			Due: first.Add(p.o.Safety.GracePeriod)}
		if !now.Before(pu.Due) {
			pu.IsDue = true
			due++
		} else {
			p.grace.waiting[s.k] = pu.Due.Format(time.RFC3339)
			p.notef(NoteGrace, "", s.k.String(), "Adobe-only user %s is in its grace period: missing since %s, --adobe-only-user-action %s falls due %s",
				key, first.Format(time.RFC3339), p.o.AdobeOnlyAction, pu.Due.Format(time.RFC3339))
		}
		p.plan.Pending = append(p.plan.Pending, pu)
	}
	sort.Slice(p.plan.Pending, func(i, j int) bool { return p.plan.Pending[i].Key < p.plan.Pending[j].Key })
	return due
}

// graceStray plans a user whose action waits for its grace period: only
// its mapped groups are removed. It reports whether s was such a user.
func (p *planner) graceStray(oi int, s *strayRec) bool {
	due, ok := p.grace.waiting[s.k]
	if !ok {
		return false
	}
	if len(s.mapped) == 0 {
		return true
	}
	org := p.g.orgs[oi]
	p.notef(NoteGrace, "", s.k.String(), "Removing mapped groups from Adobe-only user in its grace period: %s", s.k.String())
	p.emit(Change{Org: org, Action: ActionRemoveGroups, Key: s.k.String(), User: s.ref, Groups: s.mapped, AdobeOnly: true,
		Rule: fmt.Sprintf("Adobe-only user in its grace period (limits.adobe_only_grace_period): only its mapped groups are removed; --adobe-only-user-action %s falls due %s",
			p.o.AdobeOnlyAction, due),
		Reasons: []string{"no selected directory user has this email or username"}})
	return true
}

// carryPending keeps the earlier entries when this run did not decide the
// Adobe-only users (they were not read, or the action does not manage
// them), so that a partial run does not restart anyone's period.
func (p *planner) carryPending() {
	if p.grace.done || p.o.Safety.GracePeriod <= 0 {
		return
	}
	for _, e := range p.o.Safety.Pending {
		p.plan.Pending = append(p.plan.Pending, e)
	}
	sort.Slice(p.plan.Pending, func(i, j int) bool { return p.plan.Pending[i].Key < p.plan.Pending[j].Key })
}
