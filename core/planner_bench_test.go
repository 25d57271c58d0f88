package core

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// peakRSSKiB reads the process's peak resident set size (VmHWM) on Linux;
// 0 elsewhere.
func peakRSSKiB() int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// millionSnapshot generates n directory users and n Adobe users over 20
// mapped groups, with 2% drift on each side: 2% of directory users have
// no account, 2% of accounts have no directory user, and 2% of matched
// users have a changed membership or name.
func millionSnapshot(n int) (*Snapshot, *Options) {
	const groups = 20
	o := &Options{
		Strategy: StrategySync, Users: UsersAll, AdobeUsers: AdobeUsersAll,
		ProcessGroups: true, UpdateUserInfo: true, AdobeOnlyAction: AdobeOnlyPreserve,
		DefaultIdentityType: FederatedID, DefaultCountry: "US",
		MaxAdobeOnly:       Limit{Set: true, IsPercent: true, Percent: 5, Text: "5%"},
		ExcludeAdobeGroups: []string{"_org_admin"},
	}
	dirGroup := make([]string, groups)
	adobeGroup := make([]string, groups)
	for g := range groups {
		dirGroup[g] = "Dept " + strconv.Itoa(g)
		adobeGroup[g] = "Profile " + strconv.Itoa(g)
		o.GroupMapping = append(o.GroupMapping, GroupMapping{DirectoryGroup: dirGroup[g], AdobeGroups: []string{adobeGroup[g]}})
	}
	drift := n / 50
	dir := make([]DirectoryUser, 0, n)
	adobe := make([]AdobeUser, 0, n)
	for i := range n {
		email := "user" + strconv.Itoa(i) + "@example.com"
		g1, g2 := i%groups, (i/groups)%groups
		d := DirectoryUser{Type: FederatedID, Username: email, Email: email, Firstname: "First" + strconv.Itoa(i%1000),
			Lastname: "Last", Country: "US", Groups: []string{dirGroup[g1], dirGroup[g2]}}
		a := AdobeUser{Type: FederatedID, Username: email, Email: email, Firstname: d.Firstname, Lastname: "Last",
			Country: "US", Groups: []string{adobeGroup[g1], adobeGroup[g2]}, Status: "active"}
		switch {
		case i < drift: // directory only: created
			dir = append(dir, d)
			continue
		case i < 2*drift: // Adobe only
			adobe = append(adobe, a)
			continue
		case i < 3*drift: // membership drift
			a.Groups = []string{adobeGroup[(g1+1)%groups]}
		case i < 4*drift/1: // name drift
			a.Firstname = "Old"
		}
		dir = append(dir, d)
		adobe = append(adobe, a)
	}
	for i := n; len(dir) < n; i++ {
		email := "extra" + strconv.Itoa(i) + "@example.com"
		dir = append(dir, DirectoryUser{Type: FederatedID, Username: email, Email: email, Country: "US", Groups: []string{dirGroup[i%groups]}})
	}
	for i := n; len(adobe) < n; i++ {
		email := "stray" + strconv.Itoa(i) + "@example.com"
		adobe = append(adobe, AdobeUser{Type: FederatedID, Username: email, Email: email, Groups: []string{adobeGroup[i%groups]}})
	}
	return &Snapshot{
		Directory: DirectoryResult{Users: dir},
		Adobe:     map[string]OrgSnapshot{PrimaryOrg: {Users: adobe, Query: AdobeQuery{All: true}}},
	}, o
}

// BenchmarkPlanMillion plans 1,000,000 directory users against 1,000,000
// Adobe users. Run it with
//
//	go test -run '^$' -bench PlanMillion -benchmem -benchtime 1x ./core/
//
// heap-MiB is the live heap after planning (snapshot included),
// total-alloc-MiB what planning allocated, cpu-s/op the CPU time planning
// used (wall time on a loaded machine overstates it) and peak-rss-MiB the
// process's peak resident memory.
func BenchmarkPlanMillion(b *testing.B) {
	snap, o := millionSnapshot(1_000_000)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuSeconds()
	b.ResetTimer()
	var p *Plan
	for b.Loop() {
		var err error
		p, err = BuildPlan(context.Background(), snap, o)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// CPU time is reported besides wall time because a shared machine's
	// load inflates ns/op.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(after.Sys)/(1<<20), "sys-MiB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "total-alloc-MiB")
	b.ReportMetric(float64(len(p.Changes)), "changes")
	if kb := peakRSSKiB(); kb > 0 {
		// The process's peak resident memory, generated snapshot included.
		b.ReportMetric(float64(kb)/1024, "peak-rss-MiB")
	}
	if p.Counters.Created == 0 || p.Counters.Updated == 0 || p.Counters.StraysProcessed == 0 {
		b.Fatalf("unexpected counters %+v", p.Counters)
	}
}
