package sim

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary is the part of an action response the table checks.
type summary struct {
	Result                                    string
	Completed, NotCompleted, CompletedTesting int
	Errors                                    []string
}

func summarize(r actionResult) summary {
	return summary{r.Result, r.Completed, r.NotCompleted, r.CompletedInTestMode, errs(r)}
}

func ok(n int) summary { return summary{Result: "success", Completed: n} }

func failed(errors ...string) summary {
	return summary{Result: "error", NotCompleted: len(errors), Errors: errors}
}

// groupsOf returns a user's groups in the state, or "<absent>".
func groupsOf(c *testClient, email string) string {
	u := c.user(email)
	if u == nil {
		return "<absent>"
	}
	return strings.Join(u.Groups, ",")
}

func TestActionSteps(t *testing.T) {
	tests := []struct {
		name  string
		cmds  string
		want  summary
		check func(c *testClient) string // returns a description of what is wrong, or ""
	}{
		{
			name: "createFederatedID with groups",
			cmds: `[{"user":"new@example.org","requestID":"action_1","do":[
				{"createFederatedID":{"email":"new@example.org","firstname":"New","lastname":"User","country":"DE"}},
				{"add":{"group":["Design Team","All Apps"]}}]}]`,
			want: ok(1),
			check: func(c *testClient) string {
				u := c.user("new@example.org")
				want := &SeedUser{Email: "new@example.org", Username: "new@example.org", Domain: "example.org",
					Type: "federatedID", Firstname: "New", Lastname: "User", Country: "DE", Groups: []string{"All Apps", "Design Team"}}
				return cmp.Diff(want, u)
			},
		},
		{
			name: "createFederatedID username login needs domain root",
			cmds: `[{"user":"jdoe","domain":"example.org","do":[
				{"createFederatedID":{"email":"j.doe@example.org","firstname":"J","lastname":"Doe","country":"FR"}}]}]`,
			want: ok(1),
			check: func(c *testClient) string {
				u := c.user("j.doe@example.org")
				if u == nil || u.Username != "jdoe" || u.Domain != "example.org" {
					return fmt.Sprintf("user = %+v; want username jdoe in example.org", u)
				}
				return ""
			},
		},
		{
			name: "createFederatedID email username differs from email",
			cmds: `[{"user":"login@example.org","do":[
				{"createFederatedID":{"email":"mail@example.org","firstname":"M","lastname":"L","country":"FR"}}]},
				{"user":"mail@example.org","do":[{"add":{"group":["Acrobat"]}}]}]`,
			want: ok(2),
			check: func(c *testClient) string {
				u := c.user("mail@example.org")
				if u == nil || u.Username != "login@example.org" || strings.Join(u.Groups, ",") != "Acrobat" {
					return fmt.Sprintf("user = %+v", u)
				}
				return ""
			},
		},
		{
			name: "createEnterpriseID and addAdobeID",
			cmds: `[{"user":"neu@ent.example.com","do":[{"createEnterpriseID":{"email":"neu@ent.example.com","firstname":"N","lastname":"E"}}]},
				{"user":"someone@yahoo.com","useAdobeID":true,"do":[{"addAdobeID":{"email":"someone@yahoo.com","country":"US"}},{"add":{"group":["Acrobat"]}}]}]`,
			want: ok(2),
			check: func(c *testClient) string {
				if u := c.user("neu@ent.example.com"); u == nil || u.Type != "enterpriseID" {
					return fmt.Sprintf("enterprise user = %+v", u)
				}
				if u := c.user("someone@yahoo.com"); u == nil || u.Type != "adobeID" || u.Domain != "yahoo.com" {
					return fmt.Sprintf("adobe user = %+v", u)
				}
				return ""
			},
		},
		{
			name: "create existing user without option",
			cmds: `[{"user":"ana@example.org","requestID":"r1","do":[
				{"createFederatedID":{"email":"ana@example.org","firstname":"A","lastname":"R","country":"ES"}},
				{"add":{"group":["Acrobat"]}}]}]`,
			want: failed("0/0 error.user.already_in_org"),
			check: func(c *testClient) string {
				if g := groupsOf(c, "ana@example.org"); g != "_org_admin,Design Team" {
					return "later step ran: groups " + g
				}
				return ""
			},
		},
		{
			name: "create existing with ignoreIfAlreadyExists runs later steps",
			cmds: `[{"user":"ana@example.org","do":[
				{"createFederatedID":{"email":"ana@example.org","firstname":"X","lastname":"Y","country":"ES","option":"ignoreIfAlreadyExists"}},
				{"add":{"group":["Acrobat"]}}]}]`,
			want: ok(1),
			check: func(c *testClient) string {
				u := c.user("ana@example.org")
				if u.Firstname != "Ana" || !strings.Contains(strings.Join(u.Groups, ","), "Acrobat") {
					return fmt.Sprintf("user = %+v", u)
				}
				return ""
			},
		},
		{
			name: "create existing with updateIfAlreadyExists updates names",
			cmds: `[{"user":"ana@example.org","do":[
				{"createFederatedID":{"email":"ana@example.org","firstname":"Anna","lastname":"Ruiz","country":"ES","option":"updateIfAlreadyExists"}}]}]`,
			want: ok(1),
			check: func(c *testClient) string {
				if u := c.user("ana@example.org"); u.Firstname != "Anna" {
					return "firstname = " + u.Firstname
				}
				return ""
			},
		},
		{
			name: "illegal option",
			cmds: `[{"user":"x@example.org","do":[{"createFederatedID":{"email":"x@example.org","country":"ES","firstname":"X","lastname":"Y","option":"maybe"}}]}]`,
			want: failed("0/0 error.option.illegal"),
		},
		{
			name: "unclaimed domain",
			cmds: `[{"user":"x@elsewhere.net","do":[{"createFederatedID":{"email":"x@elsewhere.net","country":"ES","firstname":"X","lastname":"Y"}}]}]`,
			want: failed("0/0 error.domain.trust.nonexistent"),
		},
		{
			name: "federated ID without country",
			cmds: `[{"user":"x@example.org","do":[{"createFederatedID":{"email":"x@example.org","firstname":"X","lastname":"Y"}}]}]`,
			want: failed("0/0 error.country.invalid"),
		},
		{
			name: "federated ID with UD country",
			cmds: `[{"user":"x@example.org","do":[{"createFederatedID":{"email":"x@example.org","firstname":"X","lastname":"Y","country":"UD"}}]}]`,
			want: failed("0/0 error.country.invalid"),
		},
		{
			name: "enterprise ID with UD country",
			cmds: `[{"user":"x@ent.example.com","do":[{"createEnterpriseID":{"email":"x@ent.example.com","firstname":"X","lastname":"Y","country":"UD"}}]}]`,
			want: ok(1),
		},
		{
			name: "country too long and invalid",
			cmds: `[{"user":"x@example.org","do":[{"createFederatedID":{"email":"x@example.org","firstname":"X","lastname":"Y","country":"USA"}}]},
				{"user":"y@example.org","do":[{"createFederatedID":{"email":"y@example.org","firstname":"X","lastname":"Y","country":"KP"}}]}]`,
			want: failed("0/0 error.command.string.too_long", "1/0 error.country.invalid"),
		},
		{
			name: "missing names",
			cmds: `[{"user":"x@example.org","do":[{"createFederatedID":{"email":"x@example.org","lastname":"Y","country":"DE"}}]},
				{"user":"y@example.org","do":[{"createFederatedID":{"email":"y@example.org","firstname":"Y","country":"DE"}}]}]`,
			want: failed("0/0 error.user.firstname_missing", "1/0 error.user.lastname_missing"),
		},
		{
			name: "wrong identity type for domain",
			cmds: `[{"user":"x@example.org","do":[{"createEnterpriseID":{"email":"x@example.org","firstname":"X","lastname":"Y"}}]}]`,
			want: failed("0/0 error.user.type_mismatch"),
		},
		{
			name: "invalid email",
			cmds: `[{"user":"x@example.org","do":[{"createFederatedID":{"email":"not-an-email","firstname":"X","lastname":"Y","country":"DE"}}]}]`,
			want: failed("0/0 error.user.email.invalid"),
		},
		{
			name: "enterprise user must match email",
			cmds: `[{"user":"a@ent.example.com","do":[{"createEnterpriseID":{"email":"b@ent.example.com","firstname":"X","lastname":"Y"}}]}]`,
			want: failed("0/0 error.user.must_match_email"),
		},
		{
			name: "create not first and more than one",
			cmds: `[{"user":"ana@example.org","do":[{"add":{"group":["Acrobat"]}},{"createFederatedID":{"email":"ana@example.org","firstname":"X","lastname":"Y","country":"ES"}}]},
				{"user":"b@example.org","do":[{"createFederatedID":{"email":"b@example.org","firstname":"X","lastname":"Y","country":"ES"}},{"createFederatedID":{"email":"b@example.org","firstname":"X","lastname":"Y","country":"ES"}}]}]`,
			want: failed("0/1 error.command.create.not_first", "1/1 error.command.create.more_than_one"),
			check: func(c *testClient) string {
				if g := groupsOf(c, "ana@example.org"); strings.Contains(g, "Acrobat") {
					return "a step of a command with a syntax error ran"
				}
				return ""
			},
		},
		{
			name: "unknown create key",
			cmds: `[{"user":"b@example.org","do":[{"createFederatedID":{"email":"b@example.org","firstname":"X","lastname":"Y","country":"ES","middlename":"Q"}}]}]`,
			want: failed("0/0 error.command.create.key.unknown"),
		},
		{
			name:  "update names and email",
			cmds:  `[{"user":"ana@example.org","do":[{"update":{"firstname":"Ann","email":"ann@example.org"}}]}]`,
			want:  ok(1),
			check: checkUser("ann@example.org", "ann@example.org", "Ann"),
		},
		{
			name:  "update username of username-login user",
			cmds:  `[{"user":"kobi","domain":"example.org","do":[{"update":{"username":"kobi2"}}]},{"user":"kobi2","domain":"example.org","do":[{"update":{"lastname":"O"}}]}]`,
			want:  ok(2),
			check: checkUser("k.obi@example.org", "kobi2", "K"),
		},
		{
			name: "update Adobe ID",
			cmds: `[{"user":"pat@gmail.com","do":[{"update":{"firstname":"P"}}]}]`,
			want: failed("0/0 error.update.adobeid.no"),
		},
		{
			name: "update country",
			cmds: `[{"user":"ana@example.org","do":[{"update":{"country":"FR"}}]}]`,
			want: failed("0/0 error.update.country.no_update"),
		},
		{
			name: "update enterprise username",
			cmds: `[{"user":"li@ent.example.com","do":[{"update":{"username":"li2@ent.example.com"}}]}]`,
			want: failed("0/0 error.update.username.no"),
		},
		{
			name: "update email in use, unclaimed, case only, other directory",
			cmds: `[{"user":"ana@example.org","do":[{"update":{"email":"k.obi@example.org"}}]},
				{"user":"ana@example.org","do":[{"update":{"email":"ana@elsewhere.net"}}]},
				{"user":"ana@example.org","do":[{"update":{"email":"Ana@example.org"}}]},
				{"user":"ana@example.org","do":[{"update":{"email":"ana@ent.example.com"}}]}]`,
			want: failed("0/0 error.user.email.name_in_use", "1/0 error.domain.trust.nonexistent",
				"2/0 error.update.no", "3/0 error.update.domain.mismatch"),
		},
		{
			name: "update username in use",
			cmds: `[{"user":"ana@example.org","do":[{"update":{"username":"kobi"}}]}]`,
			want: failed("0/0 error.user.name_in_use"),
		},
		{
			name: "update on trusted domain",
			cmds: `[{"user":"sam@partner.org","do":[{"update":{"firstname":"S"}}]}]`,
			want: failed("0/0 error.api.user.not.parent.org"),
		},
		{
			name: "step on a user who does not exist",
			cmds: `[{"user":"ghost@example.org","do":[{"add":{"group":["Acrobat"]}}]}]`,
			want: failed("0/0 error.user.nonexistent"),
		},
		{
			name: "group not found stops the command",
			cmds: `[{"user":"ana@example.org","requestID":"x","do":[{"add":{"group":["Acrobat"]}},{"add":{"group":["Nope"]}},{"remove":{"group":["Design Team"]}}]}]`,
			want: failed("0/1 error.group.not_found"),
			check: func(c *testClient) string {
				if g := groupsOf(c, "ana@example.org"); g != "_org_admin,Acrobat,Design Team" {
					return "groups " + g + "; want the first step applied and the third not run"
				}
				return ""
			},
		},
		{
			name: "group names are case-insensitive, user strings too",
			cmds: `[{"user":"ANA@Example.org","do":[{"add":{"group":["acrobat","ALL APPS"]}},{"remove":{"group":["design team"]}}]}]`,
			want: ok(1),
			check: func(c *testClient) string {
				if g := groupsOf(c, "ana@example.org"); g != "_org_admin,Acrobat,All Apps" {
					return "groups " + g
				}
				return ""
			},
		},
		{
			name: "list too long, empty, duplicate, not array, unknown key",
			cmds: `[{"user":"ana@example.org","do":[{"add":{"group":["a","b","c","d","e","f","g","h","i","j","k"]}}]},
				{"user":"ana@example.org","do":[{"add":{"group":[]}}]},
				{"user":"ana@example.org","do":[{"add":{"group":["Acrobat","ACROBAT"]}}]},
				{"user":"ana@example.org","do":[{"add":{"group":"Acrobat"}}]},
				{"user":"ana@example.org","do":[{"add":{"groups":["Acrobat"]}}]}]`,
			want: failed("0/0 error.command.add_remove.list_too_long", "1/0 error.group.invalid_list",
				"2/0 error.command.add_remove.duplicate.group_list", "3/0 error.command.add_remove.list_not_array",
				"4/0 error.command.add_remove.key.unknown"),
		},
		{
			name: "too many steps",
			cmds: `[{"user":"ana@example.org","do":[` + strings.Repeat(`{"add":{"group":["Acrobat"]}},`, 10) + `{"add":{"group":["Acrobat"]}}]}]`,
			want: failed("0/10 error.command.add_remove.list_too_long"),
		},
		{
			name: "admin groups can be assigned, _org_admin cannot",
			cmds: `[{"user":"li@ent.example.com","do":[{"add":{"group":["_admin_Design Team","_product_admin_Acrobat Pro","_support_admin"]}}]},
				{"user":"li@ent.example.com","do":[{"add":{"group":["_org_admin"]}}]},
				{"user":"li@ent.example.com","do":[{"add":{"group":["_admin_Nothing"]}}]}]`,
			want: summary{Result: "partial", Completed: 1, NotCompleted: 2,
				Errors: []string{"1/0 error.group.invalid_name", "2/0 error.group.not_found"}},
			check: func(c *testClient) string {
				if g := groupsOf(c, "li@ent.example.com"); g != "_admin_Design Team,_product_admin_Acrobat Pro,_support_admin,Acrobat" {
					return "groups " + g
				}
				return ""
			},
		},
		{
			name: "remove all keeps _org_admin",
			cmds: `[{"user":"ana@example.org","do":[{"remove":"all"}]}]`,
			want: ok(1),
			check: func(c *testClient) string {
				if g := groupsOf(c, "ana@example.org"); g != "_org_admin" {
					return "groups " + g
				}
				return ""
			},
		},
		{
			name: "add all is not allowed",
			cmds: `[{"user":"ana@example.org","do":[{"add":"all"}]}]`,
			want: failed("0/0 error.command.add_remove.list"),
		},
		{
			name: "deprecated product key warns",
			cmds: `[{"user":"ana@example.org","do":[{"add":{"product":["Acrobat"]}}]}]`,
			want: ok(1),
		},
		{
			name: "removeFromOrg, deleteAccount, nonexistent user",
			cmds: `[{"user":"ana@example.org","do":[{"removeFromOrg":{"deleteAccount":false}}]},
				{"user":"li@ent.example.com","do":[{"remove":"all"},{"removeFromOrg":{"deleteAccount":true}}]},
				{"user":"ghost@example.org","do":[{"removeFromOrg":{}}]},
				{"user":"pat@gmail.com","useAdobeID":true,"do":[{"removeFromOrg":{"deleteAccount":true}}]}]`,
			want: ok(4),
			check: func(c *testClient) string {
				for _, e := range []string{"ana@example.org", "li@ent.example.com", "pat@gmail.com"} {
					if c.user(e) != nil {
						return e + " is still in the org"
					}
				}
				return ""
			},
		},
		{
			name: "removeFromOrg not last",
			cmds: `[{"user":"ana@example.org","do":[{"removeFromOrg":{}},{"add":{"group":["Acrobat"]}}]}]`,
			want: failed("0/0 error.command.removefromorg.not_last"),
		},
		{
			name: "deleteAccount on a trusted domain",
			cmds: `[{"user":"sam@partner.org","do":[{"removeFromOrg":{"deleteAccount":true}}]}]`,
			want: failed("0/0 error.api.user.not.parent.org"),
		},
		{
			name: "domain with an email user, missing domain with a username",
			cmds: `[{"user":"ana@example.org","domain":"example.org","do":[{"remove":"all"}]},
				{"user":"kobi","do":[{"remove":"all"}]}]`,
			want: failed("0/0 error.command.domain.must_be_used_with_nonemail_username", "1/0 error.command.domain.missing"),
		},
		{
			name: "root and step syntax errors",
			cmds: `[{"do":[{"remove":"all"}]},
				{"user":"ana@example.org","usergroup":"Design Team","do":[{"remove":"all"}]},
				{"user":"ana@example.org","do":[]},
				{"user":"ana@example.org","do":[{"resetPassword":{}}]},
				{"user":"ana@example.org","do":[{"add":{"group":["Acrobat"]},"remove":"all"}]},
				{"user":"ana@example.org","useAdobeID":"yes","do":[{"remove":"all"}]},
				{"user":"ana@example.org","colour":"red","do":[{"remove":"all"}]},
				"not an object"]`,
			want: failed("0/0 error.command.user_usergroup.missing", "1/0 error.command.user_usergroup.missing",
				"2/0 error.command.steps.malformed", "3/0 error.command.step.unknown", "4/0 error.command.steps.malformed",
				"5/0 error.command.boolean_expected", "6/0 error.command.illegal_entry", "7/0 error.command.malformed"),
		},
		{
			name: "useAdobeID picks the Adobe ID over the federated account",
			cmds: `[{"user":"dual@example.org","do":[{"createFederatedID":{"email":"dual@example.org","firstname":"D","lastname":"F","country":"DE"}}]},
				{"user":"dual@example.org","useAdobeID":true,"do":[{"addAdobeID":{"email":"dual@example.org"}},{"add":{"group":["Acrobat"]}}]},
				{"user":"dual@example.org","do":[{"add":{"group":["All Apps"]}}]}]`,
			want: ok(3),
			check: func(c *testClient) string {
				var got []string
				for _, u := range c.sim.State().Users {
					if u.Email == "dual@example.org" {
						got = append(got, u.Type+":"+strings.Join(u.Groups, ","))
					}
				}
				return cmp.Diff([]string{"adobeID:Acrobat", "federatedID:All Apps"}, got)
			},
		},
		{
			name: "federated create over an existing Adobe ID creates nothing",
			cmds: `[{"user":"pa@example.org","do":[{"addAdobeID":{"email":"pa@example.org"}}]},
				{"user":"pa@example.org","do":[{"createFederatedID":{"email":"pa@example.org","firstname":"P","lastname":"Q","country":"DE"}},{"add":{"group":["Acrobat"]}}]}]`,
			want: ok(2),
			check: func(c *testClient) string {
				var got []string
				for _, u := range c.sim.State().Users {
					if u.Email == "pa@example.org" {
						got = append(got, u.Type+":"+strings.Join(u.Groups, ","))
					}
				}
				return cmp.Diff([]string{"adobeID:Acrobat"}, got)
			},
		},
		{
			name: "federated create on an unclaimed Adobe ID email",
			cmds: `[{"user":"pat@gmail.com","do":[{"createFederatedID":{"email":"pat@gmail.com","firstname":"P","lastname":"Q","country":"DE"}}]}]`,
			want: failed("0/0 error.domain.trust.nonexistent"),
		},
		{
			name: "usergroup create, add users and profiles, update, then remove",
			cmds: `[{"usergroup":"Writers","requestID":"g1","do":[{"createUserGroup":{"option":"ignoreIfAlreadyExists","description":"Docs"}},
					{"add":{"user":["ana@example.org","li@ent.example.com"],"productConfiguration":["Acrobat"]}}]},
				{"usergroup":"Writers","do":[{"remove":{"user":["li@ent.example.com"]}},{"updateUserGroup":{"name":"Authors","description":"Doc writers"}}]}]`,
			want: ok(2),
			check: func(c *testClient) string {
				st := c.sim.State()
				var g *SeedGroup
				for i := range st.Groups {
					if st.Groups[i].Name == "Authors" {
						g = &st.Groups[i]
					}
				}
				if g == nil || g.Description != "Doc writers" || strings.Join(g.ProductConfigurations, ",") != "Acrobat" {
					return fmt.Sprintf("group = %+v", g)
				}
				if gs := groupsOf(c, "ana@example.org"); !strings.Contains(gs, "Authors") {
					return "ana's groups " + gs
				}
				if gs := groupsOf(c, "li@ent.example.com"); strings.Contains(gs, "Authors") {
					return "li's groups " + gs
				}
				return ""
			},
		},
		{
			name: "usergroup errors",
			cmds: `[{"usergroup":"Design Team","do":[{"createUserGroup":{}}]},
				{"usergroup":"All Apps","do":[{"createUserGroup":{"option":"ignoreIfAlreadyExists"}}]},
				{"usergroup":"Nope","do":[{"add":{"user":["ana@example.org"]}}]},
				{"usergroup":"Shared","do":[{"add":{"user":["ana@example.org"]}}]},
				{"usergroup":"Shared","do":[{"deleteUserGroup":{}}]},
				{"usergroup":"Design Team","do":[{"add":{"user":["ghost@example.org"]}}]},
				{"usergroup":"Design Team","do":[{"add":{"productConfiguration":["Nope"]}}]},
				{"usergroup":"_Mine","do":[{"createUserGroup":{"option":"ignoreIfAlreadyExists"}}]},
				{"usergroup":"Design Team","do":[{"deleteUserGroup":{"really":true}}]},
				{"usergroup":"Design Team","do":[{"updateUserGroup":{"name":"All Apps"}}]}]`,
			want: failed("0/0 error.usergroup.already_exists", "1/0 error.usergroup.already_exists",
				"2/0 error.usergroup.not_found", "3/0 error.usergroup.readonly.add_user_not_allowed",
				"4/0 error.usergroup.readonly.remove_not_allowed", "5/0 error.user.nonexistent",
				"6/0 error.group.not_found", "7/0 error.group.invalid_name", "8/0 error.command.object_not_empty",
				"9/0 error.usergroup.already_exists"),
		},
		{
			name: "usergroup profiles on a read-only group are allowed",
			cmds: `[{"usergroup":"Shared","do":[{"add":{"productConfiguration":["Acrobat"]}}]}]`,
			want: ok(1),
		},
		{
			name: "deleteUserGroup drops memberships and stops later steps",
			cmds: `[{"usergroup":"Design Team","do":[{"deleteUserGroup":{}},{"add":{"user":["ana@example.org"]}}]}]`,
			want: failed("0/1 error.usergroup.not_found"),
			check: func(c *testClient) string {
				if g := groupsOf(c, "ana@example.org"); g != "_org_admin" {
					return "groups " + g
				}
				return ""
			},
		},
		{
			name: "usergroup step syntax errors",
			cmds: `[{"usergroup":"Design Team","do":[{"add":{"user":["a@x.org","b@x.org","c@x.org","d@x.org","e@x.org","f@x.org","g@x.org","h@x.org","i@x.org","j@x.org","k@x.org"]}}]},
				{"usergroup":"Design Team","do":[{"add":{"group":["Acrobat"]}}]},
				{"usergroup":"Design Team","do":[{"createUserGroup":{"option":"sometimes"}}]},
				{"usergroup":"Design Team","do":[{"add":{"user":["ana@example.org","ANA@example.org"]}}]},
				{"usergroup":"Design Team","do":[{"add":{"user":["kobi"]}}]},
				{"usergroup":"Design Team","do":[{"removeFromOrg":{}}]},
				{"usergroup":"Design Team","do":[{"add":{}}]},
				{"usergroup":"Design Team","do":[{"updateUserGroup":{"colour":"red"}}]},
				{"usergroup":"Design Team","do":[{"createUserGroup":{"option":"ignoreIfAlreadyExists","name":"Other"}}]},
				{"usergroup":"Shared","do":[{"updateUserGroup":{"description":"x"}}]}]`,
			want: failed("0/0 error.command.add_remove.list_too_long", "1/0 error.command.add_remove.key.unknown",
				"2/0 error.option.illegal", "3/0 error.command.add_remove.duplicate.user_list",
				"4/0 error.usergroup.user_list.invalid", "5/0 error.command.step.unknown",
				"6/0 error.command.add_remove.missing_list", "7/0 error.command.illegal_entry",
				"8/0 error.command.illegal_entry", "9/0 error.usergroup.readonly.update_not_allowed"),
		},
		{
			name: "createUserGroup updateIfAlreadyExists changes the description",
			cmds: `[{"usergroup":"design team","do":[{"createUserGroup":{"option":"updateIfAlreadyExists","description":"New words"}},{"remove":{"user":["ana@example.org"]}}]}]`,
			want: ok(1),
			check: func(c *testClient) string {
				for _, g := range c.sim.State().Groups {
					if g.Name == "Design Team" && g.Description != "New words" {
						return "description " + g.Description
					}
				}
				if g := groupsOf(c, "ana@example.org"); g != "_org_admin" {
					return "groups " + g
				}
				return ""
			},
		},
		{
			name: "more admin groups",
			cmds: `[{"user":"li@ent.example.com","do":[{"add":{"group":["_developer_Acrobat","_deployment_admin","_admin_All Apps"]}},{"remove":{"group":["_developer_acrobat"]}}]},
				{"user":"li@ent.example.com","do":[{"add":{"group":["_developer_Design Team"]}}]},
				{"user":"li@ent.example.com","do":[{"add":{"group":["_product_admin_Nothing"]}}]}]`,
			want: summary{Result: "partial", Completed: 1, NotCompleted: 2,
				Errors: []string{"1/0 error.group.not_found", "2/0 error.group.not_found"}},
			check: func(c *testClient) string {
				st := c.sim.State()
				types := map[string]string{}
				for _, g := range st.Groups {
					types[g.Name] = g.Type
				}
				want := map[string]string{"_developer_Acrobat": "DEVELOPER_GROUP", "_deployment_admin": "DEPLOYMENT_ADMIN_GROUP", "_admin_All Apps": "PROFILE_ADMIN_GROUP"}
				for n, ty := range want {
					if types[n] != ty {
						return fmt.Sprintf("group %s type %q; want %s", n, types[n], ty)
					}
				}
				if g := groupsOf(c, "li@ent.example.com"); g != "_admin_All Apps,_deployment_admin,Acrobat" {
					return "groups " + g
				}
				return ""
			},
		},
		{
			name: "remove from a read-only user group",
			cmds: `[{"user":"ana@example.org","do":[{"remove":{"group":["Shared"]}}]},{"user":"ana@example.org","do":[{"add":{"group":["Shared"]}}]}]`,
			want: failed("0/0 error.usergroup.readonly.remove_user_not_allowed", "1/0 error.usergroup.readonly.add_user_not_allowed"),
		},
		{
			name: "partial",
			cmds: `[{"user":"ana@example.org","do":[{"add":{"group":["Acrobat"]}}]},{"user":"ana@example.org","do":[{"add":{"group":["Nope"]}}]}]`,
			want: summary{Result: "partial", Completed: 1, NotCompleted: 1, Errors: []string{"1/0 error.group.not_found"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestSim(t, Options{})
			res := c.action(tt.cmds, false)
			if diff := cmp.Diff(tt.want, summarize(res)); diff != "" {
				t.Errorf("action(%s) summary mismatch (-want +got):\n%s\nerrors: %+v", tt.name, diff, res.Errors)
			}
			if tt.check != nil {
				if msg := tt.check(c); msg != "" {
					t.Errorf("after action: %s", msg)
				}
			}
		})
	}
}

func checkUser(email, username, firstname string) func(*testClient) string {
	return func(c *testClient) string {
		u := c.user(email)
		if u == nil || u.Username != username || u.Firstname != firstname {
			return fmt.Sprintf("user %s = %+v; want username %s firstname %s", email, u, username, firstname)
		}
		return ""
	}
}

func TestActionErrorShape(t *testing.T) {
	c := newTestSim(t, Options{})
	res := c.action(`[{"user":"ana@example.org","requestID":"action_7","do":[{"add":{"product":["Acrobat"]}},{"add":{"group":["Nope"]}}]},
		{"usergroup":"Nope","do":[{"add":{"user":["ana@example.org"]}}]}]`, false)
	want := actionResult{Result: "error", NotCompleted: 2,
		Errors: []issue{
			{Index: 0, Step: 1, RequestID: "action_7", User: "ana@example.org", ErrorCode: "error.group.not_found", Message: "Group Nope was not found"},
			{Index: 1, Step: 0, User: "Nope", ErrorCode: "error.usergroup.not_found", Message: "User group Nope was not found"},
		},
		Warnings: []issue{{Index: 0, Step: 0, RequestID: "action_7", User: "ana@example.org",
			WarningCode: "warning.command.deprecated", Message: "'product' command is deprecated. Please use productConfiguration."}},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("response mismatch (-want +got):\n%s", diff)
	}
	// Raw JSON: all three counters present even when zero; errors and
	// warnings absent when empty.
	_, data := c.do("POST", "/action/"+testOrg, `[{"user":"ana@example.org","do":[{"remove":"all"}]}]`)
	var raw map[string]any
	json.Unmarshal(data, &raw)
	wantRaw := map[string]any{"result": "success", "completed": 1.0, "notCompleted": 0.0, "completedInTestMode": 0.0}
	if diff := cmp.Diff(wantRaw, raw); diff != "" {
		t.Errorf("success body mismatch (-want +got):\n%s", diff)
	}
}

func TestTestOnly(t *testing.T) {
	c := newTestSim(t, Options{})
	before := mustJSON(c.sim.State())
	cmds := `[{"user":"new@example.org","do":[{"createFederatedID":{"email":"new@example.org","firstname":"N","lastname":"U","country":"DE"}},{"add":{"group":["Acrobat"]}}]},
		{"user":"new@example.org","do":[{"createFederatedID":{"email":"new@example.org","firstname":"N","lastname":"U","country":"DE"}}]},
		{"user":"ghost@example.org","do":[{"update":{"firstname":"G"}},{"add":{"group":["All Apps"]}},{"removeFromOrg":{}}]},
		{"user":"ana@example.org","do":[{"add":{"group":["Nope"]}}]},
		{"user":"ana@example.org","do":[{"createFederatedID":{"email":"ana@example.org","firstname":"A","lastname":"R","country":"ES"}}]},
		{"user":"pat@gmail.com","do":[{"update":{"firstname":"P"}}]},
		{"usergroup":"Fresh","do":[{"createUserGroup":{"option":"ignoreIfAlreadyExists"}},{"add":{"user":["ana@example.org"]}}]},
		{"user":"ana@example.org","do":[{"removeFromOrg":{"deleteAccount":true}}]}]`
	res := c.action(cmds, true)
	want := summary{Result: "partial", CompletedTesting: 5, NotCompleted: 3,
		Errors: []string{"3/0 error.group.not_found", "4/0 error.user.already_in_org", "5/0 error.update.adobeid.no"}}
	if diff := cmp.Diff(want, summarize(res)); diff != "" {
		t.Errorf("testOnly summary mismatch (-want +got):\n%s", diff)
	}
	if after := mustJSON(c.sim.State()); after != before {
		t.Errorf("testOnly changed the org:\nbefore %s\nafter  %s", before, after)
	}
	// The same creates for real: the second one fails.
	res = c.action(cmds[:strings.Index(cmds, `{"user":"ghost`)]+`{"user":"x@example.org","do":[{"remove":"all"}]}]`, false)
	if got := errs(res); !cmp.Equal(got, []string{"1/0 error.user.already_in_org", "2/0 error.user.nonexistent"}) {
		t.Errorf("real run errors = %v", got)
	}
}

func TestWholeRequestErrors(t *testing.T) {
	c := newTestSim(t, Options{})
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"user":"ana@example.org","do":[{"remove":"all"}]},`, 11), ",") + "]"
	big := `[{"user":"ana@example.org","requestID":"` + strings.Repeat("x", maxActionBody) + `","do":[{"remove":"all"}]}]`
	tests := []struct {
		name, path, body string
		status           int
		result           string
	}{
		{"malformed JSON", "/action/" + testOrg, `[{"user":`, 400, "error.command.malformed"},
		{"trailing data", "/action/" + testOrg, `[{"user":"ana@example.org","do":[{"remove":"all"}]}] ]`, 400, "error.command.malformed"},
		{"not an array", "/action/" + testOrg, `{"user":"ana@example.org","do":[]}`, 400, "error.command.malformed"},
		{"empty array", "/action/" + testOrg, `[]`, 400, "error.command.malformed"},
		{"eleven commands", "/action/" + testOrg, many, 400, "error.command.malformed"},
		{"over 1 MB", "/action/" + testOrg, big, 413, "error.command.malformed"},
		{"wrong org", "/action/FEDCBA0987654321@AdobeOrg", `[{"user":"ana@example.org","do":[{"remove":"all"}]}]`, 400, "error.organization.invalid_id"},
	}
	for _, tt := range tests {
		resp, data := c.do("POST", tt.path, tt.body)
		var rm resultMessage
		json.Unmarshal(data, &rm)
		if resp.StatusCode != tt.status || rm.Result != tt.result || rm.Message == "" {
			t.Errorf("%s: POST = %d %s; want %d with result %s and a message", tt.name, resp.StatusCode, data, tt.status, tt.result)
		}
	}
	if st := c.sim.Stats(); st.Commands != 0 {
		t.Errorf("rejected requests counted %d commands; want 0", st.Commands)
	}
}
