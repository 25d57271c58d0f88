package ldap

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	ldapv3 "github.com/go-ldap/ldap/v3"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/core"
)

// conformance loads the suite's data into the shared slapd, each call
// under an OU of its own, with live adds so that the memberof overlay
// maintains memberOf as it would in production. extra is appended to the
// connector configuration.
type conformance struct{ extra string }

var conformanceOUs atomic.Int32

func (conformance) Features() connectortest.Features {
	return connectortest.Features{AllUsers: true, ExtendedAttributes: true}
}

func (h conformance) NewSource(t *testing.T, d connectortest.Data) core.Source {
	needSlapd(t)
	base := fmt.Sprintf("ou=conformance%d,%s", conformanceOUs.Add(1), suffix)
	c, err := ldapv3.DialURL(slapd.ldapURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(rootDN, rootPW); err != nil {
		t.Fatal(err)
	}
	add := func(dn string, attrs map[string][]string) {
		t.Helper()
		req := ldapv3.NewAddRequest(dn, nil)
		for k, v := range attrs {
			req.Attribute(k, v)
		}
		if err := c.Add(req); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
	}
	add(base, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {strings.SplitN(base, ",", 2)[0][3:]}})
	add("ou=people,"+base, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"people"}})
	add("ou=groups,"+base, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {"groups"}})
	members := map[string][]string{}
	for _, u := range d.Users {
		dn := "cn=" + ldapv3.EscapeDN(u.Email) + ",ou=people," + base
		a := map[string][]string{
			"objectClass": {"inetOrgPerson", "usersyncPerson"}, "cn": {u.Email}, "mail": {u.Email},
			"givenName": {u.Firstname}, "sn": {u.Lastname}, "c": {u.Country},
		}
		if u.Username != "" {
			a["uid"] = []string{u.Username}
		}
		if u.Domain != "" {
			a["o"] = []string{u.Domain}
		}
		if u.Service {
			a["employeeType"] = []string{"service"}
		}
		for k, v := range u.Extended {
			a[k] = []string{v}
		}
		add(dn, a)
		for _, g := range u.Groups {
			members[g] = append(members[g], dn)
		}
	}
	for _, g := range d.Groups {
		add("cn="+ldapv3.EscapeDN(g)+",ou=groups,"+base, map[string][]string{"objectClass": {"groupOfNames"}, "cn": {g}, "member": members[g]})
	}
	return New(testConfig(t, conformanceConfig(base, svcPW)+h.extra), nil)
}

func conformanceConfig(base, password string) string {
	return `host: $LDAP
base_dn: "` + base + `"
username: $SVC
password: ` + password + `
all_users_filter: (&(objectClass=inetOrgPerson)(!(employeeType=service)))
user_identity_type: federatedID
user_username_format: "{uid}"
user_domain_format: "{o}"
search_page_size: 2
`
}

func (conformance) Unreadable(t *testing.T) core.Source {
	needSlapd(t)
	return New(testConfig(t, conformanceConfig(suffix, "not-the-password")), nil)
}

func TestConformance(t *testing.T) {
	needSlapd(t)
	t.Run("memberOf", func(t *testing.T) { connectortest.Run(t, conformance{}) })
	t.Run("two steps", func(t *testing.T) {
		connectortest.Run(t, conformance{extra: "two_steps_lookup:\n  group_member_attribute_name: member\n  nested_group: yes\n"})
	})
}
