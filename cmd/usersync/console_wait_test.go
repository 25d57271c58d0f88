package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/tui"
)

// waitConsoleUsers is the number of new users in TestConsoleShowsPacingWait:
// enough requests for three rate-limit windows, so that the first pacing
// wait has another still to come.
const waitConsoleUsers = 210

var (
	waitLineRe = regexp.MustCompile(`⏳ waiting (\S+) \(pacing to the rate limit, org primary\)`)
	leftLineRe = regexp.MustCompile(`Time left ≈ (\S+) for the whole apply`)
	sentLineRe = regexp.MustCompile(`Requests  ([\d,]+) sent · ([\d,]+) left`)
)

// parseShown reads a duration the console rendered (7s, 1m05s, 2h03m).
func parseShown(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(strings.Replace(s, "m0", "m", 1))
	if err != nil {
		t.Fatalf("the console showed %q, not a duration: %v", s, err)
	}
	return d
}

// TestConsoleShowsPacingWait runs the real console model over the real
// backend against the simulator with realistic throttling, time-scaled,
// and looks at the Apply screen while the client paces itself to the rate
// limit: it must name the cause and the org, count down, and say how long
// the whole apply has left, the waits still to come included.
//
// The console's clock is the real one plus an offset the test moves, so
// the countdown is checked by moving that clock, never by sleeping or by
// measuring how long anything took.
func TestConsoleShowsPacingWait(t *testing.T) {
	// Time scale 12: Adobe's 10 action requests a minute become 10 in 5 s,
	// and the client paces itself to match (fixture.rate).
	seed := smallSeed()
	seed.Users = seed.Users[len(seed.Users)-1:] // the admin, protected by exclude_adobe_groups
	var csv strings.Builder
	csv.WriteString("firstname,lastname,email,country,groups\n")
	for i := range waitConsoleUsers {
		fmt.Fprintf(&csv, "W,%d,w%03d@example.org,US,Design\n", i, i)
	}
	f := newFixture(t, fixtureOpts{seed: seed, csv: csv.String(), throttle: "realistic", timeScale: 12})
	window := 5 * time.Second
	if f.rate != "10/5s" {
		t.Fatalf("the fixture paces to %s; the test expects 10/5s", f.rate)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var offset atomic.Int64 // nanoseconds the console's clock is ahead
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	m, closeBackend := waitConsoleModel(t, ctx, f, now)
	defer closeBackend()
	d := &consoleDriver{t: t, ctx: ctx, m: m, msgs: make(chan tea.Msg, 256)}
	d.update(tea.WindowSizeMsg{Width: 120, Height: 35})
	d.run(m.Init())

	d.until("the review", func(v string) bool { return onScreen(v, "Review") })
	d.press("A", "y")

	// The first view that shows a pacing wait is checked on the spot: the
	// model only changes when the driver hands it a message, so moving the
	// clock and rendering again shows the same wait, later.
	checked := false
	var shownUntil time.Time // the wait must stay on screen until then
	stayed := 0
	d.onMsg = func(v string) {
		if checked && now().Before(shownUntil) {
			// Nothing but the wait's own end takes it off the screen:
			// not the progress snapshot coalescing held back, not a tick.
			if !waitLineRe.MatchString(v) {
				t.Errorf("the pacing wait left the screen before its end:\n%s", v)
				shownUntil = time.Time{}
			}
			stayed++
		}
		if checked || !onScreen(v, "Apply") {
			return
		}
		wm := waitLineRe.FindStringSubmatch(v)
		if wm == nil {
			return
		}
		checked = true
		lm, sm := leftLineRe.FindStringSubmatch(v), sentLineRe.FindStringSubmatch(v)
		if lm == nil || sm == nil {
			t.Errorf("during a pacing wait the Apply screen lacks the time left or the requests:\n%s", v)
			return
		}
		wait, left := parseShown(t, wm[1]), parseShown(t, lm[1])
		if wait <= 0 || wait > window {
			t.Errorf("the countdown shows %v; want a wait within the %v window:\n%s", wait, window, v)
		}
		// More than a window's worth of requests is still to send: the time
		// left counts the wait still to come after this one.
		if toSend, _ := strconv.Atoi(strings.ReplaceAll(sm[2], ",", "")); toSend > 10 {
			if left < wait+window-time.Second {
				t.Errorf("time left %v with %s requests to send; want this wait (%v) and another window (%v):\n%s", left, sm[2], wait, window, v)
			}
		} else if left < wait {
			t.Errorf("time left %v is shorter than the wait in progress (%v):\n%s", left, wait, v)
		}
		// The countdown rounds up: the wait ends after a second less.
		shownUntil = now().Add(wait - time.Second)
		if wait < 2*time.Second {
			t.Logf("the wait was seen with %v left: too little to see it count down", wait)
			return
		}
		offset.Add(int64(time.Second))
		later := m.View()
		offset.Add(-int64(time.Second))
		wm2, lm2 := waitLineRe.FindStringSubmatch(later), leftLineRe.FindStringSubmatch(later)
		if wm2 == nil || lm2 == nil {
			t.Errorf("a second later the wait or the time left is gone:\n%s", later)
			return
		}
		if got := parseShown(t, wm2[1]); got != wait-time.Second {
			t.Errorf("a second later the countdown shows %v; want %v", got, wait-time.Second)
		}
		if got := parseShown(t, lm2[1]); got != left-time.Second {
			t.Errorf("a second later the time left is %v; want %v", got, left-time.Second)
		}
	}
	view := d.until("the summary", func(v string) bool { return onScreen(v, "Summary") })
	d.onMsg = nil
	if !checked {
		t.Fatalf("the Apply screen never showed a pacing wait (--action-rate %s; simulator %+v); last screen:\n%s", f.rate, f.srv.Stats(), view)
	}
	t.Logf("the wait stayed on screen for %d more views", stayed)
	if st := f.srv.Stats(); st.Throttled != 0 {
		t.Errorf("the simulator throttled %d requests; the client should have paced itself", st.Throttled)
	}
	users := orgUsers(f.srv.State())
	for i := range waitConsoleUsers {
		if u, ok := users[fmt.Sprintf("w%03d@example.org", i)]; !ok || len(u.Groups) != 2 {
			t.Errorf("w%03d@example.org after the apply: %+v, in the org %v; want both mapped groups", i, u, ok)
		}
	}
	d.press("q")
}

// waitConsoleModel is the console's model over the real backend: the
// pipeline the console command builds, on f's configuration, with the
// simulator's pace. The returned function closes what it opened.
func waitConsoleModel(t *testing.T, ctx context.Context, f *fixture, now func() time.Time) (*tui.Model, func()) {
	t.Helper()
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
	db, err := p.openDB()
	if err != nil {
		p.close()
		t.Fatal(err)
	}
	m := tui.NewModel(ctx, p.consoleBackend(db), tui.Options{Title: "wait", NoColor: true, Output: io.Discard, Now: now})
	return m, func() { db.Close(); p.close() }
}
