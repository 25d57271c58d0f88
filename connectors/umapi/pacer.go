package umapi

import (
	"context"
	"sync"
	"time"

	"github.com/usersync/usersync/core"
)

// pacer keeps action requests within "at most N in any window": a sliding
// log of the last N send times. It lets a burst of N go at once and then
// waits until the oldest send leaves the window, which is the most a
// server enforcing either a fixed or a sliding window accepts.
type pacer struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	sent   []time.Time
}

func newPacer(rl core.RateLimit) *pacer {
	// A 1% margin absorbs the difference between when we send and when
	// the server counts the request.
	return &pacer{n: rl.Requests, window: rl.Window + rl.Window/100}
}

// wait blocks until a request may be sent and records it as sent. report
// is told about each wait before it starts.
func (p *pacer) wait(ctx context.Context, clock core.Clock, report func(d time.Duration, until time.Time)) error {
	for {
		p.mu.Lock()
		now := clock.Now()
		cut := 0
		for cut < len(p.sent) && !p.sent[cut].After(now.Add(-p.window)) {
			cut++
		}
		p.sent = p.sent[cut:]
		if len(p.sent) < p.n {
			p.sent = append(p.sent, now)
			p.mu.Unlock()
			return nil
		}
		until := p.sent[0].Add(p.window)
		p.mu.Unlock()
		d := until.Sub(now)
		report(d, until)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.After(d):
		}
	}
}
