package tui

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/usersync/usersync/core"
)

// screen is one of the console's six screens.
type screen int

const (
	scrFetch screen = iota
	scrReview
	scrMappings
	scrExplain
	scrApply
	scrSummary
	nScreens
)

var screenNames = [...]string{"Fetch", "Review", "Mappings", "Explain", "Apply", "Summary"}

// Model is the console's bubbletea model. Create it with NewModel; Run does
// that and runs it.
type Model struct {
	b    Backend
	opts Options
	st   styles
	// profile is the colour profile of the renderer, for bubbles that
	// take one.
	profile termenv.Profile
	now     func() time.Time
	// tick schedules a tickMsg; tests replace it to drive time.
	tick func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd

	// life bounds every background run: the console owns their lifetime,
	// so it keeps the context it was started with.
	life   context.Context
	events chan tea.Msg
	stop   chan struct{}
	// applying counts running applies, so that Run can wait for the
	// request in flight to finish (and be journaled) before returning.
	applying *sync.WaitGroup

	width, height int
	screen        screen
	help          bool
	confirmQuit   bool
	quitting      bool
	status        string

	seq     int // the last run ID handed out
	ticking bool
	tickRun int

	snap *core.Snapshot
	plan *core.Plan

	fetch    fetchState
	review   reviewState
	mappings mappingsState
	explain  explainState
	apply    applyState
	summary  summaryState
}

// NewModel returns the console model for backend b. ctx bounds its
// background work.
func NewModel(ctx context.Context, b Backend, opts Options) *Model {
	var r *lipgloss.Renderer
	if opts.Output != nil {
		r = lipgloss.NewRenderer(opts.Output)
	} else {
		r = lipgloss.NewRenderer(os.Stdout)
	}
	if opts.NoColor || os.Getenv("NO_COLOR") != "" {
		r.SetColorProfile(termenv.Ascii)
	}
	m := &Model{
		b:        b,
		opts:     opts,
		st:       newStyles(r),
		profile:  r.ColorProfile(),
		now:      opts.Now,
		tick:     tea.Tick,
		life:     ctx,
		events:   make(chan tea.Msg, 64),
		stop:     make(chan struct{}),
		applying: &sync.WaitGroup{},
		width:    80,
		height:   24,
	}
	if m.now == nil {
		m.now = time.Now
	}
	if opts.Tick != nil {
		m.tick = opts.Tick
	}
	m.review.init(m.st)
	m.explain.init(m.st)
	return m
}

// Screen names the screen shown: Fetch, Review, Mappings, Explain, Apply,
// Summary, or Help while the help is open.
func (m *Model) Screen() string {
	if m.help {
		return "Help"
	}
	return screenNames[m.screen]
}

// nextRun hands out a run ID.
func (m *Model) nextRun() int {
	m.seq++
	return m.seq
}

func (m *Model) reporter(run int) reporter {
	return reporter{run: run, ch: m.events, stop: m.stop}
}

// post returns a function that delivers a run's final message through the
// event channel, after all of the run's progress.
func (m *Model) post() func(tea.Msg) {
	ch, stop := m.events, m.stop
	return func(msg tea.Msg) {
		select {
		case ch <- msg:
		case <-stop:
		}
	}
}

// Init starts the first fetch.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(waitEvent(m.events, m.stop), m.startFetch())
}

// startTicking starts the once-a-second tick that drives countdowns and
// elapsed times, unless it already runs.
func (m *Model) startTicking() tea.Cmd {
	if m.ticking {
		return nil
	}
	m.ticking = true
	m.tickRun = m.nextRun()
	run := m.tickRun
	return m.tick(time.Second, func(time.Time) tea.Msg { return tickMsg{run} })
}

// busy reports whether a background run wants the clock to tick.
func (m *Model) busy() bool {
	return m.fetch.running || m.apply.running || m.fetch.throttle != nil || m.apply.throttle != nil
}

