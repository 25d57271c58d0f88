package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// mappingsState is the Mappings screen: the mapping rows with a cursor,
// the directory groups seen on users but not mapped, the seats per
// product profile, and the edits not yet written.
type mappingsState struct {
	rows        []MappingRow
	offset      int
	cursor      int // index into items()
	missingOnly bool

	// base is the configured (written) mapping and basePlan its plan;
	// edits are applied to base, in order, and not yet written.
	base     []core.GroupMapping
	basePlan *core.Plan
	edits    []config.MappingEdit
	// editRun is the replan or write in flight; results of older ones are
	// dropped. busy is set while it runs.
	editRun int
	busy    string
	// diff says how the edits change the plan; notes what the snapshot
	// cannot show.
	diff  []string
	notes []string
	// msg is the last outcome (written, the backup), err the last error.
	msg, err string
	prompt   *editPrompt
}

// mappingItem is one line the cursor can stand on: a mapping row, or a
// directory group seen on users but not mapped.
type mappingItem struct {
	row      *MappingRow
	unmapped *core.Finding
}

func (r MappingRow) missing() bool {
	if r.DirectoryMissing {
		return true
	}
	for _, g := range r.Adobe {
		if g.Missing {
			return true
		}
	}
	return false
}

// reset shows a new plan's mappings, forgetting unwritten edits.
func (s *mappingsState) reset(rows []MappingRow, p *core.Plan, base []core.GroupMapping) {
	*s = mappingsState{rows: rows, base: base, basePlan: p, missingOnly: s.missingOnly}
}

// mapping is the mapping with the unwritten edits applied.
func (s *mappingsState) mapping() []core.GroupMapping {
	m, err := config.ApplyMappingEdits(s.base, s.edits...)
	if err != nil {
		return s.base
	}
	return m
}

// items are the lines the cursor moves over, in the order shown.
func (m *Model) mappingItems() []mappingItem {
	s := &m.mappings
	var out []mappingItem
	for i := range s.rows {
		if s.missingOnly && !s.rows[i].missing() {
			continue
		}
		out = append(out, mappingItem{row: &s.rows[i]})
	}
	for i := range m.findings() {
		f := &m.plan.Findings[i]
		if f.Kind == core.FindingUnmappedGroup {
			out = append(out, mappingItem{unmapped: f})
		}
	}
	return out
}

// findings are the current plan's findings.
func (m *Model) findings() []core.Finding {
	if m.plan == nil {
		return nil
	}
	return m.plan.Findings
}

// finding returns the plan's finding of kind about group g, if any.
func (m *Model) finding(kind core.FindingKind, g string) *core.Finding {
	for i, f := range m.findings() {
		if f.Kind == kind && strings.EqualFold(f.Group, g) {
			return &m.plan.Findings[i]
		}
	}
	return nil
}

func (m *Model) currentItem() (mappingItem, bool) {
	its := m.mappingItems()
	s := &m.mappings
	s.cursor = max(0, min(s.cursor, len(its)-1))
	if len(its) == 0 {
		return mappingItem{}, false
	}
	return its[s.cursor], true
}

func (m *Model) mappingsKey(msg tea.KeyMsg) tea.Cmd {
	s := &m.mappings
	if s.prompt != nil {
		return m.promptKey(msg)
	}
	n := len(m.mappingItems())
	switch {
	case key.Matches(msg, keys.Up):
		s.cursor = max(s.cursor-1, 0)
	case key.Matches(msg, keys.Down):
		s.cursor = min(s.cursor+1, max(n-1, 0))
	case key.Matches(msg, keys.PageUp):
		s.cursor = max(s.cursor-10, 0)
	case key.Matches(msg, keys.PageDown):
		s.cursor = min(s.cursor+10, max(n-1, 0))
	case key.Matches(msg, keys.Top):
		s.cursor = 0
	case key.Matches(msg, keys.Bottom):
		s.cursor = max(n-1, 0)
	case key.Matches(msg, keys.MissingOnly):
		s.missingOnly = !s.missingOnly
		s.cursor, s.offset = 0, 0
	case key.Matches(msg, keys.Open):
		return m.openMappingChanges()
	default:
		return m.editKey(msg)
	}
	return nil
}

// openMappingChanges opens the review filtered to the changes of the row
// under the cursor.
func (m *Model) openMappingChanges() tea.Cmd {
	it, ok := m.currentItem()
	if !ok {
		return nil
	}
	if it.row == nil {
		m.status = fmt.Sprintf("%q is not mapped, so no change concerns it: n maps it.", it.unmapped.Group)
		return nil
	}
	ids := m.b.MappingChanges(m.plan, m.mappings.mapping(), it.row.DirectoryGroup)
	m.review.only = &idFilter{label: "mapping:" + it.row.DirectoryGroup, ids: map[int]bool{}}
	for _, id := range ids {
		m.review.only.ids[id] = true
	}
	m.review.cursor = 0
	m.review.refilter()
	return m.setScreen(scrReview)
}

