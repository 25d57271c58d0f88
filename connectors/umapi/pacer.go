package umapi

import (
	"context"
	"sync"
	"time"

	"github.com/usersync/usersync/core"
)

// pacer keeps action requests within "at most N in any window": a sliding
// log of the last N requests. It lets a burst of N go at once and then
// waits until the oldest leaves the window, which is the most a server
// enforcing either a fixed or a sliding window accepts.
//
// A request is logged at the moment its answer arrived, not when it was
// sent: the server counted it somewhere in between, so measuring from the
// answer can never undercut the server's window, whatever the latency.
type pacer struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	log    []*time.Time
}

func newPacer(rl core.RateLimit) *pacer {
	return &pacer{n: rl.Requests, window: rl.Window}
}

// wait blocks until a request may be sent and reserves its place in the
// log; the caller calls the returned function once the answer (or an
// error) arrived. report is told about each wait before it starts and
// again (end) once it is over or ctx is cancelled during it.
func (p *pacer) wait(ctx context.Context, clock core.Clock, report func(d time.Duration, until time.Time, end bool)) (func(), error) {
	for {
		p.mu.Lock()
		now := clock.Now()
		kept := p.log[:0]
		var oldest time.Time
		for _, t := range p.log {
			if t.IsZero() || t.After(now.Add(-p.window)) {
				kept = append(kept, t)
				if !t.IsZero() && (oldest.IsZero() || t.Before(oldest)) {
					oldest = *t
				}
			}
		}
		clear(p.log[len(kept):])
		p.log = kept
		if len(p.log) < p.n {
			slot := &time.Time{} // zero while in flight: it holds its place
			p.log = append(p.log, slot)
			p.mu.Unlock()
			return func() {
				p.mu.Lock()
				*slot = clock.Now()
				p.mu.Unlock()
			}, nil
		}
		p.mu.Unlock()
		var d time.Duration
		until := oldest.Add(p.window)
		if oldest.IsZero() {
			// Every slot is in flight (concurrent senders): look again soon.
			d, until = p.window/100, now.Add(p.window/100)
		} else {
			d = until.Sub(now)
		}
		report(d, until, false)
		select {
		case <-ctx.Done():
			report(d, until, true)
			return nil, ctx.Err()
		case <-clock.After(d):
			report(d, until, true)
		}
	}
}