// Update handles a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.update(msg)
	// Whatever moved the cursor (a key, a filter, a new plan), the detail
	// pane follows.
	if d := m.wantDetail(); d != nil {
		cmd = tea.Batch(cmd, d)
	}
	return m, cmd
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case detailMsg:
		return m, m.detailLoaded(msg)
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tickMsg:
		if msg.run != m.tickRun {
			return m, nil
		}
		m.expireThrottles()
		if !m.busy() {
			m.ticking = false
			return m, nil
		}
		run := m.tickRun
		return m, m.tick(time.Second, func(time.Time) tea.Msg { return tickMsg{run} })
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			// Keys typed quickly (or sent by a script) arrive together;
			// each is a command of its own.
			var cmds []tea.Cmd
			for _, r := range msg.Runes {
				cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
			}
			return m, tea.Batch(cmds...)
		}
		return m, m.key(msg)
	case progressMsg, throttleMsg, changeDoneMsg, planReadyMsg, appliedMsg:
		cmd := m.event(msg)
		return m, tea.Batch(cmd, waitEvent(m.events, m.stop))
	case estimateMsg:
		return m, m.estimated(msg)
	case replannedMsg:
		return m, m.replanned(msg)
	case releasedMsg:
		return m, m.released(msg)
	case explainedMsg:
		return m, tea.Batch(m.explained(msg), waitEvent(m.events, m.stop))
	case historyMsg:
		return m, tea.Batch(m.historyLoaded(msg), waitEvent(m.events, m.stop))
	case runDetailMsg:
		return m, tea.Batch(m.runLoaded(msg), waitEvent(m.events, m.stop))
	}
	return m, nil
}

// event routes a fetch or apply event to its screen.
func (m *Model) event(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case progressMsg:
		if msg.p.Phase == core.PhaseApply {
			return m.applyProgress(msg)
		}
		return m.fetchProgress(msg)
	case throttleMsg:
		if msg.run == m.apply.run && m.apply.running {
			if !m.apply.wait(msg.w) {
				return nil
			}
		} else if msg.run == m.fetch.run && m.fetch.running {
			m.fetch.throttle = &msg.w
		} else {
			return nil
		}
		return m.startTicking()
	case changeDoneMsg:
		return m.changeDone(msg)
	case planReadyMsg:
		return m.planReady(msg)
	case appliedMsg:
		return m.applied(msg)
	}
	return nil
}

// expireThrottles forgets throttle waits that have ended.
func (m *Model) expireThrottles() {
	now := m.now()
	if w := m.fetch.throttle; w != nil && !now.Before(w.Until) {
		m.fetch.throttle = nil
	}
	if w := m.apply.throttle; w != nil && !now.Before(w.Until) {
		m.apply.throttle = nil
	}
}

// available reports whether screen s has something to show.
func (m *Model) available(s screen) bool {
	switch s {
	case scrReview, scrMappings, scrExplain:
		return m.plan != nil
	case scrApply:
		return m.apply.run != 0
	}
	return true
}

func (m *Model) setScreen(s screen) tea.Cmd {
	if !m.available(s) {
		switch s {
		case scrApply:
			m.status = "Nothing applied yet: approve the plan on the Review screen (A)."
		default:
			m.status = "Not ready: the fetch has not finished."
		}
		return nil
	}
	m.screen = s
	m.status = ""
	switch s {
	case scrSummary:
		if m.summary.runs == nil && !m.summary.loading {
			return m.loadHistory()
		}
	case scrExplain:
		return m.explain.input.Focus()
	}
	return nil
}

// typing reports whether keys go to a text input.
func (m *Model) typing() bool {
	switch m.screen {
	case scrReview:
		return m.review.typing || m.review.dialog != nil || m.review.release != nil
	case scrExplain:
		return m.explain.input.Focused()
	case scrMappings:
		return m.mappings.prompt != nil
	}
	return false
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.confirmQuit {
		switch msg.String() {
		case "y", "Y":
			return m.quit()
		case "ctrl+c":
			return m.quit()
		default:
			m.confirmQuit = false
		}
		return nil
	}
	if msg.String() == "ctrl+c" {
		return m.requestQuit()
	}
	if m.help {
		switch msg.String() {
		case "?", "esc", "q":
			m.help = false
		}
		return nil
	}
	if m.typing() && (key.Matches(msg, keys.Next) || key.Matches(msg, keys.Prev)) && m.review.dialog == nil {
		// tab is never text: leave the field (keeping what was typed) and
		// move on.
		m.review.typing = false
		m.review.input.Blur()
		m.explain.input.Blur()
	}
	if m.typing() {
		switch m.screen {
		case scrReview:
			return m.reviewKey(msg)
		case scrExplain:
			return m.explainKey(msg)
		case scrMappings:
			return m.mappingsKey(msg)
		}
	}
	switch {
	case key.Matches(msg, keys.Help):
		m.help = true
		return nil
	case key.Matches(msg, keys.Quit):
		return m.requestQuit()
	case key.Matches(msg, keys.Next), key.Matches(msg, keys.Prev):
		d := 1
		if key.Matches(msg, keys.Prev) {
			d = int(nScreens) - 1
		}
		for s := (m.screen + screen(d)) % nScreens; s != m.screen; s = (s + screen(d)) % nScreens {
			if m.available(s) {
				return m.setScreen(s)
			}
		}
		return nil
	case key.Matches(msg, keys.Screen):
		return m.setScreen(screen(msg.Runes[0] - '1'))
	}
	switch m.screen {
	case scrFetch:
		return m.fetchKey(msg)
	case scrReview:
		return m.reviewKey(msg)
	case scrMappings:
		return m.mappingsKey(msg)
	case scrExplain:
		return m.explainKey(msg)
	case scrApply:
		return m.applyKey(msg)
	case scrSummary:
		return m.summaryKey(msg)
	}
	return nil
}

