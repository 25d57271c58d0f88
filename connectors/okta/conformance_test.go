package okta

import (
	"fmt"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/core"
)

// harness serves the conformance data set from the fake Okta.
type harness struct{}

func (harness) Features() connectortest.Features {
	return connectortest.Features{ExtendedAttributes: true} // Okta cannot list all users
}

// conformanceYAML maps the data set's usernames and domains from custom
// profile fields and leaves service accounts out with all_users_filter.
const conformanceYAML = `host: %q
api_token: %q
user_identity_type: federatedID
user_username_format: "{ustUsername}"
user_domain_format: "{ustDomain}"
all_users_filter: 'user.status == "ACTIVE" and getattr(user.profile, "userType", "") != "service"'
`

func (harness) NewSource(t *testing.T, d connectortest.Data) core.Source {
	clock := connectortest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	f := &fakeOkta{token: testToken, now: clock.Now, users: map[string]map[string]any{}}
	members := map[string][]string{}
	for i, u := range d.Users {
		id := fmt.Sprintf("00u%03d", i)
		profile := map[string]any{"login": u.Email, "email": u.Email, "firstName": u.Firstname, "lastName": u.Lastname, "countryCode": u.Country}
		if u.Username != "" {
			profile["ustUsername"] = u.Username
			profile["ustDomain"] = u.Domain
		}
		if u.Service {
			profile["userType"] = "service"
		}
		for k, v := range u.Extended {
			profile[k] = v
		}
		f.users[id] = oktaUser(id, "ACTIVE", profile)
		for _, g := range u.Groups {
			members[g] = append(members[g], id)
		}
	}
	for i, g := range d.Groups {
		f.groups = append(f.groups, fakeGroup{id: fmt.Sprintf("00g%03d", i), name: g, members: members[g]})
	}
	srv := f.start(t)
	cfg, err := parseYAML(t, fmt.Sprintf(conformanceYAML, srv.URL, testToken), nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	cfg.HTTPClient, cfg.Clock, cfg.PageSize = srv.Client(), clock, 2
	return New(cfg, nil)
}

func (harness) Unreadable(t *testing.T) core.Source {
	clock := connectortest.NewClock(time.Now())
	f := &fakeOkta{token: "the-real-token", now: clock.Now}
	srv := f.start(t)
	cfg, err := parseYAML(t, fmt.Sprintf(conformanceYAML, srv.URL, testToken), nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	cfg.HTTPClient, cfg.Clock = srv.Client(), clock
	return New(cfg, nil)
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness{}) }
