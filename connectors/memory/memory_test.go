package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/connectors/memory"
	"github.com/usersync/usersync/core"
)

type harness struct{}

func (harness) Features() connectortest.Features {
	return connectortest.Features{AllUsers: true, ExtendedAttributes: true}
}

func (harness) NewSource(t *testing.T, d connectortest.Data) core.Source {
	s := &memory.Source{Groups: d.Groups}
	for _, u := range d.Users {
		if u.Service {
			continue // the memory source has no filter of its own
		}
		du := core.DirectoryUser{Type: u.Type, Email: u.Email, Username: u.Username, Domain: u.Domain,
			Firstname: u.Firstname, Lastname: u.Lastname, Country: u.Country, Groups: u.Groups}
		if du.Username == "" {
			du.Username = u.Email
		}
		for k, v := range u.Extended {
			if du.Attributes == nil {
				du.Attributes = map[string]any{}
			}
			du.Attributes[k] = v
		}
		s.Entries = append(s.Entries, du)
	}
	return s
}

func (harness) Unreadable(t *testing.T) core.Source {
	return &memory.Source{Err: errors.New("directory is offline")}
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness{}) }

func TestUsersCopies(t *testing.T) {
	s := &memory.Source{Entries: []core.DirectoryUser{{Email: "a@x.org", Groups: []string{"g"},
		Attributes: map[string]any{"k": "v"}}}}
	res, err := s.Users(context.Background(), core.SourceQuery{Groups: []string{"g"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Users[0].Attributes["k"] = "changed"
	res.Users[0].Groups[0] = "changed"
	if diff := cmp.Diff(core.DirectoryUser{Email: "a@x.org", Groups: []string{"g"}, Attributes: map[string]any{"k": "v"}}, s.Entries[0]); diff != "" {
		t.Errorf("source changed through a result (-want +got):\n%s", diff)
	}
	if got, want := res.Users[0].MemberGroups, []string{"g"}; !cmp.Equal(got, want) {
		t.Errorf("MemberGroups = %q; want %q", got, want)
	}
}

func TestEmptyGroupIsNotMissing(t *testing.T) {
	s := &memory.Source{Groups: []string{"Empty"}}
	res, err := s.Users(context.Background(), core.SourceQuery{Groups: []string{"Empty", "Absent"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.MissingGroups, []string{"Absent"}; !cmp.Equal(got, want) {
		t.Errorf("MissingGroups = %q; want %q", got, want)
	}
}
