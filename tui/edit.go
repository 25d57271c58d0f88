package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// The Mappings screen edits the group mapping in place: each edit is
// applied to the configured mapping (config.ApplyMappingEdits), the plan is
// recomputed from the fetched snapshot off the UI goroutine
// (Backend.Replan) and the difference shown; w writes the edits to the
// configuration file (Backend.WriteMapping), u undoes the last one first.

// promptKind is what an open prompt asks for.
type promptKind int

const (
	promptRename promptKind = iota
	promptAddGroup
	promptRemoveGroup
	promptNewRowDir
	promptNewRowAdobe
	promptDeleteRow
	promptWrite
)

// editPrompt is the question the Mappings screen asks before an edit.
type editPrompt struct {
	kind  promptKind
	dir   string // the row's directory group (or the new row's)
	input textinput.Model
	// picks are the Adobe groups to choose from (remove); pick the chosen.
	picks []string
	pick  int
}

// replannedMsg carries a recomputed plan (after an edit, an undo or a
// write) back to the UI goroutine.
type replannedMsg struct {
	run     int
	r       *Replanned
	list    *changeList
	est     Cost
	diff    []string
	backup  string
	written bool
	err     error
}

var editKeys = struct {
	Rename, AddGroup, RemoveGroup, NewRow, DeleteRow, Undo, Write key.Binding
}{
	Rename:      b([]string{"r"}, "r", "rename dir group"),
	AddGroup:    b([]string{"a"}, "a", "add Adobe group"),
	RemoveGroup: b([]string{"x"}, "x", "remove Adobe group"),
	NewRow:      b([]string{"n"}, "n", "new row"),
	DeleteRow:   b([]string{"d"}, "d", "delete row"),
	Undo:        b([]string{"u"}, "u", "undo edit"),
	Write:       b([]string{"w"}, "w", "write config"),
}

func (m *Model) newPrompt(kind promptKind, dir, label, value string) tea.Cmd {
	in := newInput(m.st, label+": ", "")
	in.SetValue(value)
	in.CursorEnd()
	m.mappings.prompt = &editPrompt{kind: kind, dir: dir, input: in}
	m.mappings.err, m.mappings.msg = "", ""
	return m.mappings.prompt.input.Focus()
}

// editKey handles the Mappings screen's edit keys.
func (m *Model) editKey(msg tea.KeyMsg) tea.Cmd {
	s := &m.mappings
	it, ok := m.currentItem()
	if s.busy != "" && !key.Matches(msg, keys.Help) {
		m.status = s.busy + ": wait for it to finish."
		return nil
	}
	switch {
	case key.Matches(msg, editKeys.Rename):
		if !ok || it.row == nil {
			return nil
		}
		def := it.row.DirectoryGroup
		if f := m.finding(core.FindingDirectoryGroupMissing, def); f != nil && f.Suggestion != "" {
			def = f.Suggestion
		}
		return m.newPrompt(promptRename, it.row.DirectoryGroup, fmt.Sprintf("rename %q to", it.row.DirectoryGroup), def)
	case key.Matches(msg, editKeys.AddGroup):
		if !ok || it.row == nil {
			return nil
		}
		def := ""
		for _, g := range it.row.Adobe {
			if f := m.finding(core.FindingAdobeGroupMissing, g.Name); g.Missing && f != nil && f.Suggestion != "" {
				def = f.Suggestion
			}
		}
		return m.newPrompt(promptAddGroup, it.row.DirectoryGroup, fmt.Sprintf("map %q also to", it.row.DirectoryGroup), def)
	case key.Matches(msg, editKeys.RemoveGroup):
		if !ok || it.row == nil || len(it.row.Adobe) == 0 {
			return nil
		}
		var picks []string
		pick := 0
		for i, g := range it.row.Adobe {
			name := g.Name
			if g.Org != core.PrimaryOrg {
				name = g.Org + "::" + g.Name
			}
			picks = append(picks, name)
			if g.Missing && !g.WillCreate && pick == 0 {
				pick = i
			}
		}
		s.prompt = &editPrompt{kind: promptRemoveGroup, dir: it.row.DirectoryGroup, picks: picks, pick: pick}
		s.err, s.msg = "", ""
	case key.Matches(msg, editKeys.NewRow):
		def := ""
		if ok && it.unmapped != nil {
			def = it.unmapped.Group
		}
		return m.newPrompt(promptNewRowDir, "", "new row: directory group", def)
	case key.Matches(msg, editKeys.DeleteRow):
		if !ok || it.row == nil {
			return nil
		}
		s.prompt = &editPrompt{kind: promptDeleteRow, dir: it.row.DirectoryGroup}
		s.err, s.msg = "", ""
	case key.Matches(msg, editKeys.Undo):
		if len(s.edits) == 0 {
			m.status = "Nothing to undo: no edit waits to be written."
			return nil
		}
		s.edits = s.edits[:len(s.edits)-1]
		s.msg, s.err = "undone", ""
		return m.replan()
	case key.Matches(msg, editKeys.Write):
		if len(s.edits) == 0 {
			m.status = "Nothing to write: edit the mapping first (r a x n d)."
			return nil
		}
		if m.apply.running || m.fetch.running {
			m.status = "A fetch or an apply is running: write the mapping once it has finished."
			return nil
		}
		s.prompt = &editPrompt{kind: promptWrite}
		s.err, s.msg = "", ""
	}
	return nil
}

