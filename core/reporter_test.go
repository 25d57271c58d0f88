package core

import (
	"testing"
	"time"
)

func TestProgressGate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var g ProgressGate
	steps := []struct {
		after time.Duration
		final bool
		want  bool
	}{
		{0, false, true},                      // the first snapshot always goes out
		{10 * time.Millisecond, false, false}, // too soon
		{99 * time.Millisecond, false, false}, // still too soon
		{100 * time.Millisecond, false, true}, // an interval after the last one sent
		{120 * time.Millisecond, true, true},  // the final one always goes out
		{130 * time.Millisecond, false, false},
	}
	for _, s := range steps {
		if got := g.Allow(t0.Add(s.after), s.final); got != s.want {
			t.Errorf("Allow(t0+%v, %v) = %v; want %v", s.after, s.final, got, s.want)
		}
	}
}
