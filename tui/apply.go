package tui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
)

// applyState is the Apply screen: one apply run as it streams in.
type applyState struct {
	run        int
	plan       *core.Plan // the plan applied, so that it is not applied twice
	cancel     context.CancelFunc
	running    bool
	cancelling bool
	started    time.Time
	elapsed    time.Duration
	total      int // changes sent
	excluded   int
	est        core.Estimate
	progress   map[string]core.Progress // by org
	throttle   *core.ThrottleWait
	results    []core.ChangeResult
	ok, failed int
	failures   []core.ChangeResult
	// out is the run's outcome once the apply ended; res and err are its
	// result and its error (a fatal one, or a record not written).
	out *run.Outcome
	// outcomes are the results by change ID, once the apply ended.
	outcomes map[int]core.ChangeResult
	res      *core.ApplyResult
	err      error
	offset   int
	bar      progress.Model
}

// startApply sends the plan without the excluded changes.
func (m *Model) startApply() tea.Cmd {
	r := &m.review
	id := m.nextRun()
	ctx, cancel := context.WithCancel(m.life)
	exclude := r.list.exclude() // a fresh map: the worker owns it
	m.apply = applyState{
		run: id, plan: m.plan, cancel: cancel, running: true, started: m.now(),
		total: r.est.ToSend(m.plan), excluded: r.est.Excluded.Len(), est: r.est.Estimate,
		progress: map[string]core.Progress{},
		bar:      progress.New(progress.WithSolidFill("2"), progress.WithoutPercentage(), progress.WithColorProfile(m.profile)),
	}
	b, plan, rep, post, wg := m.b, m.plan, m.reporter(id), m.post(), m.applying
	wg.Add(1)
	work := func() tea.Msg {
		defer wg.Done()
		defer cancel()
		out := b.Apply(ctx, plan, exclude, rep)
		post(appliedMsg{run: id, out: out})
		return nil
	}
	m.screen = scrApply
	m.status = ""
	return tea.Batch(m.startTicking(), work)
}

func (m *Model) applyProgress(msg progressMsg) tea.Cmd {
	a := &m.apply
	if msg.run != a.run || !a.running {
		return nil
	}
	prev := a.progress[msg.p.Org]
	a.progress[msg.p.Org] = msg.p
	if w := a.throttle; w != nil && w.Kind == "" && msg.p.RequestsSent > prev.RequestsSent && (w.Org == "" || w.Org == msg.p.Org) {
		// A reporter that does not say the kind of its waits may not say
		// their end either: a request went through, so the wait is over.
		a.throttle = nil
	}
	return nil
}

// wait takes a wait event of the apply: a wait that starts is shown until
// its end arrives (or its time is up, see expireThrottles). It reports
// whether the clock must tick.
func (a *applyState) wait(w core.ThrottleWait) bool {
	if w.End {
		if a.throttle != nil && a.throttle.Org == w.Org && a.throttle.Until.Equal(w.Until) {
			a.throttle = nil
		}
		return false
	}
	a.throttle = &w
	return true
}

// left estimates the time left for the whole apply: the wait in progress,
// then the requests still to send at the rate limit (core's estimate, from
// where the apply stands).
func (m *Model) left() time.Duration {
	a := &m.apply
	sent := 0
	for _, p := range a.progress {
		// The executor counts requests across orgs, whichever org it
		// names: the newest count is the largest.
		sent = max(sent, p.RequestsSent)
	}
	var orgs []string
	if a.plan != nil {
		orgs = a.plan.Orgs
	}
	return a.est.Remaining(orgs, sent, a.throttle, m.now())
}

// leftLine renders the time left for the whole apply, and at width w and
// above what it is made of.
func (m *Model) leftLine(w int) string {
	a := &m.apply
	// Rounded up, as the countdown is: the time left is never shown
	// shorter than the wait it includes.
	left := (m.left() + time.Second - 1).Truncate(time.Second)
	s := fmt.Sprintf("Time left ≈ %s for the whole apply", fmtDuration(left))
	if w < 100 {
		return s
	}
	sent, total, _, _ := a.sent()
	what := fmt.Sprintf("%s requests to send at %s", num(max(total-sent, 0)), rateWords(estRate(a.est)))
	if a.throttle != nil {
		what = "this wait, then " + what
	}
	return s + m.st.dim.Render(" ("+what+")")
}

