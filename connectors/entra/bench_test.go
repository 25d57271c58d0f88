package entra

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/entra/fakegraph"
	"github.com/usersync/usersync/core"
)

// BenchmarkUsers50kIn50Groups reads 50,000 users, 1,000 in each of 50
// groups, in pages of 999 from the Graph stand-in over loopback HTTP: 50
// group look-ups and 100 member pages, conversion included. The stand-in
// runs in the same process, so its work and allocations are counted too.
func BenchmarkUsers50kIn50Groups(b *testing.B) {
	const groups, per = 50, 1000
	f := &fakegraph.Server{TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret, PageSize: 999}
	var names []string
	for g := range groups {
		grp := fakegraph.Group{ID: fmt.Sprintf("g-%02d", g), DisplayName: fmt.Sprintf("Group %02d", g)}
		for i := range per {
			id := fmt.Sprintf("u-%02d-%04d", g, i)
			f.Users = append(f.Users, fakegraph.User{ID: id, Props: map[string]any{
				"mail": id + "@example.org", "userPrincipalName": id + "@example.org", "givenName": "Åsa",
				"surname": "Öberg", "usageLocation": "se", "accountEnabled": true}})
			grp.Members = append(grp.Members, id)
		}
		f.Groups = append(f.Groups, grp)
		names = append(names, grp.DisplayName)
	}
	src, _ := newSource(b, f, "")
	src.cfg.Clock = core.SystemClock{}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		res, err := src.Users(context.Background(), core.SourceQuery{Groups: names}, nil)
		if err != nil || len(res.Users) != groups*per {
			b.Fatalf("Users() = %d, %v", len(res.Users), err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N)/(groups*per), "ns/user")
}