// promptKey handles a key while a prompt is open.
func (m *Model) promptKey(msg tea.KeyMsg) tea.Cmd {
	s := &m.mappings
	p := s.prompt
	if msg.Type == tea.KeyEsc {
		s.prompt = nil
		return nil
	}
	switch p.kind {
	case promptRemoveGroup:
		switch {
		case key.Matches(msg, keys.Up):
			p.pick = max(p.pick-1, 0)
		case key.Matches(msg, keys.Down):
			p.pick = min(p.pick+1, len(p.picks)-1)
		case msg.Type == tea.KeyEnter:
			s.prompt = nil
			return m.addEdit(config.MappingEdit{Kind: config.EditRemoveAdobeGroup, DirectoryGroup: p.dir, AdobeGroup: p.picks[p.pick]})
		}
		return nil
	case promptDeleteRow, promptWrite:
		switch msg.String() {
		case "y", "Y", "enter":
			s.prompt = nil
			if p.kind == promptWrite {
				return m.writeMapping()
			}
			return m.addEdit(config.MappingEdit{Kind: config.EditDeleteRow, DirectoryGroup: p.dir})
		case "n", "N":
			s.prompt = nil
		}
		return nil
	}
	if msg.Type != tea.KeyEnter {
		if key.Matches(msg, keys.Next) || key.Matches(msg, keys.Prev) {
			return nil
		}
		var cmd tea.Cmd
		p.input, cmd = p.input.Update(msg)
		return cmd
	}
	v := strings.TrimSpace(p.input.Value())
	if v == "" {
		s.err = "The name is empty: type one, or esc to cancel."
		return nil
	}
	s.prompt = nil
	switch p.kind {
	case promptRename:
		if v == p.dir {
			return nil
		}
		return m.addEdit(config.MappingEdit{Kind: config.EditRenameDirectoryGroup, DirectoryGroup: p.dir, NewName: v})
	case promptAddGroup:
		return m.addEdit(config.MappingEdit{Kind: config.EditAddAdobeGroup, DirectoryGroup: p.dir, AdobeGroup: v})
	case promptNewRowDir:
		return m.newPrompt(promptNewRowAdobe, v, fmt.Sprintf("map %q to (Adobe groups, comma-separated)", v), "")
	case promptNewRowAdobe:
		var gs []string
		for _, g := range strings.Split(v, ",") {
			if g = strings.TrimSpace(g); g != "" {
				gs = append(gs, g)
			}
		}
		return m.addEdit(config.MappingEdit{Kind: config.EditAddRow, DirectoryGroup: p.dir, AdobeGroups: gs})
	}
	return nil
}