// requestQuit quits, or asks first while an apply is running.
func (m *Model) requestQuit() tea.Cmd {
	if m.apply.running {
		m.confirmQuit = true
		return nil
	}
	return m.quit()
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	m.fetch.stop()
	if m.apply.cancel != nil {
		m.apply.cancel()
	}
	return tea.Quit
}

// View renders the screen at the terminal's size.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	w, h := max(m.width, 20), max(m.height, 5)
	var body []string
	switch {
	case m.help:
		body = m.helpView(w, h-2)
	default:
		switch m.screen {
		case scrFetch:
			body = m.fetchView(w, h-2)
		case scrReview:
			body = m.reviewView(w, h-2)
		case scrMappings:
			body = m.mappingsView(w, h-2)
		case scrExplain:
			body = m.explainView(w, h-2)
		case scrApply:
			body = m.applyView(w, h-2)
		case scrSummary:
			body = m.summaryView(w, h-2)
		}
	}
	var sb strings.Builder
	sb.Grow((w + 1) * h)
	sb.WriteString(fit(m.tabs(), w))
	for i := 0; i < h-2; i++ {
		sb.WriteByte('\n')
		if i < len(body) {
			sb.WriteString(fit(body[i], w))
		} else {
			sb.WriteString(strings.Repeat(" ", w))
		}
	}
	sb.WriteByte('\n')
	sb.WriteString(fit(m.footer(w), w))
	return sb.String()
}

// tabs is the top line: the title and the screens, the current one in
// brackets and those with nothing to show yet in parentheses, so that
// neither depends on colour.
func (m *Model) tabs() string {
	var tabs []string
	for s := scrFetch; s < nScreens; s++ {
		label := fmt.Sprintf("%d %s", s+1, screenNames[s])
		switch {
		case s == m.screen:
			tabs = append(tabs, m.st.tabActive.Render("["+label+"]"))
		case m.available(s):
			tabs = append(tabs, " "+label+" ")
		default:
			tabs = append(tabs, m.st.tab.Render("("+label+")"))
		}
	}
	line := strings.Join(tabs, " ")
	// The tabs always show; the title takes what room is left.
	room := max(m.width, 20) - ansi.StringWidth(line) - 1
	title := "usersync"
	if m.opts.Title != "" {
		title += " · " + m.opts.Title
		if ansi.StringWidth(title) > room {
			title = m.opts.Title
		}
	}
	if room < 4 {
		return line
	}
	if ansi.StringWidth(title) > room {
		title = ansi.Truncate(title, room, "…")
	}
	return m.st.title.Render(title) + " " + line
}

// footer is the bottom line: a question, a status message, or the keys of
// the current screen.
func (m *Model) footer(w int) string {
	switch {
	case m.confirmQuit:
		return m.st.warn.Render("An apply is running. Quit anyway? It stops after the request in flight. [y/N]")
	case m.help:
		return m.hints(keys.Back, keys.Help)
	case m.status != "":
		return m.st.warn.Render(m.status)
	}
	var bs []key.Binding
	switch m.screen {
	case scrFetch:
		if m.plan != nil {
			bs = append(bs, key.NewBinding(key.WithKeys("2"), key.WithHelp("2", "review")))
		}
		if !m.fetch.running {
			bs = append(bs, keys.Refetch)
		}
		bs = append(bs, keys.Next)
	case scrReview:
		bs = m.reviewHints()
	case scrMappings:
		bs = m.mappingsHints()
	case scrExplain:
		if m.explain.input.Focused() {
			bs = []key.Binding{keys.Ask, keys.Back}
		} else {
			bs = []key.Binding{key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "ask again")), keys.Down, keys.Next}
		}
	case scrApply:
		if m.apply.running {
			bs = []key.Binding{keys.Cancel, keys.Up}
		} else {
			bs = []key.Binding{key.NewBinding(key.WithKeys("6"), key.WithHelp("6", "summary")), keys.Up}
		}
	case scrSummary:
		if m.summary.detail != nil {
			bs = []key.Binding{keys.Down, keys.Back}
		} else {
			bs = []key.Binding{keys.Down, keys.Open, keys.Reload, keys.Next}
		}
	}
	var always []key.Binding
	if !m.typing() {
		always = []key.Binding{keys.Help, keys.Quit}
	}
	// Drop the least important hints until the line fits.
	for len(bs) > 0 && ansi.StringWidth(m.hints(append(bs, always...)...)) > w {
		bs = bs[:len(bs)-1]
	}
	return m.hints(append(bs, always...)...)
}

