package tui_test

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
)

func TestFetchErrorThenRetry(t *testing.T) {
	e := newEnv(t, envOpts{secret: "not-the-secret"})
	d := newDriver(t, e.b, e.clock, 80, 24)
	d.until("the error", func() bool { _, _, err := d.m.FetchState(); return err != nil })
	view := d.m.View()
	for _, want := range []string{"✗ The fetch failed", "invalid_client", "What to fix: Check the credentials", "Press r"} {
		if !strings.Contains(view, want) {
			t.Errorf("fetch error view lacks %q:\n%s", want, view)
		}
	}
	d.press("2")
	if d.screen() != "Fetch" || !strings.Contains(d.m.Status(), "Not ready") {
		t.Errorf("2 before a plan: screen %s, status %q; want to stay on Fetch with a reason", d.screen(), d.m.Status())
	}
	d.press("r")
	if running, _, err := d.m.FetchState(); !running || err != nil {
		t.Errorf("after r: running %v, err %v; want a new fetch", running, err)
	}
	d.until("the error again", func() bool { _, _, err := d.m.FetchState(); return err != nil })
}

func TestFetchThrottleCountdown(t *testing.T) {
	e := newEnv(t, envOpts{wrap: throttleFirstRead("30")})
	clock := e.clock
	d := newDriver(t, e.b, clock, 80, 24)
	d.until("the throttle", func() bool { _, th, _ := d.m.FetchState(); return th })
	if v := d.m.View(); !strings.Contains(v, "waiting 30s (throttled by the server: HTTP 429, org primary") {
		t.Errorf("fetch view lacks the countdown:\n%s", v)
	}
	d.advance(30 * time.Second)
	d.until("the review", func() bool { return d.screen() == "Review" })
	if _, th, _ := d.m.FetchState(); th {
		t.Errorf("throttle still shown after the fetch")
	}
}

func TestReviewNavigation(t *testing.T) {
	d, _ := start(t, envOpts{})
	first := d.m.CursorChange().ID
	d.press("j", "j")
	if got := d.m.CursorChange(); got.ID == first {
		t.Errorf("j did not move the cursor")
	}
	d.press("G")
	if got, users := d.m.CursorChange(), d.m.ShownUsers(); got.User.Email != users[len(users)-1] {
		t.Errorf("G: cursor on %s; want the last row %s", got.User.Email, users[len(users)-1])
	}
	d.press("g")
	if got := d.m.CursorChange().ID; got != first {
		t.Errorf("g: cursor on change %d; want %d", got, first)
	}
	d.press("k") // stays at the top
	if got := d.m.CursorChange().ID; got != first {
		t.Errorf("k at the top moved the cursor to %d", got)
	}
	d.press("s")
	if d.m.Sort() != "user" || d.m.ShownUsers()[0] != "ana.ruiz@example.org" {
		t.Errorf("s: sort %s, first %s; want user order starting with ana", d.m.Sort(), d.m.ShownUsers()[0])
	}
	d.press("s", "s")
	if d.m.Sort() != "action" {
		t.Errorf("three s: sort %s; want back to action", d.m.Sort())
	}
	d.press("enter")
	if !d.m.Zoomed() {
		t.Errorf("enter did not open the detail")
	}
	d.press("esc")
	if d.m.Zoomed() {
		t.Errorf("esc did not close the detail")
	}
}

func TestReviewFilter(t *testing.T) {
	tests := []struct {
		query string
		want  int
	}{
		{"", 31},
		{"ana", 4}, // ana.ruiz and hana.sato: a create and a group add each
		{"user:ana.r", 2},
		{"action:delete", 4},
		{"action:create", 13}, // create and create_group
		{"org:secondary", 4},
		{"group:design", 6},
		{"group:design action:add", 5},
		{"example.org", 27},
		{"is:excluded", 0},
		{"nobody", 0},
	}
	d, _ := start(t, envOpts{})
	for _, tt := range tests {
		d.press("/")
		d.typ(tt.query)
		if !d.m.Typing() {
			t.Fatalf("/ did not start the filter")
		}
		if got := d.m.Shown(); got != tt.want {
			t.Errorf("filter %q shows %d; want %d (%v)", tt.query, got, tt.want, d.m.ShownUsers())
		}
		d.press("esc")
		if d.m.Typing() || d.m.Shown() != 31 {
			t.Errorf("esc after %q: typing %v, shown %d; want the whole plan", tt.query, d.m.Typing(), d.m.Shown())
		}
	}
	// Backspace widens the filter again.
	d.press("/")
	d.typ("ana")
	d.press("backspace", "backspace", "backspace")
	if d.m.Shown() != 31 {
		t.Errorf("after erasing the query, shown = %d; want 18", d.m.Shown())
	}
	// Keys typed into the filter are not commands.
	d.typ("q")
	if d.quit() || d.screen() != "Review" {
		t.Errorf("q typed in the filter quit or left the review")
	}
}

