package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults are the probabilities, per UMAPI request, of each injected fault.
// They are exclusive: one draw picks at most one fault per request.
type Faults struct {
	Gateway   float64       // 5xx: answer 502, 503 or 504 before processing
	Reset     float64       // reset: drop the connection without a reply
	Slow      float64       // slow: wait SlowDelay before processing
	Throttle  float64       // 429: answer 429 with Retry-After
	SlowDelay time.Duration // how long a slow request waits (default 2s)
}

// DefaultSlowDelay is how long a "slow" fault holds a request.
const DefaultSlowDelay = 2 * time.Second

// ParseFaults parses a fault spec such as "5xx=0.05,reset=0.01,slow=0.02,429=0.02".
// "slow-delay=500ms" sets SlowDelay. The probabilities must add up to at
// most 1.
func ParseFaults(spec string) (Faults, error) {
	f := Faults{SlowDelay: DefaultSlowDelay}
	if strings.TrimSpace(spec) == "" {
		return f, nil
	}
	for item := range strings.SplitSeq(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return f, fmt.Errorf("faults: %q is not KEY=VALUE", item)
		}
		if k == "slow-delay" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return f, fmt.Errorf("faults: slow-delay: %q is not a duration such as 500ms", v)
			}
			f.SlowDelay = d
			continue
		}
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1 {
			return f, fmt.Errorf("faults: %s: %q is not a probability between 0 and 1", k, v)
		}
		switch k {
		case "5xx":
			f.Gateway = p
		case "reset":
			f.Reset = p
		case "slow":
			f.Slow = p
		case "429":
			f.Throttle = p
		default:
			return f, fmt.Errorf("faults: unknown fault %q (want 5xx, reset, slow, 429 or slow-delay)", k)
		}
	}
	if f.Gateway+f.Reset+f.Slow+f.Throttle > 1 {
		return f, fmt.Errorf("faults: probabilities add up to more than 1")
	}
	return f, nil
}

type faultKind int

const (
	faultNone faultKind = iota
	faultGateway
	faultResetBefore // connection dropped before the request is processed
	faultResetAfter  // request processed (an action applied), then dropped
	faultSlow
	faultThrottle
)

// fault is one drawn fault; status is the 5xx code for faultGateway.
type fault struct {
	kind   faultKind
	status int
}

// injector draws faults from a seeded generator, so that the same seed and
// the same sequence of requests give the same faults.
type injector struct {
	mu  sync.Mutex
	f   Faults
	rng *rand.Rand
}

func newInjector(f Faults, seed int64) *injector {
	return &injector{f: f, rng: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x5eed))}
}

func (in *injector) active() bool {
	return in.f.Gateway+in.f.Reset+in.f.Slow+in.f.Throttle > 0
}

// draw picks the fault for one request. It always consumes the same number
// of random values, so one request's outcome never shifts the next's.
func (in *injector) draw() fault {
	if !in.active() {
		return fault{}
	}
	in.mu.Lock()
	u, sub := in.rng.Float64(), in.rng.Float64()
	in.mu.Unlock()
	f := in.f
	switch {
	case u < f.Gateway:
		return fault{kind: faultGateway, status: []int{502, 503, 504}[int(sub*3)%3]}
	case u < f.Gateway+f.Reset:
		if sub < 0.5 {
			return fault{kind: faultResetBefore}
		}
		return fault{kind: faultResetAfter}
	case u < f.Gateway+f.Reset+f.Slow:
		return fault{kind: faultSlow}
	case u < f.Gateway+f.Reset+f.Slow+f.Throttle:
		return fault{kind: faultThrottle}
	}
	return fault{}
}
