package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkCreates10k sends 10,000 createFederatedID commands, 10 a
// request, 1,000 requests over real HTTP, throttling off.
func BenchmarkCreates10k(b *testing.B) {
	bodies := make([]string, 1000)
	for r := range bodies {
		var sb strings.Builder
		sb.WriteString("[")
		for i := range 10 {
			if i > 0 {
				sb.WriteString(", ")
			}
			n := r*10 + i
			fmt.Fprintf(&sb, `{"do": [{"createFederatedID": {"email": "c%05d@example.org", "country": "US", "firstname": "C", "lastname": "N", "option": "ignoreIfAlreadyExists"}}, {"add": {"group": ["Design Team"]}}], "requestID": "action_%d", "user": "c%05d@example.org"}`, n, n, n)
		}
		sb.WriteString("]")
		bodies[r] = sb.String()
	}
	for b.Loop() {
		b.StopTimer()
		c := newTestSim(b, Options{})
		b.StartTimer()
		for _, body := range bodies {
			req, _ := http.NewRequest("POST", c.base+"/v2/usermanagement/action/"+testOrg, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+c.token)
			req.Header.Set("X-Api-Key", c.key)
			resp, err := c.hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		b.StopTimer()
		if got := c.sim.Stats().Commands; got != 10000 {
			b.Fatalf("commands = %d; want 10000", got)
		}
		if got := len(c.sim.State().Users); got != 10005 {
			b.Fatalf("users = %d; want 10005", got)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "µs/request")
}

// BenchmarkMillionUsers builds a 1,000,000-user org from a seed and pages
// through all of it (500 pages of 2,000) over real HTTP, reporting the
// heap the org adds.
func BenchmarkMillionUsers(b *testing.B) {
	seed := bigSeed(1_000_000)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := newTestSim(b, Options{Seed: seed})
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "orgMB")
		// Count by the paging headers: the client's JSON decoding is not
		// the simulator's cost.
		total := 0
		st := time.Now()
		for page := 0; ; page++ {
			resp, _ := c.do("GET", fmt.Sprintf("/users/%s/%d", testOrg, page), "")
			n, _ := strconv.Atoi(resp.Header.Get("X-Page-Size"))
			total += n
			if resp.Header.Get("X-Current-Page") == strconv.Itoa(page) && page+1 == atoi(resp.Header.Get("X-Page-Count")) {
				break
			}
		}
		b.ReportMetric(time.Since(st).Seconds(), "pagingSec")
		if total != 1_000_000 {
			b.Fatalf("paged %d users; want 1,000,000", total)
		}
	}
}

// BenchmarkMillionUserSeedFile parses a 1,000,000-user seed document and
// builds the org, as `usersync sim --seed` does.
func BenchmarkMillionUserSeedFile(b *testing.B) {
	data, err := json.Marshal(bigSeed(1_000_000))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s, err := ParseSeed(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := New(Options{Seed: s}); err != nil {
			b.Fatal(err)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
