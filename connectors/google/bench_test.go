package google

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/usersync/usersync/connectors/google/googlefake"
	"github.com/usersync/usersync/core"
)

// BenchmarkUsers50kIn50Groups reads 50,000 users in 50 groups of 1,000
// from the fake over HTTP on loopback, at Google's page maxima (500 users,
// 200 members a page): 100 user pages, 50 group look-ups, 250 member pages.
func BenchmarkUsers50kIn50Groups(b *testing.B) {
	const users, groups = 50_000, 50
	f := &googlefake.Server{}
	for i := range users {
		f.Users = append(f.Users, googlefake.User{ID: fmt.Sprintf("1%07d", i), Email: fmt.Sprintf("u%06d@example.org", i),
			GivenName: "First", Family: "Last", CountryCode: "us"})
	}
	var names []string
	for g := range groups {
		grp := googlefake.Group{ID: fmt.Sprintf("g%02d", g), Email: fmt.Sprintf("group%02d@example.org", g), Name: fmt.Sprintf("Group %02d", g)}
		for i := g; i < users; i += groups {
			grp.Members = append(grp.Members, googlefake.Member{Type: "USER", ID: fmt.Sprintf("1%07d", i)})
		}
		f.Groups = append(f.Groups, grp)
		names = append(names, grp.Email)
	}
	base, key := startFake(b, f, nil)
	src := newSource(b, base, key, "")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var res core.DirectoryResult
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var err error
		res, err = src.Users(context.Background(), core.SourceQuery{Groups: names}, nil)
		if err != nil || len(res.Users) != users {
			b.Fatalf("Users() = %d, %v", len(res.Users), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/users, "ns/user")
	// The heap the result holds (the fake's directory is in both figures).
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "result-MiB")
	runtime.KeepAlive(res)
}
