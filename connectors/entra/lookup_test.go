package entra

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/usersync/usersync/connectors/entra/fakegraph"
	"github.com/usersync/usersync/core"
)

func TestLookupUser(t *testing.T) {
	f := tenant()
	f.Users = append(f.Users,
		fakegraph.User{ID: "u-oneil", Props: map[string]any{"mail": "o'neil@example.org", "userPrincipalName": "o'neil@example.org", "accountEnabled": true}},
		fakegraph.User{ID: "u-kim", Props: map[string]any{"mail": "kim@example.org", "userPrincipalName": "kim.k@example.onmicrosoft.com", "accountEnabled": true}})
	f.ThrottleEvery = 4
	src, _ := newSource(t, f, "")
	mapped := core.SourceQuery{Groups: []string{"Marketing"}}
	tests := []struct {
		name, query string
		origin      string
		groups      []string
		disabled    bool
	}{
		{"in nested groups", "ANA@example.org", "entra user u-ana (ana@example.org)", []string{"Contractors", "Design", "Twice"}, false},
		{"disabled, in a mapped group's nesting", "dan@example.org", "entra user u-dan (dan@example.org)", []string{"Contractors", "Design"}, true},
		{"outside the mapped groups", "out@example.org", "entra user u-out (out@example.org)", []string{"O'Brien's Team"}, false},
		{"quote in the address", "o'neil@example.org", "entra user u-oneil (o'neil@example.org)", nil, false},
		{"by userPrincipalName", "kim.k@example.onmicrosoft.com", "entra user u-kim (kim.k@example.onmicrosoft.com)", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, where, err := src.LookupUser(context.Background(), tt.query, mapped)
			if err != nil {
				t.Fatal(err)
			}
			if u == nil {
				t.Fatalf("LookupUser(%q) = nil; want the user from %s", tt.query, tt.origin)
			}
			if u.Origin != tt.origin {
				t.Errorf("Origin = %q; want %q", u.Origin, tt.origin)
			}
			slices.Sort(u.Groups)
			if !slices.Equal(u.Groups, tt.groups) {
				t.Errorf("Groups = %q; want %q", u.Groups, tt.groups)
			}
			if got := u.Disabled != ""; got != tt.disabled {
				t.Errorf("Disabled = %q; want disabled %v", u.Disabled, tt.disabled)
			}
			if tt.disabled && !strings.Contains(u.Disabled, "accountEnabled") {
				t.Errorf("Disabled = %q; want it to name accountEnabled", u.Disabled)
			}
			if !strings.Contains(where, testTenant) || !strings.Contains(where, "userPrincipalName eq") {
				t.Errorf("where = %q; want the tenant and the filter", where)
			}
		})
	}
	u, where, err := src.LookupUser(context.Background(), "nobody@example.org", mapped)
	if u != nil || err != nil {
		t.Errorf("LookupUser(nobody) = %+v, %v; want nil, nil", u, err)
	}
	if !strings.Contains(where, testTenant) || !strings.Contains(where, "mail eq 'nobody@example.org'") {
		t.Errorf("where = %q; want the tenant and the filter searched", where)
	}
	if f.Stats().Throttled == 0 {
		t.Error("no lookup call was throttled; the test means to cover retries")
	}
}

func TestLookupUserAllUsersFilter(t *testing.T) {
	f := tenant()
	f.Users[0].Props["userType"] = "Guest"
	src, _ := newSource(t, f, "all_users_filter: \"accountEnabled eq true and userType ne 'Guest'\"\n")
	u, _, err := src.LookupUser(context.Background(), "ana@example.org", core.SourceQuery{Groups: []string{"Design"}})
	if err != nil {
		t.Fatal(err)
	}
	if u == nil || !strings.Contains(u.Disabled, "all_users_filter") {
		t.Fatalf("LookupUser(ana, a guest) = %+v; want her marked as excluded by all_users_filter", u)
	}
	u, _, err = src.LookupUser(context.Background(), "bo@example.org", core.SourceQuery{Groups: []string{"Design"}})
	if err != nil || u == nil || u.Disabled != "" {
		t.Errorf("LookupUser(bo, a member) = %+v, %v; want him, not excluded", u, err)
	}
}

func TestLookupUserFailsClosed(t *testing.T) {
	f := tenant()
	src, _ := newSource(t, f, "")
	f.ClientSecret = "rotated"
	if u, _, err := src.LookupUser(context.Background(), "ana@example.org", core.SourceQuery{}); err == nil || u != nil {
		t.Errorf("LookupUser with a refused token = %+v, %v; want an error", u, err)
	}
}
