package tui_test

import (
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/usersync/usersync/tui"
	"github.com/usersync/usersync/tui/fake"
	"github.com/usersync/usersync/tui/tuitest"
)

// driver is tuitest's driver with the fake backend's clock and short names
// for the tests of this package.
type driver struct {
	*tuitest.Driver
	m     *tui.Model
	clock *fake.Clock
}

func newDriver(t testing.TB, b tui.Backend, clock *fake.Clock, w, h int) *driver {
	t.Helper()
	td := tuitest.New(t, b, tui.Options{Title: "demo", NoColor: true, Now: clock.Now}, w, h)
	return &driver{Driver: td, m: td.Model, clock: clock}
}

func (d *driver) update(msg any)                      { d.Send(msg) }
func (d *driver) until(what string, cond func() bool) { d.T.Helper(); d.Until(what, cond) }
func (d *driver) settle()                             { d.Settle() }
func (d *driver) press(ks ...string)                  { d.Press(ks...) }
func (d *driver) typ(s string)                        { d.Type(s) }
func (d *driver) screen() string                      { return d.m.Screen() }
func (d *driver) size() (int, int)                    { return d.Width, d.Height }
func (d *driver) quit() bool                          { return d.Quit }

// ready starts a console on b and waits for the review.
func ready(t testing.TB, b tui.Backend, clock *fake.Clock, w, h int) *driver {
	t.Helper()
	d := newDriver(t, b, clock, w, h)
	d.until("the review", func() bool { return d.screen() == "Review" })
	return d
}

func displayWidth(s string) int { return ansi.StringWidth(s) }
