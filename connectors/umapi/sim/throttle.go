package sim

import (
	"sync"
	"time"
)

// limitClass is a family of endpoints sharing one documented per-client
// rate limit (§5.2).
type limitClass int

const (
	classAction limitClass = iota // POST /action
	classUsers                    // user lists and single-user reads
	classGroups                   // GET /groups
	numClasses
)

// perMinute holds the documented per-client limits, in requests a minute.
var perMinute = [numClasses]int{classAction: 10, classUsers: 25, classGroups: 5}

// limiter enforces "at most N requests in any window" per client and class:
// a sliding-window log, so a client may burst up to the limit and then has
// to wait until its oldest request leaves the window. Rejected requests are
// not recorded, so a client that honours Retry-After is never punished for
// having been told to wait.
type limiter struct {
	mu     sync.Mutex
	window time.Duration
	log    map[limiterKey][]time.Time
}

type limiterKey struct {
	client string
	class  limitClass
}

func newLimiter(window time.Duration) *limiter {
	return &limiter{window: window, log: map[limiterKey][]time.Time{}}
}

// allow records a request at now and reports true, or reports false and how
// long until the request would be allowed.
func (l *limiter) allow(client string, c limitClass, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := limiterKey{client, c}
	times := l.log[k]
	cut := 0
	for cut < len(times) && !times[cut].After(now.Add(-l.window)) {
		cut++
	}
	times = times[cut:]
	if len(times) >= perMinute[c] {
		l.log[k] = times
		return false, times[0].Add(l.window).Sub(now)
	}
	l.log[k] = append(times, now)
	return true, 0
}

func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.log)
}
