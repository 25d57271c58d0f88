package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
)

// reviewState is the Review screen: the plan's changes, filtered, sorted
// and marked by the operator, and the approval dialog.
type reviewState struct {
	list *changeList
	est  Cost
	// estRun is the estimate being computed; estimating is set until it
	// arrives.
	estRun     int
	estimating bool
	estDirty   bool // the exclusions changed while estimating
	sort       sortKey
	stack      filterStack
	cursor     int // index into the visible rows
	offset     int // first visible row shown

	input  textinput.Model
	typing bool

	zoom    bool // the detail pane fills the screen
	zoomOff int
	dialog  *approveDialog
	release *releaseDialog

	// detail caches the Backend's detail of one row.
	detailRow  int32
	detail     ChangeDetail
	haveDetail bool
	detailBusy bool
	detailRun  int

	// exclusions is the remembered-exclusions panel, when open.
	// only, when set, narrows the review to some changes (one mapping
	// row's, from the Mappings screen).
	only *idFilter

	exclusions  []core.Exclusion
	exclPanel   bool
	exclCursor  int
	tableHeight int // rows shown in the last View, for paging
}

// approveDialog asks for approval; with account removals planned, the
// operator must type their number.
type approveDialog struct {
	need  int
	input textinput.Model
	err   string
}

func newInput(st styles, prompt, placeholder string) textinput.Model {
	in := textinput.New()
	in.Prompt = prompt
	in.Placeholder = placeholder
	in.PromptStyle = st.bold
	in.TextStyle = st.title.UnsetBold()
	in.PlaceholderStyle = st.dim
	in.Cursor.Style = st.cursor
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}

func (r *reviewState) init(st styles) {
	r.input = newInput(st, "/", "user, group, action:delete, org:primary, is:excluded")
	r.detailRow = -1
}

func (r *reviewState) load(l *changeList, est Cost) {
	in := r.input
	in.Reset()
	in.Blur()
	*r = reviewState{list: l, est: est, input: in, detailRow: -1}
	r.stack = filterStack{{rows: l.order(sortAction)}}
}

func (r *reviewState) visible() []int32 {
	if len(r.stack) == 0 {
		return nil
	}
	return r.stack[len(r.stack)-1].rows
}

// current is the row under the cursor, or -1.
func (r *reviewState) current() int32 {
	v := r.visible()
	if r.cursor < 0 || r.cursor >= len(v) {
		return -1
	}
	return v[r.cursor]
}

func (r *reviewState) setQuery(q string) {
	r.stack = r.stack.apply(r.list, q)
	r.cursor, r.offset = 0, 0
}

// refilter recomputes the current query from scratch, after the sort order
// or the rows' states changed.
func (r *reviewState) refilter() {
	q := r.input.Value()
	r.stack = filterStack{{rows: r.baseRows()}}
	r.stack = r.stack.apply(r.list, q)
	r.cursor = min(r.cursor, max(len(r.visible())-1, 0))
}

// baseRows are the rows in the sort order, narrowed by only.
func (r *reviewState) baseRows() []int32 {
	rows := r.list.order(r.sort)
	if r.only == nil {
		return rows
	}
	out := make([]int32, 0, len(r.only.ids))
	for _, i := range rows {
		if r.only.ids[r.list.rows[i].c.ID] {
			out = append(out, i)
		}
	}
	return out
}

func (r *reviewState) move(d int) {
	n := len(r.visible())
	r.cursor = max(0, min(n-1, r.cursor+d))
}

// reestimate asks the backend for the cost of the plan as now excluded. It
// runs off the UI goroutine, on a copy of the rows' states, so that
// excluding 100,000 rows at once keeps the console responsive whatever
// the estimate costs.
func (m *Model) reestimate() tea.Cmd {
	r := &m.review
	if strings.Contains(r.input.Value(), "is:") {
		r.refilter()
	}
	if r.estimating {
		// One estimate at a time: the next starts when this one lands.
		r.estDirty = true
		return nil
	}
	r.estRun = m.nextRun()
	r.estimating, r.estDirty = true, false
	run, b, plan := r.estRun, m.b, m.plan
	rows, states := r.list.rows, slices.Clone(r.list.state)
	return func() tea.Msg {
		return estimateMsg{run: run, est: b.Estimate(plan, excludeMap(rows, states))}
	}
}

