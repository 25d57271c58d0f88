package core

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// Safety holds the safety limits beyond UST's max_adobe_only_users. The
// zero value turns every one of them off except the licence quota, which
// holds by default.
type Safety struct {
	// MaxGroupRemovals is limits.max_group_removals: the most members a run
	// may remove from one Adobe group (a count, or a percentage of the
	// group's members before the run). Unset means no limit.
	MaxGroupRemovals Limit
	// GracePeriod is limits.adobe_only_grace_period; 0 turns it off.
	GracePeriod time.Duration
	// Pending are the grace-period entries kept from earlier runs, by user
	// key (cmd reads them from a PendingStore).
	Pending map[string]PendingUser
	// Now is the time the plan is made at (grace-period arithmetic); zero
	// means time.Now().
	Now time.Time
	// LicenseQuota is limits.license_quota; "" means QuotaHold.
	LicenseQuota QuotaPolicy
}

// Hold names the safety limit that withheld a change.
type Hold string

// The holds.
const (
	HoldAdobeOnly     Hold = "max_adobe_only_users"
	HoldGroupRemovals Hold = "max_group_removals"
	HoldLicenseQuota  Hold = "license_quota"
)

// GroupHold is one Adobe group whose planned removals exceeded
// max_group_removals, so that every removal from it was withheld.
type GroupHold struct {
	Org   string `json:"org"`
	Group string `json:"group"` // normalised name
	// Members is the group's member count before the run.
	Members int `json:"members"`
	// Removals is how many members the plan would have removed.
	Removals int `json:"removals"`
	// Max is the limit in members and Setting the limit as configured.
	Max     int    `json:"max"`
	Setting string `json:"setting"`
	// Changes are the IDs of the withheld changes (in Plan.Withheld) that
	// carry this group's removals.
	Changes []int `json:"changes"`
}

// holdGroupRemovals applies max_group_removals to the ordered changes:
// every removal from a group whose removals exceed the limit moves to
// Plan.Withheld (a change that also removes other groups is split).
func (p *planner) holdGroupRemovals() {
	lim := p.o.Safety.MaxGroupRemovals
	if !lim.Set {
		return
	}
	type gk struct{ org, group string }
	counts := map[gk]int{}
	for i := range p.plan.Changes {
		c := &p.plan.Changes[i]
		if c.Action != ActionRemoveGroups {
			continue
		}
		for _, g := range c.Groups {
			counts[gk{c.Org, g}]++
		}
	}
	held := map[gk]bool{}
	var holds []GroupHold
	for k, n := range counts {
		members := p.members(k.org, k.group)
		max := lim.Count
		if lim.IsPercent {
			max = int(math.Floor(lim.Percent*float64(members)/100 + 1e-9))
		}
		if n <= max {
			continue
		}
		held[gk{k.org, k.group}] = true
		holds = append(holds, GroupHold{Org: k.org, Group: k.group, Members: members, Removals: n, Max: max, Setting: lim.Text})
	}
	if len(holds) == 0 {
		return
	}
	sort.Slice(holds, func(i, j int) bool {
		if holds[i].Org != holds[j].Org {
			return holds[i].Org < holds[j].Org
		}
		return holds[i].Group < holds[j].Group
	})
	for _, h := range holds {
		msg := fmt.Sprintf("Group removals withheld: %d members of %q in %s would be removed, more than max_group_removals %s allows (%d of %d members)",
			h.Removals, h.Group, orgLabel(h.Org), h.Setting, h.Max, h.Members)
		p.note(p.notef(NoteWithheld, h.Org, h.Group, "%s", msg))
	}
	p.plan.GroupHolds = holds
	p.splitHeld(ActionRemoveGroups, HoldGroupRemovals, func(c *Change, g string) (bool, string) {
		if !held[gk{c.Org, g}] {
			return false, ""
		}
		return true, fmt.Sprintf("withheld: the run would remove %d members of %q, more than max_group_removals %s", counts[gk{c.Org, g}], g, lim.Text)
	})
}

// splitHeld moves the groups of changes of action a that hold says to
// withhold into Plan.Withheld, keeping the rest of each change in
// Plan.Changes. The order of both lists is kept.
func (p *planner) splitHeld(a Action, kind Hold, hold func(c *Change, group string) (bool, string)) {
	kept := p.plan.Changes[:0:0]
	kept = slices.Grow(kept, len(p.plan.Changes))
	for _, c := range p.plan.Changes {
		if c.Action != a {
			kept = append(kept, c)
			continue
		}
		var keep, out []string
		var why []string
		for _, g := range c.Groups {
			if h, reason := hold(&c, g); h {
				out = append(out, g)
				if !slices.Contains(why, reason) {
					why = append(why, reason)
				}
			} else {
				keep = append(keep, g)
			}
		}
		if len(out) == 0 {
			kept = append(kept, c)
			continue
		}
		w := c
		w.Groups = out
		w.Held = kind
		w.Reasons = append(slices.Clone(c.Reasons), why...)
		p.plan.Withheld = append(p.plan.Withheld, w)
		if len(keep) > 0 {
			c.Groups = keep
			kept = append(kept, c)
		}
	}
	p.plan.Changes = kept
}

// holdIDs fills GroupHold.Changes once the changes are numbered.
func (p *planner) holdIDs() {
	for hi := range p.plan.GroupHolds {
		h := &p.plan.GroupHolds[hi]
		h.Changes = []int{}
		for _, c := range p.plan.Withheld {
			if c.Held == HoldGroupRemovals && c.Org == h.Org && slices.Contains(c.Groups, h.Group) {
				h.Changes = append(h.Changes, c.ID)
			}
		}
	}
}

// members returns the member count of group (normalised) in org before the
// run: the group list's memberCount (the org's true count, whatever users
// were read), or, for a group the list lacks, the members among the users
// read.
func (p *planner) members(org, group string) int {
	os, ok := p.snap.Adobe[org]
	if !ok {
		return 0
	}
	if g := p.adobeGroup(org, group); g != nil {
		return g.MemberCount
	}
	n := 0
	for i := range os.Users {
		for _, ug := range os.Users[i].Groups {
			if NormalizeGroup(ug) == group {
				n++
				break
			}
		}
	}
	return n
}

// adobeGroup returns the group (normalised name) of org as read, or nil.
func (p *planner) adobeGroup(org, group string) *AdobeGroup {
	os, ok := p.snap.Adobe[org]
	if !ok {
		return nil
	}
	for i := range os.Groups {
		if NormalizeGroup(os.Groups[i].Name) == group {
			return &os.Groups[i]
		}
	}
	return nil
}

// recount takes out of the updated-users counter the users whose every
// change a safety limit withheld: UST's summary counts what a run does.
func (p *planner) recount() {
	held := false
	for _, c := range p.plan.Withheld {
		held = held || c.Held == HoldGroupRemovals || c.Held == HoldLicenseQuota
	}
	if !held {
		return
	}
	kept := make(map[string]bool, len(p.plan.Changes))
	for _, c := range p.plan.Changes {
		if !c.AdobeOnly {
			kept[c.Key] = true
		}
	}
	n := 0
	for k := range p.updated {
		if kept[k] {
			n++
		}
	}
	c := &p.plan.Counters
	c.Unchanged += c.Updated - n
	c.Updated = n
}
