// Package tuitest drives the console's model in tests, the way bubbletea
// would but without a terminal: Cmds run in goroutines, their messages come
// back through one channel and are handed to Update on the test's
// goroutine, so the model is never touched concurrently. Tests then press
// keys, wait for text or state, and read View.
//
//	d := tuitest.New(t, backend, tui.Options{NoColor: true}, 80, 24)
//	d.WaitFor("[2 Review]")
//	d.Press("/")
//	d.Type("action:delete")
package tuitest

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/tui"
)

// Timeout bounds every wait; a test that hits it fails with the screen.
var Timeout = 30 * time.Second

// Driver runs one console model.
type Driver struct {
	T     testing.TB
	Model *tui.Model
	// Quit is set once the model has asked to quit.
	Quit bool
	// Width and Height are the terminal size.
	Width, Height int

	msgs chan tea.Msg
}

// New starts a console on b at w×h. Unless opts.Tick is set, countdowns
// are not redrawn on their own (read them after an event or from
// opts.Now). The model's background work ends with the test.
func New(t testing.TB, b tui.Backend, opts tui.Options, w, h int) *Driver {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if opts.Tick == nil {
		opts.Tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	}
	d := &Driver{T: t, Model: tui.NewModel(ctx, b, opts), Width: w, Height: h, msgs: make(chan tea.Msg, 256)}
	d.Send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(d.Model.Init())
	return d
}

func (d *Driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { d.msgs <- cmd() }()
}

// Send hands msg to the model and starts the Cmd it returns.
func (d *Driver) Send(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
		return
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	case tea.QuitMsg:
		d.Quit = true
		return
	}
	_, cmd := d.Model.Update(msg)
	d.run(cmd)
}

// Until processes messages until cond holds, failing the test after
// Timeout.
func (d *Driver) Until(what string, cond func() bool) {
	d.T.Helper()
	deadline := time.After(Timeout)
	// cond may turn true without a message (a backend goroutine starting
	// a wait on the test clock), so it is checked again every few
	// milliseconds as well as after every message.
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case msg := <-d.msgs:
			d.Send(msg)
		case <-poll.C:
		case <-deadline:
			d.T.Fatalf("timed out waiting for %s; the screen was:\n%s", what, d.Model.View())
		}
	}
}

// WaitFor processes messages until the screen shows text.
func (d *Driver) WaitFor(text string) {
	d.T.Helper()
	d.Until(text, func() bool { return strings.Contains(d.Model.View(), text) })
}

// Settle processes the messages that arrive within a short quiet period.
func (d *Driver) Settle() {
	for {
		select {
		case msg := <-d.msgs:
			d.Send(msg)
		case <-time.After(20 * time.Millisecond):
			return
		}
	}
}

// Key returns the message bubbletea sends for a key: a name such as
// "enter", "esc", "space", "tab", "shift+tab", "up", "down", "backspace",
// "ctrl+c", "pgup", "pgdown", "home", "end", or the text typed.
func Key(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab,
		"shift+tab": tea.KeyShiftTab, "up": tea.KeyUp, "down": tea.KeyDown, "backspace": tea.KeyBackspace,
		"ctrl+c": tea.KeyCtrlC, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if k == "space" {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	if t, ok := named[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// Press sends keys one after another (see Key).
func (d *Driver) Press(keys ...string) {
	for _, k := range keys {
		d.Send(Key(k))
	}
}

// Type types text, one rune at a time.
func (d *Driver) Type(s string) {
	for _, r := range s {
		d.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// View is the screen as the terminal would show it.
func (d *Driver) View() string { return d.Model.View() }
