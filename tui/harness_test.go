package tui_test

import (
	"context"

	"github.com/charmbracelet/x/ansi"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/tui"
	"github.com/usersync/usersync/tui/fake"
)

// driver runs a console model the way bubbletea would, minus the terminal:
// Cmds run in goroutines, their messages come back through one channel and
// are handed to Update on the test's goroutine.
type driver struct {
	t     testing.TB
	m     *tui.Model
	msgs  chan tea.Msg
	quit  bool
	clock *fake.Clock
	w, h  int
}

func newDriver(t testing.TB, b tui.Backend, clock *fake.Clock, w, h int) *driver {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := tui.NewModel(ctx, b, tui.Options{Title: "demo", NoColor: true, Now: clock.Now})
	// No tick loop: countdowns are computed from the clock at View time.
	m.SetTick(func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil })
	d := &driver{t: t, m: m, msgs: make(chan tea.Msg, 256), clock: clock, w: w, h: h}
	d.update(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(m.Init())
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { d.msgs <- cmd() }()
}

// update hands msg to the model and starts the Cmd it returns.
func (d *driver) update(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	case tea.QuitMsg:
		d.quit = true
		return
	}
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

// until processes messages until cond holds.
func (d *driver) until(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-d.msgs:
			d.update(msg)
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s; screen:\n%s", what, d.m.View())
		}
	}
}

// settle processes the messages already queued, without waiting for more.
func (d *driver) settle() {
	for {
		select {
		case msg := <-d.msgs:
			d.update(msg)
		case <-time.After(20 * time.Millisecond):
			return
		}
	}
}

// keyMsg turns a key name into the message bubbletea would send.
func keyMsg(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "space": tea.KeySpace, "tab": tea.KeyTab,
		"shift+tab": tea.KeyShiftTab, "up": tea.KeyUp, "down": tea.KeyDown, "backspace": tea.KeyBackspace,
		"ctrl+c": tea.KeyCtrlC, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if t, ok := named[k]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
		}
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// press sends keys, one after another.
func (d *driver) press(ks ...string) {
	for _, k := range ks {
		d.update(keyMsg(k))
	}
}

// typ types text, one rune at a time.
func (d *driver) typ(s string) {
	for _, r := range s {
		d.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func (d *driver) screen() string { return d.m.ScreenName() }

// ready starts a console on b and waits for the review.
func ready(t testing.TB, b tui.Backend, clock *fake.Clock, w, h int) *driver {
	t.Helper()
	d := newDriver(t, b, clock, w, h)
	d.until("the review", func() bool { return d.screen() == "Review" })
	return d
}

func (d *driver) size() (int, int) { return d.w, d.h }

func displayWidth(s string) int { return ansi.StringWidth(s) }
