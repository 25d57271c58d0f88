package adobeconsole

import (
	"errors"
	"testing"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/core"
)

// fakeHarness runs the conformance suite over the in-memory target; the
// simulator harness (sim_test.go) runs it over real HTTP.
type fakeHarness struct{}

func (fakeHarness) Features() connectortest.Features { return connectortest.Features{AllUsers: true} }

func (fakeHarness) NewSource(t *testing.T, d connectortest.Data) core.Source {
	ft := &fakeTarget{t: t}
	for _, g := range d.Groups {
		ft.groups = append(ft.groups, core.AdobeGroup{Name: g, Type: "USER_GROUP"})
	}
	for _, u := range d.Users {
		if u.Service { // the console has no filter of its own: leave them out of the org
			continue
		}
		ft.users = append(ft.users, adobeUserOf(u))
	}
	return New(Config{OrgID: "SRC@AdobeOrg"}, ft, nil)
}

// adobeUserOf makes the console record of a data-set user.
func adobeUserOf(u connectortest.User) core.AdobeUser {
	username, domain := u.Username, u.Domain
	if username == "" {
		username = u.Email
	}
	if domain == "" {
		domain = emailDomain(u.Email)
	}
	return core.AdobeUser{Type: u.Type, Email: u.Email, Username: username, Domain: domain,
		Firstname: u.Firstname, Lastname: u.Lastname, Country: u.Country, Groups: u.Groups}
}

func emailDomain(email string) string {
	for i := len(email) - 1; i >= 0; i-- {
		if email[i] == '@' {
			return email[i+1:]
		}
	}
	return ""
}

func (fakeHarness) Unreadable(t *testing.T) core.Source {
	ft := &fakeTarget{t: t, err: &core.Error{Code: core.CodeUnauthenticated, Op: "ims token", Err: errors.New("invalid client secret")}}
	return New(Config{OrgID: "SRC@AdobeOrg"}, ft, nil)
}

func TestConformanceFakeTarget(t *testing.T) { connectortest.Run(t, fakeHarness{}) }