// estRate is the rate limit est assumes.
func estRate(est core.Estimate) core.RateLimit {
	if est.RateLimit.Requests <= 0 || est.RateLimit.Window <= 0 {
		return core.DefaultRateLimit
	}
	return est.RateLimit
}

func (m *Model) changeDone(msg changeDoneMsg) tea.Cmd {
	a := &m.apply
	if msg.run != a.run {
		return nil
	}
	a.results = append(a.results, msg.r)
	switch msg.r.Outcome {
	case core.OutcomeSucceeded:
		a.ok++
	case core.OutcomeFailed:
		a.failed++
		a.failures = append(a.failures, msg.r)
	}
	return nil
}

func (m *Model) applied(msg appliedMsg) tea.Cmd {
	a := &m.apply
	if msg.run != a.run {
		return nil
	}
	a.running, a.throttle = false, nil
	a.elapsed = m.now().Sub(a.started)
	a.out, a.res, a.err = msg.out, &msg.out.Result, errors.Join(msg.out.Err, msg.out.RecordErr)
	// The summary counts what was applied; so does this screen from now.
	a.ok, a.failed = msg.out.Summary.Succeeded, msg.out.Summary.Failed
	a.outcomes = make(map[int]core.ChangeResult, len(a.res.Results))
	for _, r := range a.res.Results {
		a.outcomes[r.ChangeID] = r
	}
	// Results the reporter did not stream (a backend may only return them)
	// still count.
	if len(a.results) < len(a.res.Results) {
		a.results, a.ok, a.failed, a.failures = nil, 0, 0, nil
		for _, r := range a.res.Results {
			m.changeDone(changeDoneMsg{run: msg.run, r: r})
		}
	}
	m.summary.runs = nil
	cmd := m.setScreen(scrSummary)
	m.summary.detail = nil
	return cmd
}

func (m *Model) applyKey(msg tea.KeyMsg) tea.Cmd {
	a := &m.apply
	switch {
	case key.Matches(msg, keys.Cancel):
		if a.running && !a.cancelling {
			a.cancelling = true
			a.cancel()
		}
	case key.Matches(msg, keys.Up):
		a.offset++ // further back in the results
	case key.Matches(msg, keys.Down):
		a.offset = max(a.offset-1, 0)
	}
	return nil
}

// sent sums the apply progress of every org.
func (a *applyState) sent() (sent, total, ok, failed int) {
	orgs := make([]string, 0, len(a.progress))
	for o := range a.progress {
		orgs = append(orgs, o)
	}
	sort.Strings(orgs)
	for _, o := range orgs {
		p := a.progress[o]
		sent += p.RequestsSent
		total += p.RequestsTotal
		ok += p.CommandsSucceeded
		failed += p.CommandsFailed
	}
	// Orgs report their totals as they start; until then the estimate
	// is the better total.
	total = max(total, a.est.Requests)
	return
}

// commands sums the commands that succeeded and failed, as reported.
func (a *applyState) commands() (ok, failed int) {
	_, _, ok, failed = a.sent()
	return ok, failed
}

// changeByID is change id of p, or nil. A change's ID is its index
// unless the operator released withheld changes into the plan.
func changeByID(p *core.Plan, id int) *core.Change {
	if p == nil {
		return nil
	}
	if id >= 0 && id < len(p.Changes) && p.Changes[id].ID == id {
		return &p.Changes[id]
	}
	for i := range p.Changes {
		if p.Changes[i].ID == id {
			return &p.Changes[i]
		}
	}
	return nil
}

