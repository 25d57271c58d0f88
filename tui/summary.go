package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
)

// summaryState is the Summary and history screen.
type summaryState struct {
	run         int
	loading     bool
	runs        []RunSummary
	err         error
	cursor      int
	detail      *RunDetail
	detailLines []string
	detailOff   int
}

func (m *Model) loadHistory() tea.Cmd {
	s := &m.summary
	s.run = m.nextRun()
	s.loading, s.err = true, nil
	run, b, post, ctx := s.run, m.b, m.post(), m.life
	return func() tea.Msg {
		runs, err := b.History(ctx)
		post(historyMsg{run: run, runs: runs, err: err})
		return nil
	}
}

func (m *Model) historyLoaded(msg historyMsg) tea.Cmd {
	s := &m.summary
	if msg.run != s.run {
		return nil
	}
	s.loading, s.err = false, msg.err
	s.runs = msg.runs
	if s.runs == nil {
		s.runs = []RunSummary{}
	}
	s.cursor = min(s.cursor, max(len(s.runs)-1, 0))
	return nil
}

func (m *Model) runLoaded(msg runDetailMsg) tea.Cmd {
	s := &m.summary
	if msg.run != s.run {
		return nil
	}
	s.loading = false
	if msg.err != nil {
		s.err = msg.err
		return nil
	}
	s.detail, s.detailOff = msg.d, 0
	s.detailLines = m.runDetailLines(msg.d)
	return nil
}

// runDetailLines formats a past run's results once, when it is opened.
func (m *Model) runDetailLines(d *RunDetail) []string {
	byID := make(map[int]*core.Change, len(d.Changes))
	for i := range d.Changes {
		byID[d.Changes[i].ID] = &d.Changes[i]
	}
	marks := map[core.Outcome]string{core.OutcomeSucceeded: "✓", core.OutcomeFailed: "✗", core.OutcomeSkipped: "-"}
	body := make([]string, 0, len(d.Results)+len(d.Exclusions)+2)
	for _, res := range d.Results {
		who, what := fmt.Sprintf("change %d", res.ChangeID), ""
		if c := byID[res.ChangeID]; c != nil {
			who, what = changeUser(c), actionLabel(c.Action)
		}
		line := fmt.Sprintf("  %s %-30s %-13s %s", marks[res.Outcome], fit(who, 30), what, res.Outcome)
		if res.Code != "" || res.Message != "" {
			line += ": " + strings.TrimSpace(res.Code+" "+res.Message)
		}
		body = append(body, line)
	}
	if len(d.Exclusions) > 0 {
		body = append(body, "", m.st.bold.Render("Excluded in this run:"))
		for _, e := range d.Exclusions {
			act := string(e.Action)
			if act == "" {
				act = "any action"
			}
			body = append(body, fmt.Sprintf("  x %s · %s · %s", e.Org, e.Key, act))
		}
	}
	if len(body) == 0 {
		body = []string{"  No per-user results were recorded."}
	}
	return body
}

func (m *Model) summaryKey(msg tea.KeyMsg) tea.Cmd {
	s := &m.summary
	if s.detail != nil {
		if !scrollKey(msg, &s.detailOff, 10) && key.Matches(msg, keys.Back) {
			s.detail = nil
		}
		return nil
	}
	switch {
	case key.Matches(msg, keys.Up):
		s.cursor = max(s.cursor-1, 0)
	case key.Matches(msg, keys.Down):
		s.cursor = max(min(s.cursor+1, len(s.runs)-1), 0)
	case key.Matches(msg, keys.Reload):
		return m.loadHistory()
	case key.Matches(msg, keys.Open):
		if s.cursor >= len(s.runs) {
			return nil
		}
		id := s.runs[s.cursor].ID
		s.run = m.nextRun()
		s.loading = true
		run, b, post, ctx := s.run, m.b, m.post(), m.life
		return func() tea.Msg {
			d, err := b.Run(ctx, id)
			post(runDetailMsg{run: run, d: d, err: err})
			return nil
		}
	}
	return nil
}

