package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/store"
	"github.com/usersync/usersync/tui"
)

// consoleDriver runs the console's model the way bubbletea would, minus
// the terminal: Cmds run in goroutines, their messages come back through
// one channel and are handed to Update on the test's goroutine, which is
// the only one that touches the model. This is the tui package's own flow
// test approach, here with the real backend against the simulator.
type consoleDriver struct {
	t    *testing.T
	ctx  context.Context // bounds the whole flow
	m    *tui.Model
	msgs chan tea.Msg
	// onMsg sees the screen after a message when no other is queued, e.g.
	// to watch the Apply screen.
	onMsg func(view string)
}

func (d *consoleDriver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		select {
		case d.msgs <- msg:
		case <-d.ctx.Done():
		}
	}()
}

func (d *consoleDriver) update(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil, tea.QuitMsg:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	}
	_, cmd := d.m.Update(msg)
	d.run(cmd)
	// Rendering costs milliseconds under the race detector; rendering
	// after every one of a burst of messages would slow the console (and,
	// through its reporter, the apply) more than a terminal does. A screen
	// that stays up, like a throttle wait, is seen once the burst is over.
	if d.onMsg != nil && len(d.msgs) == 0 {
		d.onMsg(d.m.View())
	}
}

// until processes messages until cond holds for the view, failing with the
// current screen when the flow's deadline passes.
func (d *consoleDriver) until(what string, cond func(view string) bool) string {
	d.t.Helper()
	for {
		v := d.m.View()
		if cond(v) {
			return v
		}
		select {
		case msg := <-d.msgs:
			d.update(msg)
		case <-d.ctx.Done():
			d.t.Fatalf("timed out waiting for %s; screen:\n%s", what, v)
		}
	}
}