func (m *Model) mappingsView(w, h int) []string {
	s := &m.mappings
	its := m.mappingItems()
	s.cursor = max(0, min(s.cursor, len(its)-1))
	nMissing := 0
	for _, r := range s.rows {
		if r.missing() {
			nMissing++
		}
	}
	head := fmt.Sprintf("%d directory groups mapped · %d with a group missing", len(s.rows), nMissing)
	if s.missingOnly {
		head += " · those only (m shows all)"
	}
	ls := []string{m.st.title.Render("Group mappings") + "  " + head}
	if s.prompt != nil {
		ls = append(ls, m.promptView(w)...)
	} else {
		ls = append(ls, m.editStatusLines(w)...)
	}
	dirW := max((w-47)/2-1, 12)
	adW := max(w-dirW-48, 12)
	var body []string
	curLine := 0
	if len(s.rows) == 0 {
		body = append(body, "No group mapping is configured (directory_users.groups), so no group is synced. n adds a row.")
	} else {
		body = append(body, m.st.header.Render(fit(fmt.Sprintf("   %-*s %9s  → %-*s %-9s %s", dirW, "DIRECTORY GROUP", "MEMBERS", adW, "ADOBE GROUP", "ORG", "MEMBERS"), w)))
	}
	k := 0
	for _, it := range its {
		if it.row == nil {
			continue
		}
		r := it.row
		cur := k == s.cursor
		if cur {
			curLine = len(body)
		}
		name, members := r.DirectoryGroup, num(r.DirectoryMembers)
		mark := " "
		if r.DirectoryMissing {
			mark, members = "✗", "✗ missing"
		}
		var rl []string
		left := fmt.Sprintf("%s %-*s %9s", mark, dirW, fit(name, dirW), members)
		if len(r.Adobe) == 0 {
			rl = append(rl, left+"  → (selects users, maps to no Adobe group)")
		}
		for i, g := range r.Adobe {
			if i > 0 {
				left = fmt.Sprintf("  %-*s %9s", dirW, "", "")
			}
			gm := num(g.Members)
			switch {
			case g.Missing && g.WillCreate:
				gm = "✗ missing, to create"
			case g.Missing:
				gm = "✗ missing"
			}
			rl = append(rl, fmt.Sprintf("%s  → %-*s %-9s %s", left, adW, fit(g.Name, adW), fit(g.Org, 9), gm))
		}
		for i, l := range rl {
			p := " "
			if cur && i == 0 {
				p = "›"
			}
			rl[i] = p + l
		}
		if cur {
			rl[0] = m.st.cursor.Render(fit(rl[0], w))
		}
		body = append(body, rl...)
		if f := m.finding(core.FindingDirectoryGroupMissing, r.DirectoryGroup); r.DirectoryMissing && f != nil && f.Suggestion != "" {
			body = append(body, m.st.warn.Render(fmt.Sprintf("      ↳ not in the directory: did you mean %q? (r renames)", f.Suggestion)))
		}
		for _, g := range r.Adobe {
			if !g.Missing || g.WillCreate {
				continue
			}
			s := fmt.Sprintf("      ↳ %q is not in org %s", g.Name, g.Org)
			if f := m.finding(core.FindingAdobeGroupMissing, g.Name); f != nil && f.Suggestion != "" {
				s += fmt.Sprintf(": did you mean %q?", f.Suggestion)
			}
			body = append(body, m.st.warn.Render(s+" (x removes, a adds another)"))
		}
		k++
	}
	if len(s.rows) > 0 && k == 0 {
		body = append(body, "  Every mapped group exists on both sides.")
	}
	// Directory groups seen on users that no row maps.
	first := true
	for _, it := range its {
		if it.unmapped == nil {
			continue
		}
		if first {
			body = append(body, "", m.st.bold.Render("Not mapped, seen on users")+m.st.dim.Render("  (n maps the group under the cursor)"))
			first = false
		}
		f := it.unmapped
		who := fmt.Sprintf("%d users", f.Members)
		if f.Members == 1 {
			who = "1 user"
		}
		if len(f.Origins) > 0 {
			who += ": " + strings.Join(f.Origins, ", ")
		}
		line := fmt.Sprintf(" ? %-*s %s", dirW, fit(f.Group, dirW), who)
		if f.Suggestion != "" {
			line += fmt.Sprintf(" (did you mean %q?)", f.Suggestion)
		}
		if k == s.cursor {
			curLine = len(body)
			line = m.st.cursor.Render(fit("›"+line[1:], w))
		}
		body = append(body, line)
		k++
	}
	body = append(body, m.seatLines(w)...)
	if len(s.diff) > 0 || len(s.notes) > 0 {
		body = append(body, "", m.st.bold.Render("What the edits change in the plan"))
		for _, l := range s.diff {
			body = append(body, "  "+l)
		}
		for _, n := range s.notes {
			body = append(body, m.st.dim.Render("  note: "+n))
		}
	}
	foot := m.st.dim.Render("✗ marks a group missing on a side: the usual reason a user is not synced.")
	room := max(h-len(ls)-2, 1)
	if curLine < s.offset+1 {
		s.offset = max(curLine-1, 0)
	}
	if curLine >= s.offset+room {
		s.offset = curLine - room + 2
	}
	win, off := window(body, s.offset, room)
	s.offset = off
	ls = append(ls, win...)
	ls = append(ls, "", foot)
	return ls
}

// seatLines are the seats of each product profile the plan touches.
func (m *Model) seatLines(w int) []string {
	if m.plan == nil || len(m.plan.Seats) == 0 {
		return nil
	}
	ls := []string{"", m.st.bold.Render("Seats") + m.st.dim.Render("  members before → after / quota")}
	nameW := max(min(w-50, 30), 12)
	for _, r := range m.plan.Seats {
		q := r.Quota
		if q == "" {
			q = "quota unknown"
		}
		line := fmt.Sprintf("  %-*s %-9s %5d → %-5d / %-13s +%d -%d", nameW, fit(r.Group, nameW), fit(r.Org, 9), r.Before, r.After, q, r.Adds, r.Removals)
		if r.Held > 0 {
			line += fmt.Sprintf(" · %d adds held", r.Held)
		}
		if r.Over {
			line = m.st.warn.Render(line + " · over quota")
		}
		ls = append(ls, line)
	}
	return ls
}