func (m *Model) estimated(msg estimateMsg) tea.Cmd {
	r := &m.review
	if msg.run != r.estRun {
		return nil
	}
	r.est, r.estimating = msg.est, false
	if r.estDirty {
		return m.reestimate()
	}
	return nil
}

func (m *Model) reviewKey(msg tea.KeyMsg) tea.Cmd {
	r := &m.review
	if r.list == nil {
		return nil
	}
	m.status = ""
	if r.dialog != nil {
		return m.dialogKey(msg)
	}
	if r.release != nil {
		return m.releaseKey(msg)
	}
	if r.typing {
		switch msg.String() {
		case "esc":
			r.input.Reset()
			r.setQuery("")
			r.typing = false
			r.input.Blur()
			return nil
		case "enter":
			r.typing = false
			r.input.Blur()
			return nil
		case "up", "down", "pgup", "pgdown":
			// Moving while typing is handy in a long list.
		default:
			var cmd tea.Cmd
			before := r.input.Value()
			r.input, cmd = r.input.Update(msg)
			if v := r.input.Value(); v != before {
				r.setQuery(v)
			}
			return cmd
		}
	}
	if r.exclPanel {
		return m.exclusionsKey(msg)
	}
	page := max(r.tableHeight-1, 1)
	if r.zoom {
		if scrollKey(msg, &r.zoomOff, page) {
			return nil
		}
		switch {
		case key.Matches(msg, keys.Detail), key.Matches(msg, keys.Back):
			r.zoom = false
		case key.Matches(msg, keys.Toggle):
			return m.toggleCurrent()
		case key.Matches(msg, keys.ExplainUser):
			return m.explainCurrent()
		}
		return nil
	}
	switch {
	case key.Matches(msg, keys.Up):
		r.move(-1)
	case key.Matches(msg, keys.Down):
		r.move(1)
	case key.Matches(msg, keys.PageUp):
		r.move(-page)
	case key.Matches(msg, keys.PageDown):
		r.move(page)
	case key.Matches(msg, keys.Top):
		r.cursor = 0
	case key.Matches(msg, keys.Bottom):
		r.cursor = max(len(r.visible())-1, 0)
	case key.Matches(msg, keys.Filter):
		r.typing = true
		r.input.CursorEnd()
		return r.input.Focus()
	case key.Matches(msg, keys.ClearFilter):
		r.input.Reset()
		if r.only != nil {
			r.only = nil
			r.refilter()
		}
		r.setQuery("")
	case key.Matches(msg, keys.Toggle):
		return m.toggleCurrent()
	case key.Matches(msg, keys.ToggleAll):
		return m.toggleAll()
	case key.Matches(msg, keys.Remember):
		return m.rememberCurrent()
	case key.Matches(msg, keys.Sort):
		r.sort = (r.sort + 1) % sortKeys
		r.refilter()
		r.cursor, r.offset = 0, 0
		m.status = "Sorted by " + r.sort.String() + "."
	case key.Matches(msg, keys.Detail):
		if r.current() >= 0 {
			r.zoom, r.zoomOff = true, 0
		}
	case key.Matches(msg, keys.ExplainUser):
		return m.explainCurrent()
	case key.Matches(msg, keys.Exclusions):
		m.openExclusions()
	case key.Matches(msg, keys.Approve):
		m.openApprove()
	case key.Matches(msg, releaseKey):
		m.openRelease()
	}
	return nil
}

func (m *Model) toggleCurrent() tea.Cmd {
	r := &m.review
	i := r.current()
	if i < 0 {
		return nil
	}
	switch r.list.state[i] {
	case rowIncluded:
		r.list.setState(int(i), rowExcluded)
	case rowExcluded:
		r.list.setState(int(i), rowIncluded)
	case rowRemembered:
		m.status = "This exclusion is remembered: press x to forget it."
		return nil
	case rowHeld:
		held := r.list.rows[i].c.Held
		if held == "" {
			held = core.HoldAdobeOnly
		}
		m.status = fmt.Sprintf("Withheld by the safety limit (%s): not sent in this run unless released (W).", held)
		if held == core.HoldLicenseQuota {
			m.status = "Withheld by the licence quota: the console cannot release it (see limits.license_quota)."
		}
		return nil
	}
	return m.reestimate()
}

