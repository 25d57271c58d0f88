package connectortest

import (
	"slices"
	"sync"

	"github.com/usersync/usersync/core"
)

// Recorder is a core.Reporter that keeps what a source tells it, for tests
// to check. It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	progress []core.Progress
	waits    []core.ThrottleWait
}

// Progress records a progress snapshot.
func (r *Recorder) Progress(p core.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, p)
}

// Throttled records a throttle or backoff wait.
func (r *Recorder) Throttled(w core.ThrottleWait) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, w)
}

// ChangeDone ignores change results: sources make none.
func (r *Recorder) ChangeDone(core.ChangeResult) {}

// Reports lists the progress snapshots received, in order.
func (r *Recorder) Reports() []core.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.progress)
}

// Waits lists the waits received, in order.
func (r *Recorder) Waits() []core.ThrottleWait {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.waits)
}
