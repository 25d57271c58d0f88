package tui

import (
	"io"

	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/usersync/usersync/core"
)

// This file gives the external tests (package tui_test, which may import
// tui/fake) a look at the model's state.

// Shown is the number of rows the filter shows.
func (m *Model) Shown() int { return len(m.review.visible()) }

// ShownUsers lists the users of the shown rows.
func (m *Model) ShownUsers() []string {
	var out []string
	for _, i := range m.review.visible() {
		out = append(out, m.review.list.rows[i].user)
	}
	return out
}

// CursorChange is the change under the review cursor.
func (m *Model) CursorChange() *core.Change {
	i := m.review.current()
	if i < 0 {
		return nil
	}
	return m.review.list.rows[i].c
}

// Excluded returns the change IDs the review excludes.
func (m *Model) Excluded() map[int]bool { return m.review.list.exclude() }

// DetailReady reports whether the detail of the current row has arrived
// (it is loaded only while the review shows).
func (m *Model) DetailReady() bool {
	r := &m.review
	return m.screen != scrReview || r.list == nil || r.current() < 0 || (r.haveDetail && r.detailRow == r.current())
}

// Estimating reports whether an estimate is being computed.
func (m *Model) Estimating() bool { return m.review.estimating }

// Estimate is the review's current estimate.
func (m *Model) Estimate() core.Estimate { return m.review.est.Estimate }

// Cost is the review's current cost, with the effective exclusions.
func (m *Model) Cost() Cost { return m.review.est }

// Typing reports whether keys go to a text input.
func (m *Model) Typing() bool { return m.typing() }

// Dialog reports whether the approval dialog is open and how many accounts
// it wants typed.
func (m *Model) Dialog() (open bool, need int) {
	if m.review.dialog == nil {
		return false, 0
	}
	return true, m.review.dialog.need
}

// Applying reports whether an apply runs, and whether it waits on a
// throttle.
func (m *Model) Applying() (running, throttled, cancelling bool) {
	return m.apply.running, m.apply.throttle != nil, m.apply.cancelling
}

// ApplyResult is the last apply's result.
func (m *Model) ApplyResult() *core.ApplyResult { return m.apply.res }

// FetchState reports the fetch's state.
func (m *Model) FetchState() (running, throttled bool, err error) {
	return m.fetch.running, m.fetch.throttle != nil, m.fetch.err
}

// Explained is the explanation shown.
func (m *Model) Explained() *core.Explanation { return m.explain.ex }

// Runs is the history shown, and the opened run.
func (m *Model) Runs() ([]RunSummary, *RunDetail) { return m.summary.runs, m.summary.detail }

// ConfirmingQuit reports whether the quit question is asked.
func (m *Model) ConfirmingQuit() bool { return m.confirmQuit }

// Status is the footer's message.
func (m *Model) Status() string { return m.status }

// Zoomed reports whether the detail fills the screen.
func (m *Model) Zoomed() bool { return m.review.zoom }

// MissingOnly reports the Mappings screen's filter.
func (m *Model) MissingOnly() bool { return m.mappings.missingOnly }

// Sort is the review's sort order.
func (m *Model) Sort() string { return m.review.sort.String() }

// SetProfile rebuilds the styles for colour profile p, as if the terminal
// had it.
func (m *Model) SetProfile(p termenv.Profile) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	m.st, m.profile = newStyles(r), p
	for _, in := range []*textinput.Model{&m.review.input, &m.explain.input} {
		in.PromptStyle, in.TextStyle, in.PlaceholderStyle, in.Cursor.Style = m.st.bold, m.st.title.UnsetBold(), m.st.dim, m.st.cursor
	}
	if d := m.review.dialog; d != nil {
		d.input.PromptStyle, d.input.TextStyle, d.input.Cursor.Style = m.st.bold, m.st.title.UnsetBold(), m.st.cursor
	}
	m.apply.bar = progress.New(progress.WithSolidFill("2"), progress.WithoutPercentage(), progress.WithColorProfile(p))
}

// Plan is the plan under review.
func (m *Model) Plan() *core.Plan { return m.plan }

// Releasing reports whether the release dialog is open and the number it
// asks for.
func (m *Model) Releasing() (open bool, need int) {
	if d := m.review.release; d != nil {
		return true, d.h.users
	}
	return false, 0
}
