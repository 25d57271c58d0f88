package tui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// mappingsState is the Mappings screen.
type mappingsState struct {
	rows        []MappingRow
	offset      int
	missingOnly bool
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

func (m *Model) mappingsKey(msg tea.KeyMsg) tea.Cmd {
	s := &m.mappings
	if scrollKey(msg, &s.offset, 10) {
		return nil
	}
	switch {
	case key.Matches(msg, keys.Top):
		s.offset = 0
	case key.Matches(msg, keys.MissingOnly):
		s.missingOnly = !s.missingOnly
		s.offset = 0
	}
	return nil
}

func (m *Model) mappingsView(w, h int) []string {
	s := &m.mappings
	nMissing := 0
	for _, r := range s.rows {
		if r.missing() {
			nMissing++
		}
	}
	head := fmt.Sprintf("%d directory groups mapped · %d with a group missing on a side", len(s.rows), nMissing)
	if s.missingOnly {
		head += " · showing those only (m shows all)"
	}
	ls := []string{m.st.title.Render("Group mappings") + "  " + head}
	if len(s.rows) == 0 {
		return append(ls, "", "No group mapping is configured (directory_users.groups), so no group is synced.")
	}
	dirW := max((w-47)/2, 12)
	adW := max(w-dirW-47, 12)
	ls = append(ls, m.st.header.Render(fit(fmt.Sprintf("  %-*s %9s  → %-*s %-9s %s", dirW, "DIRECTORY GROUP", "MEMBERS", adW, "ADOBE GROUP", "ORG", "MEMBERS"), w)))
	var body []string
	for _, r := range s.rows {
		if s.missingOnly && !r.missing() {
			continue
		}
		name, members := r.DirectoryGroup, num(r.DirectoryMembers)
		mark := " "
		if r.DirectoryMissing {
			mark, members = "✗", "✗ missing"
		}
		left := fmt.Sprintf("%s %-*s %9s", mark, dirW, fit(name, dirW), members)
		if len(r.Adobe) == 0 {
			body = append(body, left+"  → (selects users, maps to no Adobe group)")
			continue
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
			body = append(body, fmt.Sprintf("%s  → %-*s %-9s %s", left, adW, fit(g.Name, adW), fit(g.Org, 9), gm))
		}
	}
	if len(body) == 0 {
		body = append(body, "  Every mapped group exists on both sides.")
	}
	win, off := window(body, s.offset, h-len(ls)-2)
	s.offset = off
	ls = append(ls, win...)
	ls = append(ls, "", m.st.dim.Render("✗ marks a group missing on a side: the usual reason a user is not synced."))
	return ls
}
