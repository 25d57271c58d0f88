package main

import (
	"bytes"
	"encoding/json"
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
	waits := []core.ThrottleWait{
		{Org: "primary", Kind: core.WaitThrottled, Status: 429, Wait: 6 * time.Second, Until: until, Cause: "429 Retry-After", Attempt: 1},
		{Org: "primary", Kind: core.WaitPacing, Wait: 10 * time.Millisecond, Until: until, Cause: "rate limit"},
		{Org: "primary", Kind: core.WaitPacing, Wait: 2700 * time.Millisecond, Until: until, Cause: "rate limit"},
		{Org: "sec", Kind: core.WaitBackoff, Status: 503, Wait: 15 * time.Second, Until: until, Cause: "503 backoff", Attempt: 2},
		// A directory's wait (Okta, Entra, Google) names no org.
		{Wait: 5 * time.Second, Until: until, Cause: "okta 429 rate limit", Attempt: 1},
	}
	for _, w := range waits {
		r.Throttled(w)
		w.End = true
		r.Throttled(w)
	}
	want := []string{
		"primary: waiting 6s (throttled by the server: HTTP 429), until 04:00:06",
		"primary: waiting 2.7s (pacing to the rate limit), until 04:00:06",
		"sec: waiting 15s (backing off after HTTP 503), until 04:00:06",
		"directory: waiting 5s (okta 429 rate limit), until 04:00:06",
	}
	if d := cmp.Diff(want, messages(logs)); d != "" {
		t.Errorf("throttle lines (-want +got):\n%s", d)
	}
	// Every wait is an event, and so is its end, with the same fields.
	type event struct {
		Type string `json:"type"`
		Data struct {
			Org     string  `json:"org"`
			Kind    string  `json:"kind"`
			Status  int     `json:"status"`
			Cause   string  `json:"cause"`
			Reason  string  `json:"reason"`
			Seconds float64 `json:"seconds"`
			End     bool    `json:"end"`
		} `json:"data"`
	}
	var got []event
	dec := json.NewDecoder(&events)
	for dec.More() {
		var e event
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 2*len(waits) {
		t.Fatalf("%d events; want %d", len(got), 2*len(waits))
	}
	for i, e := range got {
		w := waits[i/2]
		wantType := []string{"throttle", "throttle_end"}[i%2]
		if e.Type != wantType || e.Data.Kind != string(w.Kind) || e.Data.Status != w.Status || e.Data.Cause != w.Cause ||
			e.Data.Reason != w.Reason() || e.Data.Seconds != w.Wait.Seconds() || e.Data.End != (i%2 == 1) {
			t.Errorf("event %d = %+v; want %s of %+v", i, e, wantType, w)
		}
	}
}
