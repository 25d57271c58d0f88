package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
)

// newTestReporter logs INFO and above into a buffer, one message a line.
func newTestReporter(jsonOut *bytes.Buffer) (*headlessReporter, *bytes.Buffer) {
	var logs bytes.Buffer
	lv := new(slog.LevelVar)
	log := slog.New(newUSTHandler(sink{&logs, lv}))
	var r *headlessReporter
	if jsonOut != nil {
		r = newHeadlessReporter(log, jsonOut, true)
	} else {
		r = newHeadlessReporter(log, nil, true)
	}
	return r, &logs
}

func messages(b *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if _, msg, ok := strings.Cut(l, " - "); ok {
			out = append(out, msg)
		}
	}
	return out
}

func TestReporterProgressLines(t *testing.T) {
	r, logs := newTestReporter(nil)
	clock := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	step := func(d time.Duration, p core.Progress) { clock = clock.Add(d); r.Progress(p) }
	apply := func(sent int, done bool) core.Progress {
		return core.Progress{Phase: core.PhaseApply, Org: "primary", RequestsSent: sent, RequestsTotal: 4, CommandsSucceeded: sent * 10, Done: done}
	}
	step(0, apply(1, false))
	step(100*time.Millisecond, apply(2, false)) // coalesced: within a second
	step(2*time.Second, apply(3, false))
	step(2*time.Second, apply(4, false))
	step(0, apply(4, true)) // the final report repeats the last line
	want := []string{
		"1/4 (25%) requests sent to primary: 10 commands succeeded, 0 failed",
		"3/4 (75%) requests sent to primary: 30 commands succeeded, 0 failed",
		"4/4 (100%) requests sent to primary: 40 commands succeeded, 0 failed",
	}
	if d := cmp.Diff(want, messages(logs)); d != "" {
		t.Errorf("progress lines (-want +got):\n%s", d)
	}
}

func TestReporterThrottleLines(t *testing.T) {
	var events bytes.Buffer
	r, logs := newTestReporter(&events)
	until := time.Date(2026, 11, 22, 4, 0, 6, 0, time.Local)
	r.Throttled(core.ThrottleWait{Org: "primary", Wait: 6 * time.Second, Until: until, Cause: "429 Retry-After"})
	r.Throttled(core.ThrottleWait{Org: "primary", Wait: 10 * time.Millisecond, Until: until, Cause: "rate limit"})
	want := []string{"primary: waiting 6s (429 Retry-After), until 04:00:06"}
	if d := cmp.Diff(want, messages(logs)); d != "" {
		t.Errorf("throttle lines (-want +got):\n%s", d)
	}
	if n := strings.Count(events.String(), `"type":"throttle"`); n != 2 {
		t.Errorf("%d throttle events; want 2 (every wait is an event)", n)
	}
}
