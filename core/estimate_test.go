package core

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEstimateRemaining(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rl := RateLimit{Requests: 10, Window: time.Minute}
	one := Estimate{Requests: 25, PerOrg: map[string]int{PrimaryOrg: 25}, RateLimit: rl}
	two := Estimate{Requests: 30, PerOrg: map[string]int{"sec": 5, PrimaryOrg: 25}, RateLimit: rl}
	orgs := []string{PrimaryOrg}
	both := []string{"sec", PrimaryOrg}
	wait := func(k WaitKind, d time.Duration) *ThrottleWait {
		return &ThrottleWait{Org: PrimaryOrg, Kind: k, Wait: d, Until: now.Add(d)}
	}
	ended := wait(WaitPacing, 20*time.Second)
	ended.End = true
	for _, tc := range []struct {
		name string
		est  Estimate
		orgs []string
		sent int
		w    *ThrottleWait
		want time.Duration
	}{
		{"before the first request, as EstimatePlan", one, orgs, 0, nil, 2 * time.Minute},
		{"within the first window", one, orgs, 5, nil, 2 * time.Minute},
		{"at the first window's edge, before the wait is known", one, orgs, 10, nil, 2 * time.Minute},
		{"pacing at the edge replaces that window", one, orgs, 10, wait(WaitPacing, 20*time.Second), 80 * time.Second},
		{"an ended wait counts as none", one, orgs, 10, ended, 2 * time.Minute},
		{"pacing before the last window", one, orgs, 20, wait(WaitPacing, 7*time.Second), 7 * time.Second},
		{"within the last window", one, orgs, 21, nil, 0},
		{"a 429 comes on top", one, orgs, 5, wait(WaitThrottled, 30*time.Second), 2*time.Minute + 30*time.Second},
		{"a back-off mid-window comes on top", one, orgs, 12, wait(WaitBackoff, 15*time.Second), time.Minute + 15*time.Second},
		{"all sent, a retry wait left", one, orgs, 25, wait(WaitBackoff, 4*time.Second), 4 * time.Second},
		{"all sent", one, orgs, 25, nil, 0},
		{"two orgs, before the first request, as EstimatePlan", two, both, 0, nil, 2 * time.Minute},
		{"two orgs, the first done", two, both, 5, nil, 2 * time.Minute},
		{"two orgs, pacing in the second", two, both, 15, wait(WaitPacing, 10*time.Second), 70 * time.Second},
	} {
		if got := tc.est.Remaining(tc.orgs, tc.sent, tc.w, now); got != tc.want {
			t.Errorf("%s: Remaining(%d sent) = %v; want %v", tc.name, tc.sent, got, tc.want)
		}
	}
}

// TestRemainingMatchesEstimatePlan guards the one formula: before anything
// is sent, the time left is the plan's estimate.
func TestRemainingMatchesEstimatePlan(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 11, 20, 21, 999} {
		var changes []Change
		for i := range n * 10 {
			changes = append(changes, Change{Action: ActionCreate, User: fed(fmt.Sprintf("u%05d@e.org", i)), Attrs: []AttrChange{{Name: "country", After: "US"}}})
		}
		p := planOf(nil, changes...)
		est := EstimatePlan(p, nil, RateLimit{Requests: 10, Window: time.Second})
		if got := est.Remaining(p.Orgs, 0, nil, time.Time{}); got != est.Duration {
			t.Errorf("%d requests: Remaining before the start = %v; EstimatePlan = %v", est.Requests, got, est.Duration)
		}
	}
}

// seqReporter records progress and waits in the order they arrive.
type seqReporter struct {
	mu     sync.Mutex
	events []string
}

func (r *seqReporter) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}
func (r *seqReporter) Progress(p Progress) {
	r.add(fmt.Sprintf("progress %d/%d", p.RequestsSent, p.RequestsTotal))
}
func (r *seqReporter) Throttled(w ThrottleWait) {
	r.add(fmt.Sprintf("wait %s end=%v", w.Kind, w.End))
}
func (r *seqReporter) ChangeDone(ChangeResult) {}

// TestApplyWaitsAreNotCoalesced: a wait start and end reach the reporter
// as the target reports them, and a progress snapshot that coalescing held
// back goes before the wait starts, so the counters shown during the wait
// are current.
func TestApplyWaitsAreNotCoalesced(t *testing.T) {
	var changes []Change
	for i := range 30 {
		changes = append(changes, Change{Action: ActionRemoveFromOrg, User: fed(fmt.Sprintf("u%02d@e.org", i))})
	}
	rep := &seqReporter{}
	target := &fakeTarget{wait: func(n int, r Reporter) {
		if n == 2 {
			w := ThrottleWait{Org: PrimaryOrg, Kind: WaitPacing, Wait: time.Second}
			r.Throttled(w)
			w.End = true
			r.Throttled(w)
		}
	}}
	// The clock never moves, so every snapshot after the first is held.
	_, err := Apply(context.Background(), planOf(nil, changes...), map[string]Target{PrimaryOrg: target},
		ApplyOptions{Reporter: rep, Clock: stillClock{time.Unix(1e9, 0)}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []string{"progress 1/3", "progress 2/3", "wait pacing end=false", "wait pacing end=true", "progress 3/3"}
	if diff := cmp.Diff(want, rep.events); diff != "" {
		t.Errorf("reported events (-want +got):\n%s", diff)
	}
}
