package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
)

// fetchState is the Fetch screen: both sides being read, then planned.
type fetchState struct {
	run      int
	cancel   context.CancelFunc
	running  bool
	planning bool
	started  time.Time
	elapsed  time.Duration
	dir      core.Progress
	orgs     []core.Progress // in the order they first reported
	throttle *core.ThrottleWait
	err      error
	errStage string
}

func (f *fetchState) stop() {
	if f.cancel != nil {
		f.cancel()
	}
}

// startFetch starts a new fetch-and-plan run, abandoning any other.
func (m *Model) startFetch() tea.Cmd {
	m.fetch.stop()
	run := m.nextRun()
	ctx, cancel := context.WithCancel(m.life)
	m.fetch = fetchState{run: run, cancel: cancel, running: true, started: m.now()}
	b, rep, post := m.b, m.reporter(run), m.post()
	work := func() tea.Msg {
		defer cancel()
		post(prepare(ctx, b, run, rep))
		return nil
	}
	m.ticking = false // a fresh tick loop; the old one's ticks are stale
	return tea.Batch(m.startTicking(), work)
}

// prepare fetches, plans and prepares the review's data. It runs off the UI
// goroutine and touches nothing of the model.
func prepare(ctx context.Context, b Backend, run int, rep reporter) planReadyMsg {
	snap, err := b.Fetch(ctx, rep)
	if err != nil {
		return planReadyMsg{run: run, err: err, stage: "fetch"}
	}
	rep.Progress(core.Progress{Phase: core.PhasePlan, Message: "planning"})
	plan, err := b.Plan(ctx, snap)
	if err != nil {
		return planReadyMsg{run: run, err: err, stage: "plan"}
	}
	remembered, err := b.Exclusions()
	if err != nil {
		return planReadyMsg{run: run, err: fmt.Errorf("reading remembered exclusions: %w", err), stage: "plan"}
	}
	list := newChangeList(plan, remembered)
	return planReadyMsg{
		run:      run,
		snap:     snap,
		plan:     plan,
		list:     list,
		mappings: b.Mappings(snap, plan),
		est:      b.Estimate(plan, list.exclude()),
	}
}

func (m *Model) fetchProgress(msg progressMsg) tea.Cmd {
	if msg.run != m.fetch.run || !m.fetch.running {
		return nil
	}
	p := msg.p
	switch p.Phase {
	case core.PhaseDirectory:
		m.fetch.dir = p
	case core.PhaseAdobe:
		found := false
		for i := range m.fetch.orgs {
			if m.fetch.orgs[i].Org == p.Org {
				m.fetch.orgs[i], found = mergeAdobe(m.fetch.orgs[i], p), true
			}
		}
		if !found {
			m.fetch.orgs = append(m.fetch.orgs, p)
			// The primary org first, then the others by name, whichever
			// answered first.
			slices.SortStableFunc(m.fetch.orgs, func(a, b core.Progress) int {
				switch {
				case a.Org == b.Org:
					return 0
				case a.Org == core.PrimaryOrg:
					return -1
				case b.Org == core.PrimaryOrg:
					return 1
				}
				return strings.Compare(a.Org, b.Org)
			})
		}
		if w := m.fetch.throttle; w != nil && (w.Org == "" || w.Org == p.Org) {
			m.fetch.throttle = nil // a page arrived: the wait is over
		}
	case core.PhasePlan:
		m.fetch.planning = true
	}
	return nil
}

// mergeAdobe folds an org's new progress report into the last one. The
// user read and the group listing report separately: a group listing's
// report (no users, no pages) must not wipe the users already read.
func mergeAdobe(prev, p core.Progress) core.Progress {
	if p.Users == 0 && p.Pages == 0 && p.PagesTotal == 0 {
		prev.Groups = max(prev.Groups, p.Groups)
		return prev
	}
	p.Groups = max(p.Groups, prev.Groups)
	return p
}

func (m *Model) planReady(msg planReadyMsg) tea.Cmd {
	if msg.run != m.fetch.run {
		return nil
	}
	f := &m.fetch
	f.running, f.planning, f.throttle = false, false, nil
	f.elapsed = m.now().Sub(f.started)
	if msg.err != nil {
		f.err, f.errStage = msg.err, msg.stage
		return nil
	}
	m.snap, m.plan = msg.snap, msg.plan
	m.review.load(msg.list, msg.est)
	m.mappings.reset(msg.mappings, msg.plan, m.b.GroupMapping())
	m.explain.reset()
	if m.screen == scrFetch {
		m.screen = scrReview
	}
	return nil
}

