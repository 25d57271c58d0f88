package ldap

import (
	"context"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
)

func TestLookupUser(t *testing.T) {
	needSlapd(t)
	src := New(testConfig(t, openLDAPConfig), nil)
	// taro is in none of the requested groups: a --users mapped read
	// never returns him, the lookup does.
	q := core.SourceQuery{Groups: []string{"Designers"}}
	u, where, err := src.LookupUser(context.Background(), "TARO@example.org", q)
	if err != nil {
		t.Fatal(err)
	}
	if u == nil || u.Origin != people("taro") {
		t.Fatalf("LookupUser(taro) = %+v; want the entry %s", u, people("taro"))
	}
	if !strings.Contains(where, suffix) {
		t.Errorf("where = %q; want the base %s named", where, suffix)
	}
	if u, _, err := src.LookupUser(context.Background(), "nobody@example.org", q); u != nil || err != nil {
		t.Errorf("LookupUser(nobody) = %+v, %v; want nil, nil", u, err)
	}
}