// toggleAll excludes every shown change, or includes them all again when
// none of them is included.
func (m *Model) toggleAll() tea.Cmd {
	r := &m.review
	l := r.list
	v := r.visible()
	anyIncluded := false
	for _, i := range v {
		if l.state[i] == rowIncluded {
			anyIncluded = true
			break
		}
	}
	from, to := rowExcluded, rowIncluded
	if anyIncluded {
		from, to = rowIncluded, rowExcluded
	}
	n := 0
	for _, i := range v {
		if l.state[i] == from {
			l.setState(int(i), to)
			n++
		}
	}
	verb := "Included"
	if to == rowExcluded {
		verb = "Excluded"
	}
	m.status = fmt.Sprintf("%s %s shown changes for this run.", verb, num(n))
	return m.reestimate()
}

// rememberCurrent remembers an exclusion of the current change, or forgets
// the remembered exclusions that cover it.
func (m *Model) rememberCurrent() tea.Cmd {
	r := &m.review
	i := r.current()
	if i < 0 {
		return nil
	}
	l := r.list
	c := l.rows[i].c
	switch l.state[i] {
	case rowHeld:
		m.status = "Withheld changes are not sent, so there is nothing to exclude."
		return nil
	case rowRemembered:
		all, err := m.b.Exclusions()
		if err != nil {
			m.status = "Could not read the remembered exclusions: " + err.Error()
			return nil
		}
		var forgot []core.Exclusion
		for _, e := range all {
			if e.Matches(*c) {
				if err := m.b.ForgetExclusion(e); err != nil {
					m.status = "Could not forget the exclusion: " + err.Error()
					return nil
				}
				forgot = append(forgot, e)
			}
		}
		m.unremember(forgot)
		m.status = "Forgot the remembered exclusion; the change is included again."
	default:
		e := core.Exclusion{Org: c.Org, Key: c.Key, Action: c.Action}
		if err := m.b.RememberExclusion(e); err != nil {
			m.status = "Could not remember the exclusion: " + err.Error()
			return nil
		}
		for j := range l.rows {
			if l.state[j] != rowHeld && e.Matches(*l.rows[j].c) {
				l.setState(j, rowRemembered)
			}
		}
		m.status = "Excluded, and remembered for later runs (x again forgets it)."
	}
	return m.reestimate()
}

// unremember includes again the rows covered by forgotten exclusions.
func (m *Model) unremember(forgot []core.Exclusion) {
	l := m.review.list
	for j := range l.rows {
		if l.state[j] != rowRemembered {
			continue
		}
		for _, e := range forgot {
			if e.Matches(*l.rows[j].c) {
				l.setState(j, rowIncluded)
				break
			}
		}
	}
}

func (m *Model) openExclusions() {
	r := &m.review
	all, err := m.b.Exclusions()
	if err != nil {
		m.status = "Could not read the remembered exclusions: " + err.Error()
		return
	}
	r.exclusions, r.exclPanel, r.exclCursor = all, true, 0
}

func (m *Model) exclusionsKey(msg tea.KeyMsg) tea.Cmd {
	r := &m.review
	switch {
	case key.Matches(msg, keys.Up):
		r.exclCursor = max(r.exclCursor-1, 0)
	case key.Matches(msg, keys.Down):
		r.exclCursor = max(min(r.exclCursor+1, len(r.exclusions)-1), 0)
	case key.Matches(msg, keys.Forget):
		if r.exclCursor < len(r.exclusions) {
			e := r.exclusions[r.exclCursor]
			if err := m.b.ForgetExclusion(e); err != nil {
				m.status = "Could not forget the exclusion: " + err.Error()
				return nil
			}
			m.unremember([]core.Exclusion{e})
			m.openExclusions()
			r.exclCursor = max(min(r.exclCursor, len(r.exclusions)-1), 0)
			m.status = "Forgot the exclusion of " + e.Key + "."
			return m.reestimate()
		}
	case key.Matches(msg, keys.Back), key.Matches(msg, keys.Exclusions):
		r.exclPanel = false
	}
	return nil
}