func TestReviewExclude(t *testing.T) {
	d, e := start(t, envOpts{})
	b := e.b
	before := d.m.Estimate()
	d.press("space")
	id := d.m.CursorChange().ID
	if !d.m.Excluded()[id] {
		t.Fatalf("space did not exclude change %d", id)
	}
	d.until("the new estimate", func() bool { return d.m.Estimate().Commands == before.Commands-1 })
	d.press("space")
	if len(d.m.Excluded()) != 0 {
		t.Errorf("second space did not include the change again")
	}

	// a excludes every shown change, then includes them again.
	d.press("/")
	d.typ("action:delete")
	d.press("enter", "a")
	if got := len(d.m.Excluded()); got != 4 {
		t.Errorf("a on 4 shown deletions excluded %d", got)
	}
	if v := d.m.View(); strings.Contains(v, "ACCOUNTS LEAVE") {
		t.Errorf("deletion banner still shown with every deletion excluded:\n%s", v)
	}
	d.press("a")
	if got := len(d.m.Excluded()); got != 0 {
		t.Errorf("second a left %d excluded", got)
	}

	// x remembers an exclusion in the backend; x again forgets it.
	d.press("x")
	c := d.m.CursorChange()
	ex, _ := b.Exclusions()
	if len(ex) != 1 || !ex[0].Matches(*c) {
		t.Fatalf("x remembered %v; want the exclusion of %s", ex, c.Key)
	}
	if !d.m.Excluded()[c.ID] {
		t.Errorf("a remembered exclusion does not exclude the change from this run")
	}
	d.press("space")
	if !strings.Contains(d.m.Status(), "remembered") || !d.m.Excluded()[c.ID] {
		t.Errorf("space on a remembered exclusion: status %q; want it kept, with a hint", d.m.Status())
	}
	d.press("x")
	if ex, _ := b.Exclusions(); len(ex) != 0 || d.m.Excluded()[c.ID] {
		t.Errorf("x on a remembered exclusion left %v", ex)
	}

	// E lists the remembered exclusions; d forgets one.
	d.press("x", "E")
	if v := d.m.View(); !strings.Contains(v, "Remembered exclusions") || !strings.Contains(v, c.Key) {
		t.Errorf("E view lacks the exclusion:\n%s", v)
	}
	d.press("d")
	if ex, _ := b.Exclusions(); len(ex) != 0 || len(d.m.Excluded()) != 0 {
		t.Errorf("d in the exclusions panel left %v", ex)
	}
	d.press("esc")
}

func TestRememberedExclusionsApplyOnNextFetch(t *testing.T) {
	e := newEnv(t, envOpts{})
	b, clock := e.b, e.clock
	if err := b.RememberExclusion(core.Exclusion{Org: core.PrimaryOrg, Key: "federatedID,zoe.adams@example.org,,zoe.adams@example.org"}); err != nil {
		t.Fatal(err)
	}
	d := ready(t, b, clock, 80, 24)
	if got := len(d.m.Excluded()); got != 1 {
		t.Errorf("a remembered exclusion excludes %d changes; want 1", got)
	}
	d.press("/")
	d.typ("is:remembered")
	if got := d.m.ShownUsers(); len(got) != 1 || got[0] != "zoe.adams@example.org" {
		t.Errorf("is:remembered shows %v; want zoe", got)
	}
	if v := d.m.View(); !strings.Contains(v, " R ") {
		t.Errorf("remembered exclusion not marked R:\n%s", v)
	}
}

func TestApproveWithoutDeletions(t *testing.T) {
	d, _ := start(t, envOpts{limit: "2"})
	d.press("A")
	if open, need := d.m.Dialog(); !open || need != 0 {
		t.Fatalf("Dialog() = %v, %d; want a y/N question", open, need)
	}
	d.press("n")
	if open, _ := d.m.Dialog(); open || d.screen() != "Review" {
		t.Errorf("n did not close the dialog")
	}
	d.press("G", "space")
	if st := d.m.Status(); !strings.Contains(st, "Withheld") {
		t.Errorf("space on a withheld change: status %q; want it explained", st)
	}
	d.press("A", "y")
	if d.screen() != "Apply" {
		t.Errorf("y did not start the apply: screen %s", d.screen())
	}
	d.until("the summary", func() bool { return d.screen() == "Summary" })
	d.press("2", "A")
	if open, _ := d.m.Dialog(); open || !strings.Contains(d.m.Status(), "has been applied") {
		t.Errorf("A on an applied plan: dialog %v, status %q; want a refusal", open, d.m.Status())
	}
	d.press("1", "r")
	d.until("a fresh review", func() bool { running, _, _ := d.m.FetchState(); return !running && d.screen() == "Review" })
	d.press("A")
	if open, _ := d.m.Dialog(); !open {
		t.Errorf("A on a fresh plan did not ask for approval")
	}
}

