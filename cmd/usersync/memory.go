package main

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// defaultMemoryLimit is the soft memory limit usersync gives the Go
// runtime when GOMEMLIMIT does not set one. A million-user plan holds
// about 700 MB of live data at its peak; with the collector's default
// (collect when the heap has doubled) it would reach twice that. Under the
// limit the collector runs more often instead, which costs a few CPU
// seconds at that size and nothing for smaller directories, whose heap
// never comes near it.
const defaultMemoryLimit = 900 << 20

// gcShareLimit is the share of the CPU the collector may take, over
// gcWindows windows of gcWindow in a row, before the limit is given up:
// when live data comes near the limit (a bigger org, an extension hook
// building every user's source attributes) holding it would cost far more
// CPU than the memory is worth, and the heap is left to grow as Go's
// default lets it. A million-user plan without a hook passes the share for
// a second at most, near its end.
const (
	gcShareLimit = 0.4
	gcWindow     = time.Second
	gcWindows    = 3
)

var memoryWatch sync.Once

// limitMemory sets defaultMemoryLimit unless GOMEMLIMIT or an earlier
// call set a limit, and watches the collector's share of the CPU.
func limitMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
	memoryWatch.Do(func() { go watchCollector(gcWindow) })
}

// watchCollector lifts the memory limit once the collector has taken more
// than gcShareLimit of the CPU time (as the runtime counts it: GOMAXPROCS
// times the time elapsed) in gcWindows windows in a row.
func watchCollector(window time.Duration) {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(s)
	gc0, all0 := s[0].Value.Float64(), s[1].Value.Float64()
	busy := 0
	for range time.Tick(window) {
		if debug.SetMemoryLimit(-1) != defaultMemoryLimit {
			return // someone else set a limit since
		}
		metrics.Read(s)
		gc, all := s[0].Value.Float64(), s[1].Value.Float64()
		if all > all0 && (gc-gc0)/(all-all0) > gcShareLimit {
			busy++
		} else {
			busy = 0
		}
		if busy == gcWindows {
			debug.SetMemoryLimit(math.MaxInt64)
			return
		}
		gc0, all0 = gc, all
	}
}
