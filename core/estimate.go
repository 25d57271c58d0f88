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
	est := Estimate{PerOrg: map[string]int{}}
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
	if n <= 0 || rl.Requests <= 0 {
		return 0
	}
	return time.Duration((n-1)/rl.Requests) * rl.Window
}
