package csv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
)

const lookupCSV = `firstname,lastname,email,country,groups
Ana,Ruiz,ana@example.org,ES,designers
,,,,designers
Emil,Ek,emil@example.org,SE,Video
Ana,Diaz,ana@example.org,ES,designers
`

func lookupSource(t *testing.T) (*Source, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(lookupCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	return New(Config{FilePath: path, IdentityType: core.FederatedID}), path
}

func TestUsersKeepsUnselectedAndNotes(t *testing.T) {
	s, path := lookupSource(t)
	res, err := s.Users(context.Background(), core.SourceQuery{Groups: []string{"designers"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Users) != 1 || len(res.Unselected) != 1 || res.Unselected[0].Email != "emil@example.org" || res.Unselected[0].Origin != path+":4" {
		t.Errorf("Users = %+v, Unselected = %+v; want ana selected, emil unselected from line 4", res.Users, res.Unselected)
	}
	var kinds []string
	for _, n := range res.Notes {
		kinds = append(kinds, n.Kind+"@"+strings.TrimPrefix(n.Origin, path))
	}
	if got := strings.Join(kinds, " "); got != "skipped@:3 conflict@:2,5" {
		t.Errorf("notes = %q; want the empty row skipped and ana's conflicting rows", got)
	}
	if res.Users[0].Lastname != "Diaz" {
		t.Errorf("merged lastname = %q; want the later row's", res.Users[0].Lastname)
	}
}

func TestLookupUser(t *testing.T) {
	s, path := lookupSource(t)
	u, where, err := s.LookupUser(context.Background(), "EMIL@example.org", core.SourceQuery{Groups: []string{"designers"}})
	if err != nil || u == nil || u.Origin != path+":4" {
		t.Errorf("LookupUser(emil) = %+v, %v; want the record of line 4", u, err)
	}
	if !strings.Contains(where, path) {
		t.Errorf("where = %q; want it to name %s", where, path)
	}
	if u, _, err := s.LookupUser(context.Background(), "nobody@example.org", core.SourceQuery{}); u != nil || err != nil {
		t.Errorf("LookupUser(nobody) = %+v, %v; want nil, nil", u, err)
	}
}