func TestApproveNothing(t *testing.T) {
	d, _ := start(t, envOpts{})
	d.press("a", "A")
	if open, _ := d.m.Dialog(); open || !strings.Contains(d.m.Status(), "Nothing to apply") {
		t.Errorf("A with everything excluded: dialog %v, status %q", open, d.m.Status())
	}
}

func TestMappingsKeys(t *testing.T) {
	d, _ := start(t, envOpts{})
	d.press("3")
	if d.screen() != "Mappings" {
		t.Fatalf("3: screen %s", d.screen())
	}
	if v := d.m.View(); !strings.Contains(v, "Design Team") || !strings.Contains(v, "✗ missing") {
		t.Errorf("mappings view:\n%s", v)
	}
	d.press("m")
	if !d.m.MissingOnly() {
		t.Fatalf("m did not filter")
	}
	if v := d.m.View(); strings.Contains(v, "Design Team") || !strings.Contains(v, "Contractor Access") {
		t.Errorf("missing-only view shows complete mappings or hides missing ones:\n%s", v)
	}
	d.press("j", "k", "m")
	if d.m.MissingOnly() {
		t.Errorf("second m did not show all again")
	}
}

func TestExplainKeys(t *testing.T) {
	d, _ := start(t, envOpts{})
	d.press("4")
	if d.screen() != "Explain" || !d.m.Typing() {
		t.Fatalf("4: screen %s, typing %v; want the explain input focused", d.screen(), d.m.Typing())
	}
	d.typ("ben.okafor@example.org")
	d.press("enter")
	d.until("the explanation", func() bool { return d.m.Explained() != nil })
	if v := d.m.View(); !strings.Contains(v, "selection") || !strings.Contains(v, "no such account") {
		t.Errorf("explain view:\n%s", v)
	}
	d.press("/")
	d.typ("x")
	d.press("esc")
	if d.m.Typing() {
		t.Errorf("esc did not leave the input")
	}
	d.press("/", "tab")
	if d.m.Typing() || d.screen() != "Apply" && d.screen() != "Summary" {
		t.Errorf("tab in the input: typing %v, screen %s; want the next screen", d.m.Typing(), d.screen())
	}

	// e on a review row explains that user.
	d.press("2", "G", "e")
	d.until("the explanation of zoe", func() bool { ex := d.m.Explained(); return ex != nil && ex.Query == "zoe.adams@example.org" })
	if d.screen() != "Explain" {
		t.Errorf("e: screen %s; want Explain", d.screen())
	}
	if v := d.m.View(); !strings.Contains(v, "Adobe-only") {
		t.Errorf("zoe's explanation lacks the Adobe-only step:\n%s", v)
	}
}

func TestApplyCancel(t *testing.T) {
	gate := make(chan struct{})
	d, e := start(t, envOpts{wrap: gateActions(gate), limit: "2", users: 40})
	d.press("A", "y")
	gate <- struct{}{} // the first request goes out
	d.until("the first result", func() bool {
		return strings.Contains(d.m.View(), "succeeded · ✗") && strings.Contains(d.m.View(), "1 sent")
	})
	d.press("c")
	if _, _, cancelling := d.m.Applying(); !cancelling {
		t.Fatalf("c did not cancel")
	}
	if v := d.m.View(); !strings.Contains(v, "finishing the request in flight") {
		t.Errorf("cancelling view:\n%s", v)
	}
	// A second request may have left before the cancel: let it through.
	close(gate)
	d.until("the summary", func() bool { return d.screen() == "Summary" })
	res := d.m.ApplyResult()
	if !res.Cancelled || len(res.NotSent) == 0 {
		t.Errorf("result = %+v; want cancelled with changes not sent", res)
	}
	o := e.b.Outcome()
	if got := e.actionRequests(t); o.Summary.Requests != got {
		t.Errorf("the run counts %d requests, the servers %d", o.Summary.Requests, got)
	}
	if got := len(succeeded(res)); got != o.Summary.Succeeded || got == 0 {
		t.Errorf("%d changes succeeded; the summary says %d", got, o.Summary.Succeeded)
	}
	if v := d.m.View(); !strings.Contains(v, "cancelled") {
		t.Errorf("summary does not say the run was cancelled:\n%s", v)
	}
}

