package okta

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/core"
)

// BenchmarkUsers reads 10,000 members of one group in pages of 1,000 from
// the fake Okta over TLS on loopback, filter and conversion included.
func BenchmarkUsers(b *testing.B) {
	const n = 10_000
	clock := connectortest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	f := &fakeOkta{token: testToken, now: clock.Now, users: map[string]map[string]any{}}
	g := fakeGroup{id: "00gBig", name: "Everyone"}
	for i := range n {
		id := fmt.Sprintf("00u%06d", i)
		f.users[id] = oktaUser(id, "ACTIVE", map[string]any{"login": id + "@example.org", "email": id + "@example.org",
			"firstName": "First", "lastName": "Last", "countryCode": "us", "department": "Dept"})
		g.members = append(g.members, id)
	}
	f.groups = []fakeGroup{g}
	srv := f.start(b)
	cfg, err := ParseConfig(context.Background(), mustNode(b, fmt.Sprintf("host: %q\napi_token: %q\nall_users_filter: 'user.status == \"ACTIVE\" and user.profile.email.endswith(\"@example.org\")'\n", srv.URL, testToken)), nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg.HTTPClient, cfg.Clock = srv.Client(), clock
	src := New(cfg, nil)
	b.ReportAllocs()
	for b.Loop() {
		res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Everyone"}, ExtendedAttributes: []string{"department"}}, nil)
		if err != nil || len(res.Users) != n {
			b.Fatalf("Users() = %d, %v", len(res.Users), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/user")
}
