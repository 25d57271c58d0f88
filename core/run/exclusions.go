package run

import (
	"sort"

	"github.com/usersync/usersync/core"
)

// Exclusions is a plan's effective exclusion set, computed once: what the
// operator chose, what a remembered exclusion covers, and the dependents
// held back with them. The estimate, the review's counts, the apply and
// the summary all read this one value.
type Exclusions struct {
	// Chosen are the changes the operator excluded for this run.
	Chosen map[int]bool
	// Remembered are the changes a remembered exclusion covers.
	Remembered map[int]bool
	// Held are the changes that cannot succeed without an excluded one: a
	// user whose creation is held back has no account for its other
	// changes to act on. Held never overlaps Chosen or Remembered.
	Held map[int]bool
}

// Exclude resolves the effective exclusions of plan: chosen change IDs,
// the changes the remembered exclusions match, and their dependents.
func Exclude(plan *core.Plan, chosen map[int]bool, remembered []core.Exclusion) Exclusions {
	x := Exclusions{Chosen: map[int]bool{}, Remembered: map[int]bool{}, Held: map[int]bool{}}
	for id, v := range chosen {
		if v {
			x.Chosen[id] = true
		}
	}
	for _, c := range plan.Changes {
		if x.Chosen[c.ID] {
			continue
		}
		for _, r := range remembered {
			if r.Matches(c) {
				x.Remembered[c.ID] = true
				break
			}
		}
	}
	noAccount := map[[2]string]bool{}
	for _, c := range plan.Changes {
		if x.direct(c.ID) && c.Action == core.ActionCreate {
			noAccount[[2]string{c.Org, c.Key}] = true
		}
	}
	for _, c := range plan.Changes {
		if noAccount[[2]string{c.Org, c.Key}] && !x.direct(c.ID) {
			x.Held[c.ID] = true
		}
	}
	return x
}

func (x Exclusions) direct(id int) bool { return x.Chosen[id] || x.Remembered[id] }

// Has reports whether change id is not sent.
func (x Exclusions) Has(id int) bool { return x.direct(id) || x.Held[id] }

// Len is the number of changes not sent.
func (x Exclusions) Len() int { return len(x.Chosen) + len(x.Remembered) + len(x.Held) }

// Set returns every change ID not sent, as core.ApplyOptions.Exclude
// takes it.
func (x Exclusions) Set() map[int]bool {
	out := make(map[int]bool, x.Len())
	for _, m := range []map[int]bool{x.Chosen, x.Remembered, x.Held} {
		for id := range m {
			out[id] = true
		}
	}
	return out
}

// IDs returns Set's IDs in order.
func (x Exclusions) IDs() []int {
	ids := make([]int, 0, x.Len())
	for id := range x.Set() {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// Estimate is the cost of sending plan without x at rate limit rl.
func (x Exclusions) Estimate(plan *core.Plan, rl core.RateLimit) core.Estimate {
	return core.EstimatePlan(plan, x.Set(), rl)
}
