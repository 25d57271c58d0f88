package tui

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
)

// releaseKey opens the release dialog of the next withheld hold.
var releaseKey = b([]string{"W"}, "W", "release withheld…")

// hold is one set of withheld changes the operator may release together:
// the removals from one group held by max_group_removals, or the
// Adobe-only actions held by max_adobe_only_users. Licence-quota holds are
// never one: the org would refuse the adds or over-assign seats.
type hold struct {
	rel   run.Release
	limit core.Hold
	// what names the changes in words ("removals from All Apps").
	what string
	// setting is the limit as configured.
	setting string
	ids     []int
	// users is the number to type: the users the changes touch.
	users int
}

// releasable lists the holds of p the console can release, group holds
// first (by org and group), then the Adobe-only actions.
func releasable(p *core.Plan, snap *core.Snapshot) []hold {
	if p == nil {
		return nil
	}
	withheld := map[int]*core.Change{}
	for i := range p.Withheld {
		withheld[p.Withheld[i].ID] = &p.Withheld[i]
	}
	users := func(ids []int) int {
		seen := map[string]bool{}
		for _, id := range ids {
			c := withheld[id]
			seen[c.Org+"\x00"+c.Key] = true
		}
		return len(seen)
	}
	var out []hold
	for _, gh := range p.GroupHolds {
		var ids []int
		for _, id := range gh.Changes {
			if c := withheld[id]; c != nil && slices.Contains(c.Groups, gh.Group) {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			out = append(out, hold{rel: run.Release{Hold: core.HoldGroupRemovals, Org: gh.Org, Group: gh.Group},
				limit: core.HoldGroupRemovals, what: "removals from " + groupName(snap, gh.Org, gh.Group),
				setting: gh.Setting, ids: ids, users: users(ids)})
		}
	}
	var ao []int
	for _, c := range p.Withheld {
		if c.Held == core.HoldAdobeOnly || c.Held == "" {
			ao = append(ao, c.ID)
		}
	}
	if len(ao) > 0 {
		setting := ""
		if p.Limit != nil {
			setting = p.Limit.Setting
		}
		out = append(out, hold{rel: run.Release{Hold: core.HoldAdobeOnly}, limit: core.HoldAdobeOnly,
			what: "Adobe-only actions", setting: setting, ids: ao, users: users(ao)})
	}
	return out
}

// groupName is group (normalised) as the org spells it.
func groupName(snap *core.Snapshot, org, group string) string {
	if snap != nil {
		for _, g := range snap.Adobe[org].Groups {
			if core.NormalizeGroup(g.Name) == group {
				return g.Name
			}
		}
	}
	return group
}

// releaseDialog asks the operator to type the number of users whose
// withheld changes are released.
type releaseDialog struct {
	h     hold
	err   string
	busy  bool
	input textinput.Model
}

// releasedMsg carries the plan after a release, prepared off the UI
// goroutine.
type releasedMsg struct {
	from *core.Plan
	plan *core.Plan
	list *changeList
	h    hold
	err  error
}

func (m *Model) openRelease() {
	r := &m.review
	if m.apply.running || (m.apply.plan == m.plan && m.apply.res != nil) {
		m.status = "This plan is being or has been applied: fetch again (1, then r) for a fresh plan."
		return
	}
	hs := releasable(m.plan, m.snap)
	if len(hs) == 0 {
		m.status = "Nothing withheld that the console can release."
		for _, s := range m.plan.Seats {
			if s.Held > 0 {
				m.status = "Licence-quota holds cannot be released: the org would refuse the adds or over-assign seats (limits.license_quota in docs/safety.md)."
				break
			}
		}
		return
	}
	d := &releaseDialog{h: hs[0], input: newInput(m.st, "Number of users to release: ", "")}
	d.input.CharLimit = 12
	d.input.Focus()
	r.release = d
}

func (m *Model) releaseKey(msg tea.KeyMsg) tea.Cmd {
	r := &m.review
	d := r.release
	if d.busy {
		return nil
	}
	switch msg.String() {
	case "esc":
		r.release = nil
		return nil
	case "enter":
		if strings.TrimSpace(strings.ReplaceAll(d.input.Value(), ",", "")) != strconv.Itoa(d.h.users) {
			d.err = fmt.Sprintf("Type %d, the number of users whose %s are released, or esc to go back.", d.h.users, d.h.what)
			return nil
		}
		d.busy = true
		b, plan, h := m.b, m.plan, d.h
		ctx := m.life
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			np, err := b.Release(ctx, plan, h.rel)
			if err != nil {
				return releasedMsg{from: plan, h: h, err: err}
			}
			remembered, err := b.Exclusions()
			if err != nil {
				return releasedMsg{from: plan, h: h, err: fmt.Errorf("reading remembered exclusions: %w", err)}
			}
			list := newChangeList(np, remembered)
			return releasedMsg{from: plan, plan: np, list: list, h: h}
		}
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	d.err = ""
	return cmd
}

// released shows the plan with the released changes, keeping the
// operator's exclusions of this run.
func (m *Model) released(msg releasedMsg) tea.Cmd {
	r := &m.review
	if msg.from != m.plan {
		return nil
	}
	if msg.err != nil {
		if r.release != nil {
			r.release.busy = false
			r.release.err = "Not released: " + msg.err.Error()
		}
		return nil
	}
	excluded := map[int]bool{}
	for i, st := range r.list.state {
		if st == rowExcluded {
			excluded[r.list.rows[i].c.ID] = true
		}
	}
	for i := range msg.list.rows {
		if excluded[msg.list.rows[i].c.ID] {
			msg.list.setState(i, rowExcluded)
		}
	}
	sort, q := r.sort, r.input.Value()
	m.plan = msg.plan
	r.load(msg.list, r.est)
	r.sort = sort
	r.input.SetValue(q)
	r.refilter()
	m.status = fmt.Sprintf("Released %s withheld %s (%s users): they are sent when you apply (A).",
		num(len(msg.h.ids)), msg.h.what, num(msg.h.users))
	return m.reestimate()
}

func (m *Model) releaseView(w int) []string {
	d := m.review.release
	h := d.h
	ls := []string{"", m.st.title.Render("Release withheld changes")}
	why := fmt.Sprintf("%s %s", h.limit, h.setting)
	ls = append(ls, wrap(fmt.Sprintf("%s withheld %s (%s users) were held back by %s. Released, they are sent with the rest of the plan when you apply, and the run records that you released them.",
		num(len(h.ids)), h.what, num(h.users), strings.TrimSpace(why)), w-2)...)
	var names []string
	for _, c := range m.plan.Withheld {
		if slices.Contains(h.ids, c.ID) {
			if h.rel.Group != "" {
				c.Groups = []string{h.rel.Group}
			}
			names = append(names, fmt.Sprintf("%s (%s)", changeUser(&c), changeSummary(&c)))
		}
	}
	const show = 5
	for _, u := range names[:min(len(names), show)] {
		ls = append(ls, "  "+fit(u, w-4))
	}
	if len(names) > show {
		ls = append(ls, fmt.Sprintf("  … and %s more (/is:withheld lists them)", num(len(names)-show)))
	}
	ls = append(ls, "", m.st.warn.Render(fmt.Sprintf("Type %d to release the %s withheld %s, or esc to go back.", h.users, num(len(h.ids)), h.what)))
	ls = append(ls, d.input.View())
	if d.err != "" {
		ls = append(ls, m.st.bad.Render("✗ "+d.err))
	}
	return ls
}

// holdBanners are the review's lines for the group and quota holds and
// what the operator released.
func (m *Model) holdBanners(w int) []string {
	p := m.plan
	var ls []string
	held := map[int]*core.Change{}
	for i := range p.Withheld {
		held[p.Withheld[i].ID] = &p.Withheld[i]
	}
	for _, gh := range p.GroupHolds {
		n := 0
		for _, id := range gh.Changes {
			if c := held[id]; c != nil && slices.Contains(c.Groups, gh.Group) {
				n++
			}
		}
		name := groupName(m.snap, gh.Org, gh.Group)
		if n == 0 {
			ls = append(ls, m.st.warn.Render(fit(fmt.Sprintf("✓ Released by you: %s removals from %s (max_group_removals %s); sent when you apply",
				num(gh.Removals), name, gh.Setting), w)))
			continue
		}
		org := ""
		if gh.Org != core.PrimaryOrg {
			org = " (" + gh.Org + ")"
		}
		setting := gh.Setting
		if setting != strconv.Itoa(gh.Max) {
			setting += " = " + num(gh.Max)
		}
		ls = append(ls, m.st.banner.Render(fit(fmt.Sprintf(" ⚠ WITHHELD: %s of %s members of %s%s > max_group_removals %s; W, type %d",
			num(gh.Removals), num(gh.Members), name, org, setting, gh.Removals), w)))
	}
	for _, s := range p.Seats {
		if s.Held == 0 {
			continue
		}
		ls = append(ls, m.st.banner.Render(fit(fmt.Sprintf(" ⚠ LICENCE QUOTA: %s adds to %s withheld, quota %s (%s → %s members)",
			num(s.Held), s.Group, s.Quota, num(s.Before), num(s.After)), w)))
	}
	ao := 0
	for _, c := range run.Released(p) {
		if c.Held == core.HoldAdobeOnly {
			ao++
		}
	}
	if ao > 0 {
		ls = append(ls, m.st.warn.Render(fit(fmt.Sprintf("✓ Released by you: %s Adobe-only actions over max_adobe_only_users; sent when you apply", num(ao)), w)))
	}
	return ls
}

// pendingLine is the review's line on the Adobe-only users in their grace
// period.
func (m *Model) pendingLine(w int) string {
	ps := m.plan.Pending
	if len(ps) == 0 {
		return ""
	}
	due := 0
	next := time.Time{}
	for _, u := range ps {
		if u.IsDue {
			due++
		} else if next.IsZero() || u.Due.Before(next) {
			next = u.Due
		}
	}
	s := fmt.Sprintf("⏳ %s Adobe-only users in grace period", num(len(ps)))
	if due > 0 {
		s += fmt.Sprintf(" (%s due now)", num(due))
	}
	if !next.IsZero() {
		s += ", next due " + next.Local().Format("2006-01-02 15:04")
	}
	return fit(s+" · /is:pending lists them", w)
}

// pendingView is the table of the Adobe-only users in their grace period,
// shown for the filter is:pending.
func (m *Model) pendingView(w, h int) []string {
	ps := m.plan.Pending
	ls := []string{m.st.header.Render(fit(fmt.Sprintf("%-32s %-7s %-12s %s", "PENDING ADOBE-ONLY USER", "ACTION", "MISSED SINCE", "DUE"), w))}
	if len(ps) == 0 {
		return append(ls, "  No Adobe-only user is in its grace period (limits.adobe_only_grace_period).")
	}
	for _, u := range ps {
		who := u.Email
		if who == "" {
			who = u.Key
		}
		due := u.Due.Local().Format("2006-01-02 15:04")
		if u.IsDue {
			due += " · due: taken in this run"
		}
		ls = append(ls, fit(fmt.Sprintf("%-32s %-7s %-12s %s", fit(who, 32), u.Action, u.FirstMissed.Local().Format("2006-01-02"), due), w))
	}
	out, _ := window(ls, 0, max(h, 2))
	return out
}

// showPending reports whether the filter asks for the pending users.
func (r *reviewState) showPending() bool {
	return slices.Contains(strings.Fields(strings.ToLower(r.input.Value())), "is:pending")
}