// addEdit adds an edit to the unwritten ones and recomputes the plan.
func (m *Model) addEdit(e config.MappingEdit) tea.Cmd {
	s := &m.mappings
	if _, err := config.ApplyMappingEdits(s.base, append(slices.Clone(s.edits), e)...); err != nil {
		s.err = err.Error()
		return nil
	}
	s.edits = append(s.edits, e)
	s.msg, s.err = e.String(), ""
	return m.replan()
}

// replan recomputes the plan with the edited mapping, off the UI
// goroutine. With no edit left it returns to the configured plan.
func (m *Model) replan() tea.Cmd {
	s := &m.mappings
	s.editRun = m.nextRun()
	s.busy = "recomputing the plan"
	run, b, ctx, snap, base := s.editRun, m.b, m.life, m.snap, s.basePlan
	mapping := s.mapping()
	if len(s.edits) == 0 {
		rows := b.Mappings(snap, base)
		return func() tea.Msg {
			return ready(b, run, &Replanned{Plan: base, Mappings: rows}, base)
		}
	}
	return func() tea.Msg {
		r, err := b.Replan(ctx, snap, mapping)
		if err != nil {
			return replannedMsg{run: run, err: err}
		}
		return ready(b, run, r, base)
	}
}

// ready prepares a recomputed plan for the review, off the UI goroutine.
func ready(b Backend, run int, r *Replanned, base *core.Plan) replannedMsg {
	remembered, err := b.Exclusions()
	if err != nil {
		return replannedMsg{run: run, err: fmt.Errorf("reading remembered exclusions: %w", err)}
	}
	list := newChangeList(r.Plan, remembered)
	msg := replannedMsg{run: run, r: r, list: list, est: b.Estimate(r.Plan, list.exclude())}
	if base != nil && base != r.Plan {
		d := core.DiffPlans(base, r.Plan)
		msg.diff = d.Lines()
		for _, f := range d.Resolved {
			msg.diff = append(msg.diff, "resolved: "+f.Message)
		}
		for _, f := range d.Findings {
			msg.diff = append(msg.diff, "new: "+f.Message)
		}
		if len(msg.diff) == 0 {
			msg.diff = []string{"no change to the plan"}
		}
	}
	return msg
}

// writeMapping writes the unwritten edits to the configuration file.
func (m *Model) writeMapping() tea.Cmd {
	s := &m.mappings
	s.editRun = m.nextRun()
	s.busy = "writing the configuration"
	run, b, ctx, snap := s.editRun, m.b, m.life, m.snap
	edits := slices.Clone(s.edits)
	return func() tea.Msg {
		backup, r, err := b.WriteMapping(ctx, snap, edits)
		if err != nil {
			return replannedMsg{run: run, written: backup != "", backup: backup, err: err}
		}
		msg := ready(b, run, r, nil)
		msg.backup, msg.written = backup, true
		return msg
	}
}

// replanned shows a recomputed plan, unless a newer edit superseded it.
func (m *Model) replanned(msg replannedMsg) tea.Cmd {
	s := &m.mappings
	if msg.run != s.editRun {
		return nil
	}
	s.busy = ""
	if msg.written {
		s.edits = nil
		s.base = m.b.GroupMapping()
	}
	if msg.err != nil {
		if msg.written {
			s.err = fmt.Sprintf("written (backup %s), but: %v", msg.backup, msg.err)
		} else {
			s.err = msg.err.Error()
		}
		return nil
	}
	m.plan = msg.r.Plan
	m.review.load(msg.list, msg.est)
	s.rows = msg.r.Mappings
	s.notes = msg.r.Notes
	s.diff = msg.diff
	if msg.written {
		s.basePlan = msg.r.Plan
		s.diff, s.notes = nil, nil
		s.msg = fmt.Sprintf("written to %s (backup %s); the review shows the new plan, ready to apply", m.configName(), msg.backup)
	}
	return nil
}

