package core

import "time"

// EstimatePlan says what applying p (without the changes in exclude) costs:
// the requests BuildRequests packs, per org, and how long they take at the
// rate limit rl (DefaultRateLimit when rl is zero).
//
// Each org is its own client with its own budget, and orgs are applied one
// after the other, so the durations add up. Within an org the first
// rl.Requests requests go at once and each further batch waits a window:
// n requests take (ceil(n/rl.Requests) - 1) windows. The time the server
// takes to answer is not included.
func EstimatePlan(p *Plan, exclude map[int]bool, rl RateLimit) Estimate {
	if rl.Requests <= 0 || rl.Window <= 0 {
		rl = DefaultRateLimit
	}
	est := Estimate{PerOrg: map[string]int{}, RateLimit: rl}
	for _, r := range BuildRequests(p, exclude) {
		est.Requests++
		est.Commands += len(r.Request.Commands)
		est.PerOrg[r.Org]++
	}
	for _, n := range est.PerOrg {
		est.Duration += RateLimitedDuration(n, rl)
	}
	return est
}

// RateLimitedDuration is how long n requests take under rl when the first
// rl.Requests go at once.
func RateLimitedDuration(n int, rl RateLimit) time.Duration {
	return remainingInOrg(n, 0, rl, nil, time.Time{})
}

// Remaining estimates the time left in an apply that e describes, once
// sent of its requests have been answered, while w waits (nil when no wait
// is in progress; only w's start matters, an ended wait is no wait). orgs
// is the order the orgs are applied in (Plan.Orgs); sent counts across all
// of them, as the executor's progress does.
//
// It is EstimatePlan's arithmetic from where the apply stands: the rest of
// the wait in progress, then the windows the requests still to send must
// wait for at e.RateLimit, org by org. A pacing wait at a window's edge is
// that window's wait, so it replaces it; a 429 or back-off wait comes on
// top. Waits still to come for server errors cannot be foreseen and are
// not counted.
func (e Estimate) Remaining(orgs []string, sent int, w *ThrottleWait, now time.Time) time.Duration {
	rl := e.RateLimit
	if rl.Requests <= 0 || rl.Window <= 0 {
		rl = DefaultRateLimit
	}
	if w != nil && w.End {
		w = nil
	}
	var d time.Duration
	applying := false
	for _, org := range orgs {
		n := e.PerOrg[org]
		done := min(sent, n)
		sent -= done
		if done == n {
			continue // every request sent, or none planned
		}
		// The first org with requests left is the one being applied, and
		// the wait in progress is its.
		var ow *ThrottleWait
		if !applying {
			ow, applying = w, true
		}
		d += remainingInOrg(n, done, rl, ow, now)
	}
	if !applying && w != nil {
		// Every estimated request was sent (a resend of failures, say):
		// only the wait is left.
		d += max(w.Until.Sub(now), 0)
	}
	return d
}

// remainingInOrg is how long the rest of n requests to one org takes under
// rl once sent of them were answered: the windows still to wait for, the
// first of them replaced by w when w is a pacing wait at that window's
// edge. Request i goes in the batch i/rl.Requests, and batch k may start a
// window after batch k-1.
func remainingInOrg(n, sent int, rl RateLimit, w *ThrottleWait, now time.Time) time.Duration {
	if rl.Requests <= 0 {
		return 0
	}
	var wait time.Duration
	if w != nil {
		wait = max(w.Until.Sub(now), 0)
	}
	if sent >= n {
		return wait
	}
	windows := (n-1)/rl.Requests - sent/rl.Requests
	edge := sent > 0 && sent%rl.Requests == 0
	if edge {
		windows++ // the next batch's window is still ahead
	}
	d := time.Duration(windows) * rl.Window
	if w != nil {
		if w.Kind == WaitPacing && edge {
			d -= rl.Window
		}
		d += wait
	}
	return d
}