func (m *Model) openApprove() {
	if m.guardUnwritten() {
		return
	}
	r := &m.review
	if m.apply.running {
		m.status = "An apply is already running."
		return
	}
	if m.apply.plan == m.plan && m.apply.res != nil {
		m.status = "This plan has been applied: fetch again (1, then r) for a fresh plan."
		return
	}
	if r.list.included() == 0 {
		m.status = "Nothing to apply: every change is excluded or withheld."
		return
	}
	d := &approveDialog{need: r.list.removals}
	if d.need > 0 {
		d.input = newInput(m.st, "Number of accounts leaving: ", "")
		d.input.CharLimit = 12
		d.input.Focus()
	}
	r.dialog = d
}

func (m *Model) dialogKey(msg tea.KeyMsg) tea.Cmd {
	r := &m.review
	d := r.dialog
	if msg.String() == "esc" {
		r.dialog = nil
		return nil
	}
	if d.need == 0 {
		switch msg.String() {
		case "y", "Y", "enter":
			r.dialog = nil
			return m.startApply()
		case "n", "N":
			r.dialog = nil
		}
		return nil
	}
	if msg.String() == "enter" {
		if strings.TrimSpace(strings.ReplaceAll(d.input.Value(), ",", "")) != strconv.Itoa(d.need) {
			d.err = fmt.Sprintf("Type %d, the number of accounts that leave the org, or esc to go back.", d.need)
			return nil
		}
		r.dialog = nil
		return m.startApply()
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(msg)
	d.err = ""
	return cmd
}

func (m *Model) explainCurrent() tea.Cmd {
	i := m.review.current()
	if i < 0 {
		return nil
	}
	c := m.review.list.rows[i].c
	if c.Action == core.ActionCreateGroup {
		m.status = "Explain tells about users; this change creates the group " + c.Group + "."
		return nil
	}
	q := c.User.Email
	if q == "" {
		q = c.User.User
	}
	if q == "" {
		q = c.Key
	}
	m.screen = scrExplain
	m.explain.input.SetValue(q)
	m.explain.input.Blur()
	return m.ask(q)
}

func (m *Model) reviewHints() []key.Binding {
	r := &m.review
	switch {
	case r.dialog != nil, r.release != nil:
		return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back to review"))}
	case r.typing:
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "done")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear")),
		}
	case r.exclPanel:
		return []key.Binding{keys.Down, keys.Forget, keys.Back}
	case r.zoom:
		return []key.Binding{keys.Down, keys.Toggle, keys.ExplainUser, keys.Back}
	}
	if len(releasable(m.plan, m.snap)) > 0 {
		return []key.Binding{keys.Filter, keys.Toggle, keys.Approve, releaseKey, keys.Detail, keys.ToggleAll, keys.Remember, keys.Sort, keys.ExplainUser, keys.Next}
	}
	return []key.Binding{keys.Filter, keys.Toggle, keys.Approve, keys.Detail, keys.ToggleAll, keys.Remember, keys.Sort, keys.ExplainUser, keys.Next}
}

// rateWords says a rate limit in words: "10 requests a minute".
func rateWords(r core.RateLimit) string {
	if r.Window == time.Minute {
		return fmt.Sprintf("%d requests a minute", r.Requests)
	}
	return fmt.Sprintf("%d requests per %s", r.Requests, fmtDuration(r.Window))
}

// shortWords name actions in the review's counts line.
var shortWords = map[core.Action]string{
	core.ActionCreateGroup: "new groups", core.ActionCreate: "create", core.ActionUpdate: "update",
	core.ActionRemoveGroups: "-groups", core.ActionAddGroups: "+groups", core.ActionRemoveAllGroups: "-all groups",
	core.ActionRemoveFromOrg: "leave org", core.ActionDelete: "delete",
}

