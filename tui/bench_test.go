package tui_test

import (
	"testing"
)

// BenchmarkFilter100k measures key handling (the keystroke's Update and the
// View that follows) with a 100,000-change plan in the review. Each op is
// one key and one View; the target is well under 50 ms.
func BenchmarkFilter100k(b *testing.B) {
	e := newEnv(b, envOpts{users: 100_000})
	d := ready(b, e.b, e.clock, 120, 40)
	if d.m.Shown() < 100_000 {
		b.Fatalf("shown = %d; want at least 100000", d.m.Shown())
	}

	b.Run("type-and-erase", func(b *testing.B) {
		// Typing "user0012" narrows at each key; erasing pops results.
		const query = "user0012"
		d.press("/")
		for i := 0; b.Loop(); i++ {
			if k := i % (2 * len(query)); k < len(query) {
				d.typ(query[k : k+1])
			} else {
				d.press("backspace")
			}
			_ = d.m.View()
		}
		d.press("esc")
	})
	b.Run("first-key", func(b *testing.B) {
		// The worst case: a first key scans all 100,000 rows.
		d.press("/")
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				d.typ("9")
			} else {
				d.press("backspace")
			}
			_ = d.m.View()
		}
		d.press("esc")
	})
	b.Run("field-term", func(b *testing.B) {
		// A query that does not extend the previous one is recomputed.
		d.press("/")
		d.typ("group:des")
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				d.typ("k") // group:desk: no match, from group:des's rows
			} else {
				d.press("backspace")
			}
			_ = d.m.View()
		}
		d.press("esc")
	})
	b.Run("move", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				d.press("j")
			} else {
				d.press("k")
			}
			_ = d.m.View()
		}
	})
	b.Run("exclude-all-shown", func(b *testing.B) {
		// a toggles 100,000 rows; the estimate is computed off the UI
		// goroutine and is not part of the key's cost.
		for i := 0; i < b.N; i++ {
			d.press("a")
			_ = d.m.View()
			b.StopTimer()
			d.until("the estimate", func() bool { return !d.m.Estimating() })
			b.StartTimer()
		}
	})
}