// press sends keys by name (enter, esc, space) or as typed text.
func (d *consoleDriver) press(keys ...string) {
	named := map[string]tea.KeyType{"enter": tea.KeyEnter, "esc": tea.KeyEsc}
	for _, k := range keys {
		switch {
		case k == "space":
			d.update(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
		case named[k] != 0:
			d.update(tea.KeyMsg{Type: named[k]})
		default:
			d.typ(k)
		}
	}
}

// typ types s, one key per rune.
func (d *consoleDriver) typ(s string) {
	for _, r := range s {
		d.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// onScreen reports whether the view's tab line marks screen name current.
func onScreen(view, name string) bool {
	tabs, _, _ := strings.Cut(view, "\n")
	return strings.Contains(tabs, "["+name+"]") || regexp.MustCompile(`\[\d `+name+`\]`).MatchString(tabs)
}

// rowMarked reports whether the review table's row of user carries mark
// in its first column (✓ included, x excluded).
func rowMarked(view, user, mark string) bool {
	for _, l := range strings.Split(view, "\n") {
		if f := strings.Fields(strings.TrimPrefix(l, "›")); len(f) > 2 && strings.Contains(l, user) && f[0] == mark {
			return true
		}
	}
	return false
}

var shownRe = regexp.MustCompile(`([\d,]+) of ([\d,]+) shown`)

// consoleE2ESeed is the org before the sync: ana lacks a mapped group, bo's
// last name is stale, eve holds a group her directory entry does not map
// to, cy is Adobe-only and the admin is protected by exclude_adobe_groups.
func consoleE2ESeed() *sim.Seed {
	s := smallSeed()
	s.Users = []sim.SeedUser{
		{Email: "ana@example.org", Type: "federatedID", Firstname: "Ana", Lastname: "Ruiz", Country: "ES", Groups: []string{"Design Team"}},
		{Email: "bo@example.org", Type: "federatedID", Firstname: "Bo", Lastname: "Old", Country: "SE", Groups: []string{"Design Team", "All Apps"}},
		{Email: "eve@example.org", Type: "federatedID", Firstname: "Eve", Lastname: "Ek", Country: "SE", Groups: []string{"All Apps"}},
		{Email: "cy@example.org", Type: "federatedID", Firstname: "Cy", Lastname: "Gone", Country: "US", Groups: []string{"All Apps"}},
		{Email: "admin@example.org", Type: "federatedID", Firstname: "Ad", Lastname: "Min", Country: "US", Groups: []string{"_org_admin"}},
	}
	return s
}

// consoleE2ECreates is the number of users only the directory has. Ten
// commands travel in a request, so they alone need more requests than the
// rate limit allows in one window.
const consoleE2ECreates = 120

func consoleE2ECSV() string {
	var b strings.Builder
	b.WriteString("firstname,lastname,email,country,groups\n")
	b.WriteString("Ana,Ruiz,ana@example.org,ES,Design\n")
	b.WriteString("Bo,Berg,bo@example.org,SE,Design\n")
	b.WriteString("Eve,Ek,eve@example.org,SE,\n")
	for i := range consoleE2ECreates {
		fmt.Fprintf(&b, "U,%d,u%03d@example.org,US,Design\n", i, i)
	}
	return b.String()
}

// orgUser is what the test compares of an Adobe user.
type orgUser struct {
	First, Last string
	Groups      []string // lower case, sorted
}

func orgUsers(s *sim.Seed) map[string]orgUser {
	m := map[string]orgUser{}
	for _, u := range s.Users {
		g := []string{}
		for _, x := range u.Groups {
			g = append(g, strings.ToLower(x))
		}
		slices.Sort(g)
		m[strings.ToLower(u.Email)] = orgUser{u.Firstname, u.Lastname, g}
	}
	return m
}

// TestConsoleEndToEnd drives the console with the real backend against the
// simulator: fetch, filter to one user, exclude that user's change, clear
// the filter, approve by typing the number of accounts leaving the org,
// apply through a rate-limit wait, and read the summary. The org must then
// hold every planned change but the excluded one, and the database must
// record the run with its exclusion.
func TestConsoleEndToEnd(t *testing.T) {
	// Time scale 20: Adobe's 10 action requests a minute become 10 in 3 s,
	// and the client paces itself to match (fixture.rate), so the 11th
	// request waits at most 3 s.
	f := newFixture(t, fixtureOpts{seed: consoleE2ESeed(), csv: consoleE2ECSV(), throttle: "realistic", timeScale: 20})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var errb strings.Builder
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb, getenv: func(k string) string {
		if k == "USERSYNC_DB" || k == "NO_COLOR" {
			return ""
		}
		return os.Getenv(k)
	}}
	sf, rf, _, code, ok := parseSync(e, "console", "console", []string{"-c", f.cfg, "--action-rate", f.rate}, nil)
	if !ok {
		t.Fatalf("parsing the console's flags: exit %d: %s", code, errb.String())
	}
	p, err := newPipeline(ctx, e, sf, rf, nil)
	if err != nil {
		t.Fatalf("newPipeline: %v", err)
	}
	defer p.close()
	db, err := p.openDB()
	if err != nil {
		t.Fatal(err)
	}
	dbOpen := true
	defer func() {
		if dbOpen {
			db.Close()
		}
	}()
	backend := p.consoleBackend(db)

	m := tui.NewModel(ctx, backend, tui.Options{Title: "e2e", NoColor: true, Output: io.Discard})
	d := &consoleDriver{t: t, ctx: ctx, m: m, msgs: make(chan tea.Msg, 256)}
	d.update(tea.WindowSizeMsg{Width: 100, Height: 30})
	d.run(m.Init())

	// Fetch and plan.
	view := d.until("the review", func(v string) bool { return onScreen(v, "Review") })
	// Each new user is a create and an add to the mapped groups; then ana's
	// group, bo's name, eve's group and cy leaving.
	wantChanges := 2*consoleE2ECreates + 4
	if want := fmt.Sprintf("%d changes", wantChanges); !strings.Contains(view, want) {
		t.Fatalf("review does not say %q:\n%s", want, view)
	}

	// Filter to bo, whose only change is his last name.
	d.press("/")
	d.typ("bo@example.org")
	d.press("enter")
	view = m.View()
	if sm := shownRe.FindStringSubmatch(view); sm == nil || sm[1] != "1" {
		t.Fatalf("filtering to bo@example.org shows %v rows; want 1:\n%s", sm, view)
	}
	if !strings.Contains(view, "~ update") || !strings.Contains(view, "bo@example.org") {
		t.Fatalf("the filtered row is not bo's update:\n%s", view)
	}
	d.press("space")
	view = m.View()
	if !strings.Contains(view, "1 excluded") || !rowMarked(view, "bo@example.org", "x") {
		t.Fatalf("after space, bo's update is not marked excluded:\n%s", view)
	}
	d.press("esc")
	view = m.View()
	if sm := shownRe.FindStringSubmatch(view); sm == nil || sm[1] != sm[2] {
		t.Fatalf("after esc, the filter still hides rows (%v):\n%s", sm, view)
	}

	// Approve: cy leaves the org, so the console wants that number typed.
	d.press("A")
	view = m.View()
	if !strings.Contains(view, "Type 1 and press enter") || !strings.Contains(view, "1 excluded changes are not sent") {
		t.Fatalf("approval dialog:\n%s", view)
	}
	d.typ("1")

	// Watch the Apply screen as every message lands.
	var throttleLine, progressLine string
	applyViews := 0
	d.onMsg = func(v string) {
		if !onScreen(v, "Apply") {
			return
		}
		applyViews++
		for _, l := range strings.Split(v, "\n") {
			if strings.Contains(l, "⏳ waiting") && throttleLine == "" {
				throttleLine = strings.TrimSpace(l)
			}
			if strings.HasPrefix(l, "Requests ") && !strings.HasPrefix(l, "Requests  0 sent") {
				progressLine = strings.TrimSpace(l)
			}
		}
	}
	applyStart := time.Now()
	d.press("enter")
	if view = m.View(); !onScreen(view, "Apply") {
		t.Fatalf("approving did not open the Apply screen:\n%s", view)
	}
	view = d.until("the summary with the history", func(v string) bool {
		return onScreen(v, "Summary") && strings.Contains(v, "Past runs") && !strings.Contains(v, "reading the history")
	})
	d.onMsg = nil
	applyTook := time.Since(applyStart)
	t.Logf("apply: %v, %d views; progress %q; throttle %q; simulator %+v", applyTook, applyViews, progressLine, throttleLine, f.srv.Stats())
	if throttleLine == "" {
		// Reported, not asserted: only if the first ten requests took
		// longer than the rate limit's window did none have to wait.
		t.Errorf("the Apply screen never showed a throttle wait (--action-rate %s; the apply took %v; simulator stats %+v)",
			f.rate, applyTook, f.srv.Stats())
	} else if !strings.Contains(throttleLine, "rate limit") && !strings.Contains(throttleLine, "Retry-After") {
		t.Errorf("throttle line %q names no cause", throttleLine)
	}
	if progressLine == "" {
		t.Errorf("the Apply screen never showed requests sent")
	}
	for _, want := range []string{
		fmt.Sprintf("✓ %d succeeded", wantChanges-1), "✗ 0 failed", "1 excluded", "console",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("summary lacks %q:\n%s", want, view)
		}
	}

	d.press("q")
	cancel()

	// The org holds every planned change but bo's update.
	want := map[string]orgUser{
		"ana@example.org":   {"Ana", "Ruiz", []string{"all apps", "design team"}},
		"bo@example.org":    {"Bo", "Old", []string{"all apps", "design team"}}, // the excluded update
		"eve@example.org":   {"Eve", "Ek", []string{}},
		"admin@example.org": {"Ad", "Min", []string{"_org_admin"}},
	}
	for i := range consoleE2ECreates {
		want[fmt.Sprintf("u%03d@example.org", i)] = orgUser{"U", fmt.Sprint(i), []string{"all apps", "design team"}}
	}
	if diff := cmp.Diff(want, orgUsers(f.srv.State())); diff != "" {
		t.Errorf("org after the console's apply (-want +got):\n%s", diff)
	}

	// The database recorded the run, its exclusion and its results.
	db.Close()
	dbOpen = false
	ro, err := store.Open(filepath.Join(f.dir, "usersync.db"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	runs, err := ro.Runs(0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs() = %+v, %v; want the console's run", runs, err)
	}
	run, err := ro.Run(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ro.Plan(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	boUpdate := -1
	for _, c := range plan.Changes {
		if c.Action == core.ActionUpdate && strings.EqualFold(c.User.Email, "bo@example.org") {
			boUpdate = c.ID
		}
	}
	if boUpdate < 0 {
		t.Fatalf("the stored plan has no update of bo:\n%+v", plan.Changes)
	}
	if run.Command != "console" || run.Status != store.StatusApplied || run.ExitCode != exitOK {
		t.Errorf("run = %s %s exit %d; want console applied exit 0", run.Command, run.Status, run.ExitCode)
	}
	if d := cmp.Diff([]int{boUpdate}, run.Excluded); d != "" {
		t.Errorf("run.Excluded (-want +got):\n%s", d)
	}
	if run.Changes != wantChanges || run.Succeeded != wantChanges-1 || run.Failed != 0 {
		t.Errorf("run counts: %d changes, %d succeeded, %d failed; want %d, %d, 0",
			run.Changes, run.Succeeded, run.Failed, wantChanges, wantChanges-1)
	}
	if run.Requests <= consoleE2ECreates/10 {
		t.Errorf("run.Requests = %d; want more than %d (a throttle window's worth)", run.Requests, consoleE2ECreates/10)
	}
	results, err := ro.Results(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	outcome := map[int]core.Outcome{}
	for _, r := range results {
		outcome[r.ChangeID] = r.Outcome
	}
	for _, c := range plan.Changes {
		got, sent := outcome[c.ID]
		switch {
		case c.ID == boUpdate && sent && got != core.OutcomeSkipped:
			t.Errorf("the excluded change %d has outcome %q", c.ID, got)
		case c.ID != boUpdate && got != core.OutcomeSucceeded:
			t.Errorf("change %d (%s %s) has outcome %q; want succeeded", c.ID, c.Action, c.Key, got)
		}
	}
}
