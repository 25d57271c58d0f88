package okta

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
)

func TestLookupUser(t *testing.T) {
	f, clock := newFixture()
	src := startSource(t, f, clock)
	// eve is in Design Team and Marketing; with only "Design" mapped she
	// is never read, but explain can still find her.
	u, where, err := src.LookupUser(context.Background(), "eve@example.org", core.SourceQuery{Groups: []string{"Design"}})
	if err != nil {
		t.Fatal(err)
	}
	if u == nil || u.Email != "eve@example.org" || u.Origin != "okta user 00u6" {
		t.Fatalf("LookupUser(eve) = %+v; want eve from okta user 00u6", u)
	}
	slices.Sort(u.Groups)
	if !slices.Equal(u.Groups, []string{"Design Team", "Marketing"}) {
		t.Errorf("eve's groups = %q; want Design Team and Marketing", u.Groups)
	}
	if !strings.Contains(where, "all_users_filter") {
		t.Errorf("where = %q; want the filter named", where)
	}
	if u, _, err := src.LookupUser(context.Background(), "nobody@example.org", core.SourceQuery{}); u != nil || err != nil {
		t.Errorf("LookupUser(nobody) = %+v, %v; want nil, nil", u, err)
	}
}