// thisRun renders the counters of the apply made in this session.
func (m *Model) thisRun(w int) []string {
	a := &m.apply
	if a.out == nil || a.out.Plan == nil {
		return []string{"No apply in this session yet."}
	}
	o := a.out
	s := o.Summary
	c := s.Counters
	head := "This run"
	if o.Run.ID != "" {
		head += " " + o.Run.ID
	}
	if a.res.Cancelled {
		head += " (cancelled: the journal says what was sent)"
	}
	if o.Plan.TestMode {
		head += " (test mode)"
	}
	if o.Plan != m.plan {
		// A fetch since made a new plan; this summary is of the old one.
		head += " · an earlier plan"
	}
	ls := []string{m.st.bold.Render(head) + m.st.dim.Render(fmt.Sprintf(" · exit code %d", o.Run.ExitCode))}
	ls = append(ls, wrap(fmt.Sprintf("Directory users read %s · selected %s · Adobe users read %s · unchanged %s",
		num(c.DirectoryUsersRead), num(c.DirectoryUsersSelected), num(c.AdobeUsersRead), num(c.Unchanged)), w)...)
	line := fmt.Sprintf("Users created %s · users updated %s · user groups created %s", num(c.Created), num(c.Updated), num(c.GroupsCreated))
	if c.StraysTracked {
		line += fmt.Sprintf(" · Adobe-only users processed %s", num(c.StraysProcessed))
	}
	ls = append(ls, wrap(line, w)...)
	excl := fmt.Sprintf("%s excluded", num(s.Excluded))
	if s.Held > 0 {
		excl += fmt.Sprintf(" (+%s held with them)", num(s.Held))
	}
	ls = append(ls, wrap(fmt.Sprintf("Requests %s · ✓ %s succeeded · ✗ %s failed · %s · %s not sent",
		num(s.Requests), num(s.Succeeded), num(s.Failed), excl, num(s.NotSent)), w)...)
	if s.AlreadyDone > 0 {
		ls = append(ls, fmt.Sprintf("%s changes were applied by the run this one resumed.", num(s.AlreadyDone)))
	}
	if a.err != nil {
		ls = append(ls, m.st.bad.Render("✗ "+a.err.Error()))
	}
	if o.Result.Cancelled && s.NotSent > 0 {
		ls = append(ls, m.st.warn.Render(fmt.Sprintf("Stopped: %s.", s.Sent())))
		if o.Resume != "" {
			ls = append(ls, m.st.warn.Render("To finish the run: "+o.Resume))
		}
	}
	if n := len(s.Released); n > 0 {
		ls = append(ls, m.st.warn.Render(fit(fmt.Sprintf("Released by you from the safety limits (%s, sent): %s", num(n), byLimit(s.Released)), w)))
	}
	if n := len(s.Withheld); n > 0 {
		ls = append(ls, m.st.warn.Render(fit(fmt.Sprintf("Withheld by the safety limits (%s, not sent): %s", num(n), byLimit(s.Withheld)), w)))
		for _, c := range s.Withheld[:min(n, 3)] {
			ls = append(ls, "  ! "+changeUser(&c)+" · "+actionLabel(c.Action))
		}
		if n > 3 {
			ls = append(ls, fmt.Sprintf("  … and %s more (usersync show %s)", num(n-3), o.Run.ID))
		}
	}
	for _, org := range o.Plan.Orgs {
		if st, ok := a.res.Orgs[org]; ok {
			ls = append(ls, fmt.Sprintf("  org %s: %s actions, %s succeeded, %s failed", org, num(st.Total), num(st.Success), num(st.Errors)))
		}
	}
	if n := len(a.failures); n > 0 {
		ls = append(ls, m.st.bad.Render(fmt.Sprintf("Failures (%d), see 5 Apply or the run below:", n)))
		for _, r := range a.failures[:min(n, 3)] {
			ls = append(ls, "  "+m.resultLine(r))
		}
	}
	return ls
}

func (m *Model) summaryView(w, h int) []string {
	s := &m.summary
	if s.detail != nil {
		return m.runDetailView(w, h)
	}
	ls := m.thisRun(w)
	ls = append(ls, "", m.st.bold.Render("Past runs")+m.st.dim.Render(" · enter shows per-user results"))
	switch {
	case s.err != nil:
		ls = append(ls, m.st.bad.Render("✗ Could not read the history: "+s.err.Error()))
	case s.loading && s.runs == nil:
		ls = append(ls, "… reading the history")
	case len(s.runs) == 0:
		ls = append(ls, "No runs recorded yet.")
	default:
		ls = append(ls, m.st.header.Render(fit(fmt.Sprintf("  %-20s %-16s %-8s %7s %8s %5s %6s", "RUN", "STARTED", "COMMAND", "CHANGES", "REQUESTS", "✓ OK", "✗ FAIL"), w)))
		rows := max(h-len(ls), 1)
		off := max(s.cursor-rows+1, 0)
		for i := off; i < min(len(s.runs), off+rows); i++ {
			r := s.runs[i]
			cur := "  "
			if i == s.cursor {
				cur = "› "
			}
			cmd := r.Command
			if r.TestMode {
				cmd += " (test)"
			}
			if r.Cancelled {
				cmd += " (cancelled)"
			}
			line := fmt.Sprintf("%s%-20s %-16s %-8s %7s %8s %5s %6s", cur, fit(r.ID, 20), r.Started.Format("2006-01-02 15:04"), cmd,
				num(r.Changes), num(r.Requests), num(r.Succeeded), num(r.Failed))
			if i == s.cursor {
				line = m.st.cursor.Render(fit(line, w))
			}
			ls = append(ls, line)
		}
	}
	return ls
}

func (m *Model) runDetailView(w, h int) []string {
	s := &m.summary
	d := s.detail
	r := d.Summary
	ls := []string{m.st.title.Render("Run "+r.ID) + fmt.Sprintf(" · %s · %s → %s", r.Command,
		r.Started.Format("2006-01-02 15:04:05"), r.Finished.Format("15:04:05"))}
	ls = append(ls, fmt.Sprintf("%s changes · %s requests · ✓ %s succeeded · ✗ %s failed · %s skipped · %s excluded",
		num(r.Changes), num(r.Requests), num(r.Succeeded), num(r.Failed), num(r.Skipped), num(r.Excluded)))
	body := s.detailLines
	ls = append(ls, m.st.bold.Render("Per-user results:"))
	win, off := window(body, s.detailOff, h-len(ls))
	s.detailOff = off
	return append(ls, win...)
}

// byLimit counts changes by the limit that held them: "max_group_removals
// 4 · license_quota 1".
func byLimit(cs []core.Change) string {
	var order []core.Hold
	n := map[core.Hold]int{}
	for _, c := range cs {
		h := c.Held
		if h == "" {
			h = core.HoldAdobeOnly
		}
		if n[h] == 0 {
			order = append(order, h)
		}
		n[h]++
	}
	parts := make([]string, len(order))
	for i, h := range order {
		parts[i] = fmt.Sprintf("%s %s", h, num(n[h]))
	}
	return strings.Join(parts, " · ")
}