// resultLine renders one change result.
func (m *Model) resultLine(r core.ChangeResult) string {
	who, what := fmt.Sprintf("change %d", r.ChangeID), ""
	// The results are of the plan applied, which a fetch may since have
	// replaced.
	if c := changeByID(m.apply.plan, r.ChangeID); c != nil {
		who, what = changeUser(c), actionLabel(c.Action)
	}
	mark := "✓"
	switch r.Outcome {
	case core.OutcomeFailed:
		mark = "✗"
	case core.OutcomeSkipped:
		mark = "-"
	}
	s := fmt.Sprintf("%s %s · %s · %s", mark, who, what, r.Outcome)
	if r.Code != "" || r.Message != "" {
		s += ": " + r.Code
		if r.Message != "" {
			s += " " + r.Message
		}
	}
	return s
}

func (m *Model) applyView(w, h int) []string {
	a := &m.apply
	elapsed := a.elapsed
	if a.running {
		elapsed = m.now().Sub(a.started)
	}
	head := "Applying"
	switch {
	case a.running && a.cancelling:
		head = "Cancelling"
	case !a.running && a.res != nil && a.res.Cancelled:
		head = "Cancelled"
	case !a.running:
		head = "Applied"
	}
	ls := []string{m.st.title.Render(fmt.Sprintf("%s %s changes", head, num(a.total))) + m.st.dim.Render(" · "+fmtDuration(elapsed))}
	sent, total, _, _ := a.sent()
	// Excluded changes come back as skipped results: they are not done.
	done := a.ok + a.failed
	// Results arrive per change, requests per reply: take whichever has
	// moved further, so the bar never lags what the lines below say.
	pct := 0.0
	if total > 0 {
		pct = float64(sent) / float64(total)
	}
	if a.total > 0 {
		pct = max(pct, float64(done)/float64(a.total))
	}
	if !a.running && a.err == nil && a.res != nil && !a.res.Cancelled {
		pct = 1
	}
	a.bar.Width = max(w-8, 10)
	ls = append(ls, fmt.Sprintf("%s %3d%%", a.bar.ViewAs(min(pct, 1)), int(min(pct, 1)*100)))
	req := fmt.Sprintf("Requests  %s sent · %s left", num(sent), num(max(total-sent, 0)))
	if cok, cfail := a.commands(); cok+cfail > 0 {
		req += fmt.Sprintf(" · commands ✓ %s ok, ✗ %s failed", num(cok), num(cfail))
	}
	ls = append(ls, req)
	ls = append(ls, fmt.Sprintf("Changes   ✓ %s succeeded · ✗ %s failed · %s of %s done", num(a.ok), num(a.failed), num(done), num(a.total)))
	switch {
	case a.throttle != nil:
		ls = append(ls, m.st.warn.Render(m.countdown(a.throttle)))
	case a.cancelling && a.running:
		ls = append(ls, m.st.warn.Render("Cancelling: finishing the request in flight, then stopping. The journal records what was sent."))
	case a.err != nil:
		ls = append(ls, m.st.bad.Render("✗ The apply stopped: "+a.err.Error()))
	default:
		ls = append(ls, "")
	}
	if a.running && !a.cancelling {
		ls = append(ls, m.leftLine(w))
	}
	if len(a.failures) > 0 {
		ls = append(ls, m.st.bad.Render(fmt.Sprintf("Failures (%s):", num(len(a.failures)))))
		n := min(len(a.failures), max((h-len(ls))/3, 1))
		for _, r := range a.failures[len(a.failures)-n:] {
			ls = append(ls, "  "+m.resultLine(r))
		}
	}
	ls = append(ls, m.st.bold.Render("Results, newest last:"))
	rest := h - len(ls)
	if len(a.results) == 0 {
		return append(ls, "  … waiting for the first reply")
	}
	// Only the lines on screen are formatted: an apply may stream 100,000
	// results.
	end := max(len(a.results)-a.offset, min(rest, len(a.results)))
	a.offset = len(a.results) - end
	for _, r := range a.results[max(end-rest, 0):end] {
		ls = append(ls, "  "+m.resultLine(r))
	}
	return ls
}
