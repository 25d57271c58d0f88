package google

import (
	"fmt"
	"testing"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/connectors/google/googlefake"
	"github.com/usersync/usersync/core"
)

type harness struct{}

func (harness) Features() connectortest.Features {
	return connectortest.Features{AllUsers: true, ExtendedAttributes: true}
}

// conformanceYAML reads usernames and domains from a custom schema and
// leaves service accounts (their own org unit) out with all_users_query.
const conformanceYAML = `user_identity_type: federatedID
user_username_format: "{customSchemas.ust.username}"
user_domain_format: "{customSchemas.ust.domain}"
all_users_query: "orgUnitPath='/People'"
`

func (harness) NewSource(t *testing.T, d connectortest.Data) core.Source {
	f := &googlefake.Server{PageSize: 2}
	members := map[string][]googlefake.Member{}
	for i, u := range d.Users {
		id := fmt.Sprintf("1000%03d", i)
		gu := googlefake.User{ID: id, Email: u.Email, GivenName: u.Firstname, Family: u.Lastname, CountryCode: u.Country,
			OrgUnit: "/People", Extra: map[string]any{}}
		if u.Username != "" {
			gu.Extra["customSchemas"] = map[string]any{"ust": map[string]any{"username": u.Username, "domain": u.Domain}}
		}
		if u.Service {
			gu.OrgUnit = "/Service"
		}
		for k, v := range u.Extended {
			gu.Extra[k] = v
		}
		f.Users = append(f.Users, gu)
		for _, g := range u.Groups {
			members[g] = append(members[g], googlefake.Member{Type: "USER", ID: id})
		}
	}
	for i, g := range d.Groups {
		f.Groups = append(f.Groups, googlefake.Group{ID: fmt.Sprintf("0g%03d", i), Email: fmt.Sprintf("group%d@example.org", i), Name: g, Members: members[g]})
	}
	base, key := startFake(t, f, nil)
	return newSource(t, base, key, conformanceYAML)
}

func (harness) Unreadable(t *testing.T) core.Source {
	_, untrusted := keys()
	base, key := startFake(t, &googlefake.Server{}, untrusted)
	return newSource(t, base, key, conformanceYAML)
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness{}) }