func (m *Model) hints(bs ...key.Binding) string {
	parts := make([]string, 0, len(bs))
	for _, b := range bs {
		h := b.Help()
		parts = append(parts, m.st.key.Render(h.Key)+" "+h.Desc)
	}
	return strings.Join(parts, "  ")
}

func (m *Model) helpView(w, h int) []string {
	cols := 1
	if w >= 76 {
		cols = 2
	}
	cw := w / cols
	section := func(title string, bs ...key.Binding) []string {
		out := []string{"", m.st.bold.Render(title)}
		line := ""
		for i, b := range bs {
			hl := b.Help()
			desc := hl.Desc
			// The Mappings screen's letters edit the mapping: their short
			// help is the whole story.
			if long, ok := longHelp[hl.Key]; ok && (m.screen != scrMappings || title == "Everywhere") {
				desc = long
			}
			cell := fit(fmt.Sprintf("  %-10s %s", hl.Key, desc), cw)
			line += cell
			if (i+1)%cols == 0 || i == len(bs)-1 {
				out = append(out, line)
				line = ""
			}
		}
		return out
	}
	var ls []string
	ls = append(ls, m.st.title.Render("Keys")+"  (? or esc closes)")
	ls = append(ls, section("Everywhere", keys.Screen, keys.Next, keys.Prev, keys.Help, keys.Quit)...)
	switch m.screen {
	case scrFetch:
		ls = append(ls, section("Fetch", keys.Refetch)...)
	case scrReview:
		ls = append(ls, section("Review", keys.Up, keys.Down, keys.PageUp, keys.PageDown, keys.Top, keys.Bottom, keys.Filter,
			keys.ClearFilter, keys.Toggle, keys.ToggleAll, keys.Remember, keys.Exclusions, keys.Sort, keys.Detail,
			keys.ExplainUser, keys.Approve, releaseKey)...)
		ls = append(ls, "", "Filter: words match anywhere; user: group: action: org: is: match one field,",
			"  e.g. /action:delete org:primary   /group:design   /is:excluded   /is:pending",
			"Marks: ✓ applied  x excluded  R remembered exclusion  ! withheld")
	case scrMappings:
		ls = append(ls, section("Mappings", keys.Up, keys.Down, b([]string{"enter"}, "enter", "its changes"), keys.MissingOnly,
			editKeys.Rename, editKeys.AddGroup, editKeys.RemoveGroup, editKeys.NewRow, editKeys.DeleteRow, editKeys.Undo, editKeys.Write)...)
		ls = append(ls, "", "Edits are tried at once on the data fetched; only w writes them (backup kept).",
			"Marks: ✗ missing on a side  ↳ did you mean  ? seen on users, not mapped")
	case scrExplain:
		ls = append(ls, section("Explain", keys.Filter, keys.Ask, keys.Back, keys.Down)...)
	case scrApply:
		ls = append(ls, section("Apply", keys.Cancel)...)
	case scrSummary:
		ls = append(ls, section("Summary and history", keys.Up, keys.Down, keys.Open, keys.Back, keys.Reload)...)
	}
	out, _ := window(ls, 0, h)
	return out
}

// longHelp are the help screen's longer descriptions, by key.
var longHelp = map[string]string{
	"1-6": "go to a screen", "tab": "next screen", "shift+tab": "previous screen",
	"space": "exclude/include (run)", "a": "exclude/include all shown",
	"x": "remember/forget exclusion", "E": "remembered exclusions",
	"s": "sort: action, user, org", "enter": "detail (or open)", "e": "explain the user",
	"A": "approve and apply", "W": "release withheld changes (type their count)",
	"c": "cancel after the request in flight",
	"m": "only groups missing on a side", "r": "fetch again (or reload)",
}

// fmtDuration renders a duration for people: 45s, 12m30s, 3h05m.
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// countdown renders a throttle wait as it counts down.
func (m *Model) countdown(w *core.ThrottleWait) string {
	left := w.Until.Sub(m.now())
	if left < 0 {
		left = 0
	}
	left = (left + time.Second - 1).Truncate(time.Second)
	s := fmt.Sprintf("⏳ waiting %s (%s", fmtDuration(left), w.Reason())
	if w.Org != "" {
		s += ", org " + w.Org
	}
	if w.Attempt > 0 {
		s += fmt.Sprintf(", attempt %d", w.Attempt)
	}
	return s + ")"
}

// num renders n with thousands separators.
func num(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + num(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