func TestQuitConfirmDuringApply(t *testing.T) {
	gate := make(chan struct{})
	d, _ := start(t, envOpts{wrap: gateActions(gate), limit: "2"})
	d.press("A", "y", "q")
	if !d.m.ConfirmingQuit() {
		t.Fatalf("q during an apply did not ask")
	}
	if v := d.m.View(); !strings.Contains(v, "Quit anyway?") {
		t.Errorf("no question in the view:\n%s", v)
	}
	d.press("n")
	if d.m.ConfirmingQuit() || d.quit() {
		t.Fatalf("n did not keep the console")
	}
	d.press("q", "y")
	d.until("quit", func() bool { return d.quit() })
	close(gate) // the request in flight, if any, is answered
	if running, _, _ := d.m.Applying(); !running {
		t.Log("apply finished before quit")
	}
}

func TestQuitWithoutApply(t *testing.T) {
	d, _ := start(t, envOpts{})
	d.press("q")
	d.until("quit", func() bool { return d.quit() })
}

// TestKeysArrivingTogether checks that runes read in one go ("2e", as a
// script or a fast typist sends them) act as separate keys.
func TestKeysArrivingTogether(t *testing.T) {
	d, _ := start(t, envOpts{})
	d.press("3")
	d.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("2G")})
	if d.screen() != "Review" || d.m.CursorChange().User.Email != "zoe.adams@example.org" {
		t.Errorf("keys \"2G\" together: screen %s, cursor %v; want Review at the last row", d.screen(), d.m.CursorChange())
	}
}

func TestHelpAndTabs(t *testing.T) {
	d, _ := start(t, envOpts{})
	d.press("?")
	if d.screen() != "Help" {
		t.Fatalf("?: screen %s", d.screen())
	}
	d.press("j") // ignored while help is open
	d.press("esc")
	if d.screen() != "Review" {
		t.Errorf("esc from help: screen %s", d.screen())
	}
	d.press("tab")
	if d.screen() != "Mappings" {
		t.Errorf("tab: screen %s; want Mappings", d.screen())
	}
	d.press("shift+tab", "shift+tab")
	if d.screen() != "Fetch" {
		t.Errorf("shift+tab twice: screen %s; want Fetch", d.screen())
	}
	d.press("5")
	if d.screen() != "Fetch" || !strings.Contains(d.m.Status(), "approve") {
		t.Errorf("5 before any apply: screen %s, status %q", d.screen(), d.m.Status())
	}
	d.press("6")
	d.until("the history", func() bool { runs, _ := d.m.Runs(); return len(runs) == 1 })
	d.press("enter")
	d.until("the run", func() bool { _, r := d.m.Runs(); return r != nil })
	d.press("esc")
	if _, r := d.m.Runs(); r != nil {
		t.Errorf("esc did not close the run")
	}
}

// TestResize checks that every screen fills the terminal exactly, at any
// size, and never panics on tiny ones.
func TestResize(t *testing.T) {
	d, _ := start(t, envOpts{})
	for _, sz := range [][2]int{{80, 24}, {60, 20}, {132, 50}, {20, 5}, {1, 1}} {
		d.update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, k := range []string{"1", "2", "3", "4", "esc", "6", "?", "esc"} {
			d.press(k)
			d.settle()
			v := d.m.View()
			w, h := max(sz[0], 20), max(sz[1], 5)
			lines := strings.Split(v, "\n")
			if len(lines) != h {
				t.Errorf("%dx%d screen %s: %d lines; want %d", sz[0], sz[1], d.screen(), len(lines), h)
				continue
			}
			for i, l := range lines {
				if n := displayWidth(l); n != w {
					t.Errorf("%dx%d screen %s line %d: width %d; want %d", sz[0], sz[1], d.screen(), i, n, w)
					break
				}
			}
		}
	}
}

// TestFilterByHeaderWords: every action the review's header counts can be
// found with /action: and the header's own word for it.
func TestFilterByHeaderWords(t *testing.T) {
	d, _ := start(t, envOpts{})
	for _, tt := range []struct {
		query string
		want  int
	}{{"action:delete", 4}, {"action:update", 2}, {"action:+groups", 11}, {"action:new groups", 2}} {
		d.press("/")
		d.typ(tt.query)
		if got := d.m.Shown(); got != tt.want {
			t.Errorf("filter %q shows %d; want %d", tt.query, got, tt.want)
		}
		d.press("esc")
	}
}