func (m *Model) fetchKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, keys.Refetch):
		if m.fetch.running {
			return nil
		}
		if m.apply.running {
			m.status = "An apply is running: fetch again once it has finished."
			return nil
		}
		if m.mappings.busy != "" {
			m.status = "The mapping is being written: fetch again once it has finished."
			return nil
		}
		return m.startFetch()
	case key.Matches(msg, keys.Detail):
		return m.setScreen(scrReview)
	}
	return nil
}

// errorHint says what to fix for an error, by its code.
func errorHint(err error) string {
	switch core.Code(err) {
	case core.CodeUnauthenticated:
		return "Check the credentials: the UMAPI client_id and client_secret in connector-umapi.yml, or the directory's bind user and password."
	case core.CodePermissionDenied:
		return "The account has no right to do this: check the API credential's product profile, or the directory user's read rights."
	case core.CodeNotFound:
		return "Something named in the configuration does not exist: check group names, the base DN and the org ID."
	case core.CodeUnavailable:
		return "A side could not be reached: check host names, ports, proxy (HTTPS_PROXY) and TLS settings, then fetch again."
	case core.CodeThrottled:
		return "Adobe kept refusing requests: wait a while and fetch again."
	case core.CodeInconsistent:
		return "A read changed under us or came back incomplete, so nothing was planned: fetch again."
	case core.CodeInvalidInput:
		return "Fix the configuration named in the message."
	case core.CodeLocked:
		return "Another usersync is using the database: wait for it to finish."
	case core.CodeCanceled:
		return "The fetch was cancelled."
	}
	return "Read the message above; the log file has the details."
}

func (m *Model) sideView(title string, p core.Progress, done bool, w int) []string {
	status := "… reading"
	switch {
	case done:
		status = "✓ done"
	case p.Done:
		status = "✓ read"
	case p.Pages == 0 && p.Users == 0:
		status = "… waiting"
	}
	pages := "–"
	if p.Pages > 0 {
		pages = num(p.Pages)
		if p.PagesTotal > 0 {
			pages += " / " + num(p.PagesTotal)
		}
	}
	ls := []string{
		m.st.bold.Render(title),
		status,
		fmt.Sprintf("Users read   %8s", num(p.Users)),
		fmt.Sprintf("Groups       %8s", num(p.Groups)),
		fmt.Sprintf("Pages        %8s", pages),
	}
	if p.Message != "" {
		ls = append(ls, p.Message)
	}
	for i := range ls {
		ls[i] = fit(ls[i], w)
	}
	return ls
}

func (m *Model) fetchView(w, h int) []string {
	f := &m.fetch
	elapsed := f.elapsed
	if f.running {
		elapsed = m.now().Sub(f.started)
	}
	head := "Fetching both sides"
	switch {
	case f.err != nil:
		head = "Fetch failed"
	case !f.running && m.plan != nil:
		head = "Fetched both sides"
	}
	ls := []string{m.st.title.Render(head) + m.st.dim.Render(" · "+fmtDuration(elapsed)), ""}
	done := !f.running && f.err == nil
	col := (w - 3) / 2
	left := m.sideView("Directory", f.dir, done, col)
	var right []string
	orgs := f.orgs
	if len(orgs) == 0 {
		orgs = []core.Progress{{Org: core.PrimaryOrg}}
	}
	for i, p := range orgs {
		if i > 0 {
			right = append(right, "")
		}
		right = append(right, m.sideView("Adobe · "+p.Org, p, done, col)...)
	}
	for i := 0; i < max(len(left), len(right)); i++ {
		l, r := "", ""
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		ls = append(ls, " "+fit(l, col)+"  "+r)
	}
	ls = append(ls, "")
	if f.throttle != nil {
		ls = append(ls, " "+m.st.warn.Render(m.countdown(f.throttle)))
	}
	switch {
	case f.err != nil:
		ls = append(ls, " "+m.st.bad.Render(fmt.Sprintf("✗ The %s failed:", f.errStage)))
		for _, l := range wrap(f.err.Error(), w-4) {
			ls = append(ls, "   "+l)
		}
		for i, l := range wrap("What to fix: "+errorHint(f.err), w-4) {
			if i == 0 {
				l = m.st.bold.Render(l)
			}
			ls = append(ls, "   "+l)
		}
		ls = append(ls, "   Press r to fetch again.")
	case f.planning:
		ls = append(ls, " … planning the changes")
	case done && m.plan != nil:
		ls = append(ls, fmt.Sprintf(" ✓ Plan ready: %s changes. Press 2 to review them.", num(len(m.plan.Changes))))
	}
	out, _ := window(ls, 0, h)
	return out
}
