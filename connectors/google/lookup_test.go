package google

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
)

func TestLookupUser(t *testing.T) {
	f := directory()
	f.Users[0].Extra = map[string]any{"aliases": []string{"ana.alias@example.org"}}
	base, key := startFake(t, f, nil)
	src := newSource(t, base, key, "")
	mapped := core.SourceQuery{Groups: []string{"design@example.org"}}
	tests := []struct {
		name, query, email, origin string
		groups                     []string
		disabled                   string
	}{
		{"suspended member of a mapped group", "SUS@example.org", "sus@example.org", "google user 105", []string{"design@example.org"}, "suspended"},
		{"archived member of a mapped group", "arc@example.org", "arc@example.org", "google user 106", []string{"design@example.org"}, "archived"},
		{"member through nested groups", "eve@example.org", "eve@example.org", "google user 104", []string{"design@example.org", "interns@example.org"}, ""},
		{"nested once, with its own group", "dee@example.org", "dee@example.org", "google user 103", []string{"design-contractors@example.org", "design@example.org"}, ""},
		{"outside the mapped groups", "loner@example.org", "loner@example.org", "google user 108", nil, ""},
		{"by alias", "ana.alias@example.org", "ana@example.org", "google user 101", []string{"design@example.org", "interns@example.org"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, where, err := src.LookupUser(context.Background(), tt.query, mapped)
			if err != nil {
				t.Fatal(err)
			}
			if u == nil {
				t.Fatalf("LookupUser(%q) = nil; want %s", tt.query, tt.origin)
			}
			if u.Email != tt.email || u.Origin != tt.origin {
				t.Errorf("LookupUser(%q) = %s from %s; want %s from %s", tt.query, u.Email, u.Origin, tt.email, tt.origin)
			}
			slices.Sort(u.Groups)
			if !slices.Equal(u.Groups, tt.groups) {
				t.Errorf("Groups = %q; want %q", u.Groups, tt.groups)
			}
			if tt.disabled == "" && u.Disabled != "" || !strings.Contains(u.Disabled, tt.disabled) {
				t.Errorf("Disabled = %q; want %q", u.Disabled, tt.disabled)
			}
			if !strings.Contains(where, "customer my_customer") {
				t.Errorf("where = %q; want the customer searched", where)
			}
		})
	}
	u, where, err := src.LookupUser(context.Background(), "nobody@example.org", mapped)
	if u != nil || err != nil {
		t.Errorf("LookupUser(nobody) = %+v, %v; want nil, nil", u, err)
	}
	if !strings.Contains(where, "nobody@example.org") || !strings.Contains(where, "my_customer") {
		t.Errorf("where = %q; want the customer and the address searched", where)
	}
	if _, throttled := f.Stats(); throttled == 0 {
		t.Error("no call was throttled; the test means to cover retries")
	}
}

func TestLookupUserFailsClosed(t *testing.T) {
	f := directory()
	f.FailGroup, f.FailPage = "design@example.org", 1
	base, key := startFake(t, f, nil)
	src := newSource(t, base, key, "")
	if u, _, err := src.LookupUser(context.Background(), "ana@example.org", core.SourceQuery{Groups: []string{"design@example.org"}}); err == nil || u != nil {
		t.Errorf("LookupUser with a failing group page = %+v, %v; want an error", u, err)
	}
}
