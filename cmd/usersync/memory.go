package main

import (
	"math"
	"runtime/debug"
)

// defaultMemoryLimit is the soft memory limit usersync gives the Go
// runtime when GOMEMLIMIT does not set one. A million-user run holds
// about 850 MB of live data while it plans; with the collector's default
// (collect when the heap has doubled) it would reach twice that. Under the
// limit the collector runs more often instead, which costs a few CPU
// seconds at that size and nothing for smaller directories, whose heap
// never comes near it. An org whose live data exceeds the limit still
// syncs (the limit is soft and the runtime caps the collector's share of
// the CPU); give it room with GOMEMLIMIT, e.g. GOMEMLIMIT=3GiB.
const defaultMemoryLimit = 900 << 20

// limitMemory sets defaultMemoryLimit unless GOMEMLIMIT or an earlier
// call set a limit.
func limitMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}
