package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/usersync/usersync/core"
)

// detailLines renders the detail pane of the change under the cursor.
// changeState says what becomes, or became, of change c (row i): its
// outcome once this plan was applied, else the operator's decision.
func (m *Model) changeState(i int, c *core.Change) string {
	r := &m.review
	if a := &m.apply; a.plan == m.plan && a.outcomes != nil {
		res, ok := a.outcomes[c.ID]
		switch {
		case !ok:
			return "- not sent"
		case res.Outcome == core.OutcomeSucceeded:
			return "✓ applied"
		case res.Outcome == core.OutcomeFailed:
			return strings.TrimSpace("✗ failed: " + res.Code + " " + res.Message)
		}
		return "- not sent (" + res.Message + ")"
	}
	st := r.list.state[i]
	if st == rowIncluded && r.est.Excluded.Held[c.ID] {
		return "- held back: its user's creation is excluded"
	}
	return st.mark() + " " + st.words()
}

func (m *Model) detailLines(w int) []string {
	r := &m.review
	i := r.current()
	if i < 0 {
		return []string{m.st.dim.Render("No change selected.")}
	}
	rw := &r.list.rows[i]
	c := rw.c
	d := &ChangeDetail{}
	loading := !r.haveDetail || r.detailRow != i
	if !loading {
		d = &r.detail
	}
	var ls []string
	add := func(s ...string) { ls = append(ls, s...) }
	para := func(prefix, s string) {
		for k, l := range wrap(s, w-len(prefix)) {
			if k == 0 {
				add(prefix + l)
			} else {
				add(strings.Repeat(" ", ansi.StringWidth(prefix)) + l)
			}
		}
	}
	add(m.st.title.Render(rw.user))
	add(fmt.Sprintf("%s · org %s · %s", actionLabel(c.Action), c.Org, m.changeState(int(i), c)))
	if c.Rule != "" {
		para("Rule: ", c.Rule)
	}
	if len(c.Reasons) > 0 {
		add(m.st.bold.Render("Rules that fired:"))
		for _, s := range c.Reasons {
			para("  • ", s)
		}
	}
	if len(d.Hook) > 0 {
		add(m.st.bold.Render("Hook:"))
		for _, s := range d.Hook {
			para("  • ", s)
		}
	}
	switch {
	case loading:
		add(m.st.dim.Render("… reading the records and commands"))
	case c.Action == core.ActionCreateGroup:
	case d.Directory != nil:
		u := d.Directory
		para("Directory: ", fmt.Sprintf("%s %s <%s> %s %s", u.Firstname, u.Lastname, u.Email, u.Country, u.Type))
		if len(u.Groups) > 0 {
			para("  groups: ", strings.Join(u.Groups, ", "))
		}
		if u.Origin != "" {
			para("  from: ", u.Origin)
		}
	default:
		add("Directory: none (Adobe-only user)")
	}
	switch {
	case loading, c.Action == core.ActionCreateGroup:
	case d.Adobe != nil:
		u := d.Adobe
		para("Adobe: ", fmt.Sprintf("%s %s <%s> %s %s", u.Firstname, u.Lastname, u.Email, u.Country, u.Type))
		if len(u.Groups) > 0 {
			para("  groups: ", strings.Join(u.Groups, ", "))
		}
	default:
		add("Adobe: none (no account yet)")
	}
	if len(c.Attrs) > 0 {
		add(m.st.bold.Render("Attributes:"))
		for _, a := range c.Attrs {
			para("  ", fmt.Sprintf("%s: %q → %q", a.Name, a.Before, a.After))
		}
	}
	if len(c.Groups) > 0 && c.Action != core.ActionCreate {
		para("Groups: ", strings.Join(c.Groups, ", "))
	}
	if len(d.Commands) > 0 {
		add(m.st.bold.Render("UMAPI commands to send:"))
		for _, cmd := range d.Commands {
			for _, l := range commandJSON(cmd) {
				for _, piece := range hardWrap(l, w-2) {
					add("  " + piece)
				}
			}
		}
	} else if rw.group == heldGroup {
		add("Nothing is sent: the change is withheld.")
	}
	return ls
}

// wantDetail asks the backend for the detail of the row under the cursor,
// off the UI goroutine, so that moving through a large plan never waits for
// it. One request runs at a time; when it lands, the next is asked for if
// the cursor has moved on.
func (m *Model) wantDetail() tea.Cmd {
	r := &m.review
	if m.screen != scrReview || r.list == nil || r.detailBusy {
		return nil
	}
	i := r.current()
	if i < 0 || (r.haveDetail && r.detailRow == i) {
		return nil
	}
	r.detailBusy = true
	r.detailRun = m.nextRun()
	run, b, snap, plan, c := r.detailRun, m.b, m.snap, m.plan, *r.list.rows[i].c
	return func() tea.Msg {
		return detailMsg{run: run, row: i, d: b.Detail(snap, plan, c)}
	}
}

func (m *Model) detailLoaded(msg detailMsg) tea.Cmd {
	r := &m.review
	if msg.run != r.detailRun {
		return nil
	}
	r.detailBusy = false
	r.detail, r.detailRow, r.haveDetail = msg.d, msg.row, true
	return m.wantDetail()
}

// hardWrap cuts s into pieces at most w cells wide (JSON has no spaces to
// break at).
func hardWrap(s string, w int) []string {
	if w < 8 {
		w = 8
	}
	var out []string
	for ansi.StringWidth(s) > w {
		cut := ansi.Truncate(s, w, "")
		// Break JSON after a comma or a colon, so that a string or a key
		// is never cut in two; only a longer token is cut.
		if k := strings.LastIndexAny(cut, ",:"); k >= w/3 {
			cut = cut[:k+1]
		}
		out = append(out, cut)
		s = "  " + s[len(cut):]
	}
	return append(out, s)
}

// commandJSON renders a command in the action API's wire form, one step a
// line: {"user":...,"do":[{"add":{"group":[...]}}]}.
func commandJSON(c core.Command) []string {
	root := []string{}
	field := func(k string, v any) {
		root = append(root, marshal(k)+":"+marshal(v))
	}
	if c.UserGroup != "" {
		field("usergroup", c.UserGroup)
	} else {
		field("user", c.User)
		if c.Domain != "" {
			field("domain", c.Domain)
		}
		if c.UseAdobeID {
			field("useAdobeID", true)
		}
	}
	if c.RequestID != "" {
		field("requestID", c.RequestID)
	}
	out := []string{"{" + strings.Join(root, ",") + `,"do":[`}
	for i, s := range c.Steps {
		line := "  " + marshal(map[string]any{string(s.Kind): stepParams(c, s)})
		if i < len(c.Steps)-1 {
			line += ","
		}
		out = append(out, line)
	}
	return append(out, "]}")
}

func stepParams(c core.Command, s core.Step) any {
	switch s.Kind {
	case core.StepAdd, core.StepRemove:
		if s.All {
			return "all"
		}
		if c.UserGroup != "" {
			return map[string]any{"user": s.Users}
		}
		return map[string]any{"group": s.Groups}
	case core.StepRemoveFromOrg:
		return map[string]any{"deleteAccount": s.DeleteAccount}
	case core.StepCreateUserGroup:
		p := map[string]any{}
		if s.Option != "" {
			p["option"] = s.Option
		}
		if s.Description != "" {
			p["description"] = s.Description
		}
		return p
	}
	p := map[string]any{}
	for k, v := range s.Attrs {
		p[k] = v
	}
	if s.Option != "" {
		p["option"] = s.Option
	}
	return p
}

func marshal(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
