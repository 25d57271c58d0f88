package entra

import (
	"fmt"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/connectors/entra/fakegraph"
	"github.com/usersync/usersync/core"
)

type harness struct{}

func (harness) Features() connectortest.Features {
	return connectortest.Features{AllUsers: true, ExtendedAttributes: true}
}

// conformanceYAML maps the data set's usernames and domains from
// on-premises properties and leaves service accounts out with an advanced
// all_users_filter.
const conformanceYAML = `tenant_id: %q
client_id: %q
client_secret: %q
authority_host: %q
graph_host: %q
user_identity_type: federatedID
user_username_format: "{onPremisesSamAccountName}"
user_domain_format: "{onPremisesDomainName}"
all_users_filter: "accountEnabled eq true and employeeType ne 'service'"
`

func newFake(d connectortest.Data) *fakegraph.Server {
	f := &fakegraph.Server{TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret, PageSize: 2, ThrottleEvery: 4}
	members := map[string][]string{}
	for i, u := range d.Users {
		id := fmt.Sprintf("u-%04d", i)
		p := map[string]any{"mail": u.Email, "userPrincipalName": u.Email, "givenName": u.Firstname, "surname": u.Lastname,
			"usageLocation": u.Country, "accountEnabled": true}
		if u.Username != "" {
			p["onPremisesSamAccountName"], p["onPremisesDomainName"] = u.Username, u.Domain
		}
		if u.Service {
			p["employeeType"] = "service"
		}
		for k, v := range u.Extended {
			p[k] = v
		}
		f.Users = append(f.Users, fakegraph.User{ID: id, Props: p})
		for _, g := range u.Groups {
			members[g] = append(members[g], id)
		}
	}
	for i, g := range d.Groups {
		f.Groups = append(f.Groups, fakegraph.Group{ID: fmt.Sprintf("g-%04d", i), DisplayName: g, Members: members[g]})
	}
	return f
}

func (harness) NewSource(t *testing.T, d connectortest.Data) core.Source {
	f := newFake(d)
	url := f.Start(t)
	cfg, err := parseYAML(t, fmt.Sprintf(conformanceYAML, testTenant, testClient, testSecret, url, url), nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	cfg.Clock = connectortest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	return New(cfg, nil)
}

func (harness) Unreadable(t *testing.T) core.Source {
	f := newFake(connectortest.Canonical())
	f.ClientSecret = "the-real-secret"
	url := f.Start(t)
	cfg, err := parseYAML(t, fmt.Sprintf(conformanceYAML, testTenant, testClient, testSecret, url, url), nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	cfg.Clock = connectortest.NewClock(time.Now())
	return New(cfg, nil)
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness{}) }