// reviewHead is the counts, the cost and the banners above the table.
func (m *Model) reviewHead(w int) []string {
	r := &m.review
	l := r.list
	p := m.plan
	var segs []string
	for i, a := range actionOrder {
		if l.counts[i] > 0 {
			segs = append(segs, fmt.Sprintf("%s %s", shortWords[a], num(l.counts[i])))
		}
	}
	total := len(p.Changes)
	line := m.st.bold.Render(fmt.Sprintf("%s changes", num(total)))
	if total == 0 {
		line = m.st.bold.Render("Nothing to change: both sides agree.")
		if n := len(p.Withheld); n > 0 {
			line = m.st.bold.Render(fmt.Sprintf("Nothing to send: all %s changes are withheld.", num(n)))
		}
	}
	if len(segs) > 0 {
		line += ": " + strings.Join(segs, " · ")
	}
	if len(p.Orgs) > 1 || len(l.orgCounts) > 1 {
		var os []string
		for _, o := range p.Orgs {
			os = append(os, fmt.Sprintf("%s %s", o, num(l.orgCounts[o])))
		}
		line += " · by org: " + strings.Join(os, ", ")
	}
	ls := wrapSegments(line, w)
	if b := m.findingsBanner(w); b != "" {
		ls = append(ls, b)
	}
	// The counts are the run engine's effective exclusions, held
	// dependents included: what the apply will send.
	cost := fmt.Sprintf("To send: %s changes in %s requests, ≈%s at %s",
		num(r.est.ToSend(p)), num(r.est.Requests), fmtDuration(r.est.Duration), rateWords(estRate(r.est.Estimate)))
	if r.estimating {
		cost = fmt.Sprintf("To send: %s changes · estimating the requests…", num(l.included()))
	}
	if n := l.excluded + l.remembered; n > 0 {
		cost += fmt.Sprintf(" · %s excluded", num(n))
		if l.remembered > 0 {
			cost += fmt.Sprintf(" (%s remembered)", num(l.remembered))
		}
	}
	if n := len(r.est.Excluded.Held); n > 0 && !r.estimating {
		cost += fmt.Sprintf(" · %s held with them", num(n))
	}
	ls = append(ls, wrapSegments(cost, w)...)
	if p.TestMode {
		ls = append(ls, m.st.banner.Render(fit(" TEST MODE: Adobe checks every command but changes nothing.", w)))
	}
	if lim := p.Limit; lim != nil && lim.Exceeded {
		s := fmt.Sprintf(" ⚠ LIMIT EXCEEDED: %s Adobe-only users > max_adobe_only_users %s; %s withheld (!)",
			num(lim.Count), lim.Setting, num(len(p.Withheld)))
		for _, h := range releasable(p, m.snap) {
			if h.limit == core.HoldAdobeOnly {
				// Short enough for 80 columns with the key to release.
				s = fmt.Sprintf(" ⚠ LIMIT EXCEEDED: %s Adobe-only > max_adobe_only_users %s; %s withheld; W, type %d",
					num(lim.Count), lim.Setting, num(len(h.ids)), h.users)
			}
		}
		ls = append(ls, m.st.banner.Render(fit(s, w)))
	}
	ls = append(ls, m.holdBanners(w)...)
	if s := m.pendingLine(w); s != "" {
		ls = append(ls, m.st.warn.Render(s))
	}
	if l.removals > 0 {
		s := fmt.Sprintf(" ⚠ %s ACCOUNTS LEAVE THE ORG", num(l.removals))
		if l.deletions > 0 {
			s += fmt.Sprintf(" (%s deleted)", num(l.deletions))
		}
		ls = append(ls, m.st.banner.Render(fit(fmt.Sprintf("%s; to approve, type %d", s, l.removals), w)))
	}
	if n := len(p.Warnings); n > 0 {
		s := "⚠ " + p.Warnings[0]
		if n > 1 {
			s = fmt.Sprintf("⚠ %d warnings; first: %s", n, p.Warnings[0])
		}
		ls = append(ls, m.st.warn.Render(s))
	}
	return ls
}

