package core

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// QuotaPolicy is limits.license_quota: what a plan does with adds that
// would take a product profile past its licence quota.
type QuotaPolicy string

// The quota policies.
const (
	// QuotaHold withholds the adds beyond the quota (the default).
	QuotaHold QuotaPolicy = "hold"
	// QuotaWarn sends them, with a warning.
	QuotaWarn QuotaPolicy = "warn"
	// QuotaIgnore sends them; the plan still warns.
	QuotaIgnore QuotaPolicy = "ignore"
)

// ParseQuota reads a licenseQuota as the group list sends it: a whole
// number (as a string or a number) or "UNLIMITED". It returns the quota and
// whether the profile is limited; "" and anything unreadable count as
// unlimited, so an unknown quota never withholds an add.
func ParseQuota(s string) (quota int, limited bool) {
	t := strings.TrimSpace(s)
	if t == "" || strings.EqualFold(t, "UNLIMITED") {
		return 0, false
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// SeatRow is one product profile the plan touches: its members before and
// after the run (as planned, withheld adds left out) and its quota.
type SeatRow struct {
	Org     string `json:"org"`
	Group   string `json:"group"` // the profile's name as the org spells it
	Product string `json:"product,omitempty"`
	// Quota is the licence quota as read ("12", "UNLIMITED", or "" when
	// unknown); Limited says whether it limits adds.
	Quota   string `json:"quota,omitempty"`
	Limited bool   `json:"limited"`
	Before  int    `json:"before"`
	After   int    `json:"after"`
	// Adds and Removals are the planned adds and removals of members;
	// Held is how many adds the quota withheld.
	Adds     int `json:"adds"`
	Removals int `json:"removals"`
	Held     int `json:"held,omitempty"`
	// Over is set when the planned adds exceed the quota (whatever the
	// policy did with them).
	Over bool `json:"over,omitempty"`
}

// holdSeats computes Plan.Seats and applies limits.license_quota to the
// ordered changes. Removals count first (they free seats); the adds that
// fit are granted in the plan's order (by org, then user key, the order
// the executor sends them) and the rest are withheld under QuotaHold.
func (p *planner) holdSeats() {
	type gk struct{ org, group string }
	rows := map[gk]*SeatRow{}
	row := func(org, g string) *SeatRow {
		k := gk{org, g}
		if r, ok := rows[k]; ok {
			return r
		}
		ag := p.adobeGroup(org, g)
		if ag == nil || ag.Type != "PRODUCT_PROFILE" {
			rows[k] = nil
			return nil
		}
		_, lim := ParseQuota(ag.LicenseQuota)
		r := &SeatRow{Org: org, Group: ag.Name, Product: ag.ProductName, Quota: ag.LicenseQuota, Limited: lim,
			Before: p.members(org, g)}
		rows[k] = r
		return r
	}
	// Only the users whose changes remove every group need their
	// memberships looked up: a few percent of an org, whose whole
	// membership list would cost a million-user org 100 MB more.
	wanted := map[string]map[string]bool{} // org → email
	for i := range p.plan.Changes {
		switch c := &p.plan.Changes[i]; c.Action {
		case ActionRemoveAllGroups, ActionRemoveFromOrg, ActionDelete:
			if wanted[c.Org] == nil {
				wanted[c.Org] = map[string]bool{}
			}
			wanted[c.Org][strings.ToLower(c.User.Email)] = true
		}
	}
	var members map[string]map[string][]string // org → email → normalised groups
	userGroups := func(org, email string) []string {
		if members == nil {
			members = map[string]map[string][]string{}
		}
		m, ok := members[org]
		if !ok {
			m = map[string][]string{}
			for _, u := range p.snap.Adobe[org].Users {
				if !wanted[org][strings.ToLower(u.Email)] {
					continue
				}
				gs := make([]string, len(u.Groups))
				for i, g := range u.Groups {
					gs[i] = NormalizeGroup(g)
				}
				m[strings.ToLower(u.Email)] = gs
			}
			members[org] = m
		}
		return m[strings.ToLower(email)]
	}
	for i := range p.plan.Changes {
		c := &p.plan.Changes[i]
		switch c.Action {
		case ActionAddGroups:
			for _, g := range c.Groups {
				if r := row(c.Org, g); r != nil {
					r.Adds++
				}
			}
		case ActionRemoveGroups:
			for _, g := range c.Groups {
				if r := row(c.Org, g); r != nil {
					r.Removals++
				}
			}
		case ActionRemoveAllGroups, ActionRemoveFromOrg, ActionDelete:
			for _, g := range userGroups(c.Org, c.User.Email) {
				if r := row(c.Org, g); r != nil {
					r.Removals++
				}
			}
		}
	}
	room := map[gk]int{}
	for k, r := range rows {
		if r == nil {
			delete(rows, k)
			continue
		}
		q, _ := ParseQuota(r.Quota)
		after := r.Before - r.Removals + r.Adds
		if r.Limited && after > q {
			r.Over = true
			msg := fmt.Sprintf("Licence quota: %d adds would take product profile %q (%s) to %d members, past its quota of %d (%d members before the run, %d removed)",
				r.Adds, r.Group, orgLabel(r.Org), after, q, r.Before, r.Removals)
			p.note(p.notef(NoteQuota, r.Org, r.Group, "%s", msg))
			if p.quotaPolicy() == QuotaHold {
				room[k] = max(0, q-(r.Before-r.Removals))
				r.Held = r.Adds - room[k]
			}
		}
		r.After = r.Before - r.Removals + r.Adds - r.Held
	}
	for _, r := range rows {
		p.plan.Seats = append(p.plan.Seats, *r)
	}
	sort.Slice(p.plan.Seats, func(i, j int) bool {
		a, b := p.plan.Seats[i], p.plan.Seats[j]
		if a.Org != b.Org {
			return a.Org < b.Org
		}
		return NormalizeGroup(a.Group) < NormalizeGroup(b.Group)
	})
	if len(room) == 0 {
		return
	}
	for k, r := range rows {
		if _, ok := room[k]; ok {
			p.notef(NoteWithheld, r.Org, r.Group, "Licence quota: %d adds to %q withheld (limits.license_quota: hold)", r.Held, r.Group)
		}
	}
	p.splitHeld(ActionAddGroups, HoldLicenseQuota, func(c *Change, g string) (bool, string) {
		k := gk{c.Org, g}
		n, ok := room[k]
		if !ok {
			return false, ""
		}
		if n > 0 {
			room[k] = n - 1
			return false, ""
		}
		r := rows[k]
		q, _ := ParseQuota(r.Quota)
		return true, fmt.Sprintf("withheld: product profile %q has a licence quota of %d and no seat is left for this add", r.Group, q)
	})
}

func (p *planner) quotaPolicy() QuotaPolicy {
	if p.o.Safety.LicenseQuota == "" {
		return QuotaHold
	}
	return p.o.Safety.LicenseQuota
}