func (m *Model) configName() string {
	if m.opts.Title != "" {
		return m.opts.Title
	}
	return "the configuration file"
}

// editStatusLines say how many edits wait to be written and what the last
// edit did, or what went wrong, wrapped to w.
func (m *Model) editStatusLines(w int) []string {
	s := &m.mappings
	var ls []string
	if n := len(s.edits); n > 0 {
		words := "edits"
		if n == 1 {
			words = "edit"
		}
		ls = append(ls, m.st.warn.Render(fmt.Sprintf("%d %s not written: w writes the configuration file, u undoes the last", n, words)))
	}
	text, style := "", m.st.dim
	switch {
	case s.busy != "":
		text = "… " + s.busy
	case s.err != "":
		text, style = "✗ "+s.err, m.st.bad
	case s.msg != "":
		text, style = "✓ "+s.msg, m.st.good
	}
	if text != "" {
		wrapped := strings.Split(ansi.Wrap(text, w, " /"), "\n")
		if len(wrapped) > 5 {
			wrapped = append(wrapped[:4], ansi.Truncate(wrapped[4], w-1, "")+"…")
		}
		for _, l := range wrapped {
			ls = append(ls, style.Render(l))
		}
	}
	return ls
}

// promptView is the open prompt.
func (m *Model) promptView(w int) []string {
	s := &m.mappings
	p := s.prompt
	var ls []string
	switch p.kind {
	case promptRemoveGroup:
		ls = append(ls, m.st.bold.Render(fmt.Sprintf("Stop mapping %q to which Adobe group? (↑↓ enter, esc cancels)", p.dir)))
		for i, g := range p.picks {
			line := "    " + g
			if i == p.pick {
				line = m.st.cursor.Render("  › " + g)
			}
			ls = append(ls, line)
		}
	case promptDeleteRow:
		ls = append(ls, m.st.warn.Render(fmt.Sprintf("Delete the row of %q? Its users are no longer synced by it. [y/N]", p.dir)))
	case promptWrite:
		ls = append(ls, m.st.warn.Render(fmt.Sprintf("Write %d edits to %s (a backup is kept beside it)? [enter/y writes, esc cancels]", len(s.edits), m.configName())))
		for _, e := range s.edits {
			ls = append(ls, "    "+e.String())
		}
	default:
		p.input.Width = max(w-ansi.StringWidth(p.input.Prompt)-2, 10)
		ls = append(ls, p.input.View(), m.st.dim.Render("  enter applies (the plan is recomputed, nothing is written) · esc cancels"))
	}
	if s.err != "" {
		for _, l := range strings.Split(ansi.Wrap("✗ "+s.err, w, " "), "\n") {
			ls = append(ls, m.st.bad.Render(l))
		}
	}
	return ls
}

// mappingsHints are the Mappings screen's footer keys.
func (m *Model) mappingsHints() []key.Binding {
	if m.mappings.prompt != nil {
		return []key.Binding{keys.Back}
	}
	bs := []key.Binding{keys.Down, b([]string{"enter"}, "enter", "its changes"), editKeys.Rename, editKeys.AddGroup,
		editKeys.RemoveGroup, editKeys.NewRow, editKeys.DeleteRow}
	if len(m.mappings.edits) > 0 {
		bs = append([]key.Binding{editKeys.Write, editKeys.Undo}, bs...)
	}
	return append(bs, keys.MissingOnly)
}

// guardUnwritten keeps a preview plan from being approved: the backend
// applies only the configured mapping's plan.
func (m *Model) guardUnwritten() bool {
	if len(m.mappings.edits) > 0 {
		m.status = fmt.Sprintf("%d mapping edits are not written: write them (3, w) or undo them (u) before applying.", len(m.mappings.edits))
		return true
	}
	return false
}