func (m *Model) reviewView(w, h int) []string {
	r := &m.review
	if r.list == nil {
		return []string{"No plan yet."}
	}
	ls := m.reviewHead(w)
	if r.dialog != nil {
		return append(ls, m.dialogView(w)...)
	}
	if r.release != nil {
		return append(ls, m.releaseView(w)...)
	}
	if r.exclPanel {
		return append(ls, m.exclusionsView(w, h-len(ls))...)
	}
	// The filter line.
	v := r.visible()
	info := fmt.Sprintf("%s of %s shown · sort: %s", num(len(v)), num(len(r.list.rows)), r.sort)
	if r.showPending() {
		info = fmt.Sprintf("%s Adobe-only users in grace period", num(len(m.plan.Pending)))
	}
	switch {
	case r.typing:
		r.input.Width = max(w-len(info)-6, 10)
		ls = append(ls, r.input.View()+"  "+m.st.dim.Render(info))
	case r.only != nil:
		ls = append(ls, m.st.bold.Render(strings.TrimSpace(r.only.label+" /"+r.input.Value()))+"  "+m.st.dim.Render(info+" · esc clears"))
	case r.input.Value() != "":
		ls = append(ls, m.st.bold.Render("/"+r.input.Value())+"  "+m.st.dim.Render(info+" · esc clears"))
	default:
		ls = append(ls, m.st.dim.Render(info+" · / filters"))
	}
	if r.showPending() {
		return append(ls, m.pendingView(w, h-len(ls))...)
	}
	body := h - len(ls)
	if r.zoom {
		dl := m.detailLines(w)
		win, off := window(dl, r.zoomOff, body)
		r.zoomOff = off
		return append(ls, win...)
	}
	if w >= 110 {
		dw := w * 2 / 5
		tw := w - dw - 1
		table := m.tableLines(tw, body)
		dl := m.detailLines(dw - 1)
		for i := 0; i < body; i++ {
			t, d := "", ""
			if i < len(table) {
				t = table[i]
			}
			if i < len(dl) {
				d = dl[i]
			}
			ls = append(ls, fit(t, tw)+"│"+d)
		}
		return ls
	}
	th := max(body/2, min(body, 4))
	ls = append(ls, m.tableLines(w, th)...)
	for len(ls) < h-(body-th) {
		ls = append(ls, "")
	}
	if dh := body - th; dh > 1 {
		ls = append(ls, m.st.dim.Render(strings.Repeat("─", w)))
		dl := m.detailLines(w)
		win, _ := window(dl, 0, dh-1)
		ls = append(ls, win...)
	}
	return ls
}

// tableLines renders the visible window of the table: h lines including
// the header. Only these rows are formatted, whatever the plan's size.
func (m *Model) tableLines(w, h int) []string {
	r := &m.review
	l := r.list
	v := r.visible()
	rows := max(h-1, 1)
	r.tableHeight = rows
	if r.cursor < r.offset {
		r.offset = r.cursor
	}
	if r.cursor >= r.offset+rows {
		r.offset = r.cursor - rows + 1
	}
	r.offset = max(0, min(r.offset, len(v)-rows))
	const actionW = 13
	orgW := 9
	if len(m.plan.Orgs) < 2 {
		orgW = 0 // one org: the column would say the same on every row
	}
	flex := max(w-4-actionW-orgW-3, 10)
	// The user column is what the operator reads first: it gets room for
	// a whole email (up to 30 cells) before the summary does.
	userW := min(max(flex*11/20, 30), flex-6)
	whatW := flex - userW
	head := fmt.Sprintf("    %-*s %-*s %-*s %s", actionW, "ACTION", userW, "USER", orgW, "ORG", "WHAT")
	if orgW == 0 {
		head = fmt.Sprintf("    %-*s %-*s %s", actionW, "ACTION", userW, "USER", "WHAT")
	}
	ls := []string{m.st.header.Render(fit(head, w))}
	if len(v) == 0 {
		if len(l.rows) == 0 {
			return append(ls, "  Nothing to do: the directory and Adobe agree.")
		}
		return append(ls, "  No change matches the filter.")
	}
	for k := r.offset; k < min(len(v), r.offset+rows); k++ {
		i := v[k]
		rw := &l.rows[i]
		label := actionLabel(rw.c.Action)
		if rw.group == heldGroup {
			label = "withheld"
		}
		if r.sort == sortAction && k > r.offset && l.rows[v[k-1]].group == rw.group {
			label = ""
		}
		cur := " "
		if k == r.cursor {
			cur = "›"
		}
		line := cur + " " + l.state[i].mark() + " " + fit(label, actionW) + " " + fit(rw.user, userW) + " "
		if orgW > 0 {
			line += fit(rw.c.Org, orgW) + " "
		}
		if rw.c.Blocked != "" {
			line += fit(blockedWords(rw.c, rw.summary), whatW)
		} else {
			line += fit(rw.summary, whatW)
		}
		switch {
		case k == r.cursor:
			line = m.st.cursor.Render(line)
		case l.state[i] != rowIncluded:
			line = m.st.dim.Render(line)
		}
		ls = append(ls, line)
	}
	return ls
}

