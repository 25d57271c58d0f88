package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
)

// explainState is the Explain screen.
type explainState struct {
	input  textinput.Model
	run    int
	busy   bool
	query  string
	ex     *core.Explanation
	err    error
	offset int
}

func (e *explainState) init(st styles) {
	e.input = newInput(st, "User: ", "an email or username, then enter")
}

func (e *explainState) reset() {
	e.ex, e.err, e.busy, e.offset, e.query = nil, nil, false, 0, ""
}

// ask starts explaining query.
func (m *Model) ask(q string) tea.Cmd {
	e := &m.explain
	e.reset()
	e.run = m.nextRun()
	e.busy, e.query = true, q
	run, b, snap, post, ctx := e.run, m.b, m.snap, m.post(), m.life
	return func() tea.Msg {
		ex, err := b.Explain(ctx, snap, q)
		post(explainedMsg{run: run, ex: ex, err: err})
		return nil
	}
}

func (m *Model) explained(msg explainedMsg) tea.Cmd {
	e := &m.explain
	if msg.run != e.run {
		return nil
	}
	e.busy, e.ex, e.err = false, msg.ex, msg.err
	return nil
}

func (m *Model) explainKey(msg tea.KeyMsg) tea.Cmd {
	e := &m.explain
	if e.input.Focused() {
		switch msg.String() {
		case "enter":
			q := strings.TrimSpace(e.input.Value())
			if q == "" {
				return nil
			}
			e.input.Blur()
			return m.ask(q)
		case "esc":
			e.input.Blur()
			return nil
		}
		var cmd tea.Cmd
		e.input, cmd = e.input.Update(msg)
		return cmd
	}
	switch {
	case key.Matches(msg, keys.Filter), msg.String() == "i", key.Matches(msg, keys.Ask):
		e.input.CursorEnd()
		return e.input.Focus()
	default:
		scrollKey(msg, &e.offset, 10)
	}
	return nil
}

func (m *Model) explainView(w, h int) []string {
	e := &m.explain
	e.input.Width = max(w-10, 10)
	ls := []string{m.st.title.Render("Why is a user (not) synced?"), e.input.View(), ""}
	var body []string
	switch {
	case e.busy:
		body = append(body, "… explaining "+e.query)
	case e.err != nil:
		body = append(body, m.st.bad.Render("✗ "+e.err.Error()))
	case e.ex == nil:
		body = append(body, wrap("Type an email or username and press enter. From the Review screen, e explains the user under the cursor.", w)...)
	default:
		body = m.explanationLines(e.ex, w)
	}
	win, off := window(body, e.offset, h-len(ls))
	e.offset = off
	return append(ls, win...)
}

func (m *Model) explanationLines(ex *core.Explanation, w int) []string {
	var ls []string
	ls = append(ls, m.st.bold.Render("Explanation for "+ex.Query))
	if u := ex.Directory; u != nil {
		ls = append(ls, fit(fmt.Sprintf("Directory: %s %s <%s> %s · groups: %s", u.Firstname, u.Lastname, u.Email, u.Country, strings.Join(u.Groups, ", ")), w))
	} else {
		ls = append(ls, "Directory: no such user")
	}
	if u := ex.Adobe; u != nil {
		ls = append(ls, fit(fmt.Sprintf("Adobe:     %s %s <%s> %s · groups: %s", u.Firstname, u.Lastname, u.Email, u.Type, strings.Join(u.Groups, ", ")), w))
	} else {
		ls = append(ls, "Adobe:     no such account")
	}
	ls = append(ls, "")
	indent := strings.Repeat(" ", 19)
	for i, s := range ex.Steps {
		head := fit(fmt.Sprintf("%2d. %s", i+1, s.Stage), 18) + " "
		ls = append(ls, head+m.st.bold.Render(s.Outcome))
		for _, l := range wrap(s.Detail, w-len(indent)) {
			ls = append(ls, indent+l)
		}
	}
	if len(ex.Changes) > 0 {
		ls = append(ls, "", m.st.bold.Render("Planned changes:"))
		for _, c := range ex.Changes {
			ls = append(ls, fmt.Sprintf("  %s · org %s · %s", actionLabel(c.Action), c.Org, changeSummary(&c)))
		}
	} else {
		ls = append(ls, "", "No change is planned for this user.")
	}
	return ls
}