func (m *Model) dialogView(w int) []string {
	r := &m.review
	l := r.list
	d := r.dialog
	ls := []string{"", m.st.title.Render("Approve and apply")}
	orgs := strings.Join(m.plan.Orgs, ", ")
	ls = append(ls, wrap(fmt.Sprintf("Send %s changes to %s in %s requests (%s commands), about %s at %s.",
		num(r.est.ToSend(m.plan)), orgs, num(r.est.Requests), num(r.est.Commands), fmtDuration(r.est.Duration), rateWords(estRate(r.est.Estimate))), w-2)...)
	if n := l.excluded + l.remembered; n > 0 {
		held := ""
		if h := len(r.est.Excluded.Held); h > 0 {
			held = fmt.Sprintf(" (and %s changes held with them)", num(h))
		}
		ls = append(ls, wrap(fmt.Sprintf("%s excluded changes%s are not sent; they are recorded with the run.", num(n), held), w-2)...)
	}
	if m.plan.TestMode {
		ls = append(ls, "Test mode: Adobe checks the commands but changes nothing.")
	}
	ls = append(ls, "")
	if d.need == 0 {
		return append(ls, m.st.bold.Render("Apply now? [y/N]"))
	}
	s := fmt.Sprintf("⚠ %s accounts leave the org", num(l.removals))
	if l.deletions > 0 {
		s += fmt.Sprintf(", %s of them deleted for good", num(l.deletions))
	}
	ls = append(ls, m.st.warn.Render(s+":"))
	// Name them: the number to type is a count of these accounts.
	var leaving []string
	for i, rw := range l.rows {
		if l.state[i] == rowIncluded && removesAccount(rw.c.Action) {
			leaving = append(leaving, fmt.Sprintf("%s (%s)", rw.user, actionLabel(rw.c.Action)))
		}
	}
	const show = 5
	for _, u := range leaving[:min(len(leaving), show)] {
		ls = append(ls, "  "+fit(u, w-4))
	}
	if len(leaving) > show {
		ls = append(ls, fmt.Sprintf("  … and %s more (/action:leave lists them)", num(len(leaving)-show)))
	}
	ls = append(ls, fmt.Sprintf("Type %d and press enter to approve, or esc to go back.", d.need))
	ls = append(ls, d.input.View())
	if d.err != "" {
		ls = append(ls, m.st.bad.Render("✗ "+d.err))
	}
	return ls
}

func (m *Model) exclusionsView(w, h int) []string {
	r := &m.review
	ls := []string{"", m.st.title.Render("Remembered exclusions") + " (apply to every later run until forgotten)"}
	if len(r.exclusions) == 0 {
		return append(ls, "  None. Press x on a change in the table to remember its exclusion.")
	}
	for i, e := range r.exclusions {
		cur := "  "
		if i == r.exclCursor {
			cur = "› "
		}
		act := string(e.Action)
		if act == "" {
			act = "any action"
		}
		line := fmt.Sprintf("%sR %-10s %-30s %s", cur, e.Org, e.Key, act)
		if e.Note != "" {
			line += " · " + e.Note
		}
		if i == r.exclCursor {
			line = m.st.cursor.Render(fit(line, w))
		}
		ls = append(ls, line)
	}
	out, _ := window(ls, max(r.exclCursor+2-h+1, 0), h)
	return out
}
