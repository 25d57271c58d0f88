package ldap

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

func parse(t *testing.T, yml string, secrets config.Secrets) (Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "connector-ldap.yml")
	n, err := config.Parse(path, []byte(yml), "")
	if err != nil {
		t.Fatal(err)
	}
	return ParseConfig(context.Background(), n, secrets)
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := parse(t, "host: ldap://dc1.example.com\nbase_dn: DC=example,DC=com\nusername: svc@example.com\npassword: pw\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"url": c.URL.String(), "auth": c.Auth, "page": c.SearchPageSize, "tls": c.RequireTLSCert, "skip": c.SkipVerify, "starttls": c.StartTLS,
		"all": c.AllUsersFilter, "group": c.GroupFilterFormat, "member": c.GroupMemberFilterFormat,
		"email": c.EmailFmt.String(), "given": c.GivenNameFmt.String(), "sn": c.SurnameFmt.String(),
		"country": c.CountryFmt.String(), "username": c.UsernameFmt.String(), "domain": c.DomainFmt.String(),
		"idfmt": c.IdentityTypeFmt.String(), "idtype": c.UserIdentityType, "two": c.TwoSteps == nil,
		"dyn": c.DynamicMemberAttribute, "enc": c.StringEncoding, "logger": c.LoggerName, "referrals": c.Referrals,
	}
	want := map[string]any{
		"url": "ldap://dc1.example.com:389", "auth": AuthSimple, "page": 200, "tls": false, "skip": false, "starttls": false,
		"all":    "(&(objectClass=user)(objectCategory=person)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
		"group":  "(&(|(objectCategory=group)(objectClass=groupOfNames)(objectClass=posixGroup))(cn={group}))",
		"member": "(memberOf={group_dn})", "email": "{mail}", "given": "{givenName}", "sn": "{sn}", "country": "{c}",
		"username": "", "domain": "", "idfmt": "", "idtype": core.IdentityType(""), "two": true, "dyn": "",
		"enc": "utf8", "logger": "ldap", "referrals": "fail",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults differ (-want +got):\n%s", diff)
	}
	if string(c.Password) != "pw" {
		t.Errorf("Password not read")
	}
}

func TestParseConfigValues(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := writeCerts(dir); err != nil {
		t.Fatal(err)
	}
	c, err := parse(t, `host: LDAPS://dc1.example.com
base_dn: ""
username: 'EXAMPLE\svc'
password: pw
authentication_method: NTLM
require_tls_cert: yes
ca_cert_file: `+ca+`
search_page_size: 0
referrals: Follow
all_users_filter: objectClass=person
group_filter_format: (cn={group})
two_steps_lookup:
  group_member_attribute_name: member
  nested_group: True
dynamic_group_member_attribute: memberOf
string_encoding: latin1
user_identity_type: federatedid
user_identity_type_format: "{t}ID"
user_email_format: "{uid}@example.com"
user_username_format: "{sAMAccountName}"
user_domain_format: example.com
user_given_name_format: "{givenName}"
user_surname_format: "{sn}"
user_country_code_format: US
logger_name: dir
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.URL.String(), c.BaseDN, c.Auth, c.RequireTLSCert, c.StartTLS, c.RootCAs != nil, c.SearchPageSize,
		c.Referrals, c.AllUsersFilter, *c.TwoSteps, c.DynamicMemberAttribute, c.UserIdentityType,
		c.IdentityTypeFmt.Attrs(), c.EmailFmt.Attrs(), c.DomainFmt.Attrs(), c.CountryFmt.String(), c.LoggerName}
	want := []any{"ldaps://dc1.example.com:636", "", AuthNTLM, true, false, true, 0,
		"follow", "objectClass=person", TwoStepsLookup{MemberAttribute: "member", Nested: true}, "memberOf", core.FederatedID,
		[]string{"t"}, []string{"uid"}, []string(nil), "US", "dir"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values differ (-want +got):\n%s", diff)
	}
}

func TestParseConfigAuth(t *testing.T) {
	tests := []struct {
		yml  string
		want AuthMethod
	}{
		{"", AuthAnonymous},
		{"authentication_method: simple\n", AuthAnonymous}, // no username: UST falls back
		{"authentication_method: Anonymous\npassword: ignored\n", AuthAnonymous},
		{"username: cn=x\npassword: p\n", AuthSimple},
		{"username: 'D\\u'\npassword: p\nauthentication_method: ntlm\n", AuthNTLM},
	}
	for _, tc := range tests {
		c, err := parse(t, "host: h\nbase_dn: dc=x\n"+tc.yml, nil)
		if err != nil {
			t.Errorf("ParseConfig(%q): %v", tc.yml, err)
			continue
		}
		if c.Auth != tc.want {
			t.Errorf("ParseConfig(%q).Auth = %v; want %v", tc.yml, c.Auth, tc.want)
		}
		if c.Auth == AuthAnonymous && c.Password != "" {
			t.Errorf("ParseConfig(%q): anonymous config kept a password", tc.yml)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	const base = "host: ldap://h\nbase_dn: dc=x\nusername: cn=u\npassword: s3cret-pw\n"
	tests := []struct {
		name, yml string
		want      string // substring of the error, which also carries file and line
	}{
		{"unknown key", base + "serach_page_size: 10\n", `:5: serach_page_size: unknown key (did you mean "search_page_size"?)`},
		{"unknown two-steps key", base + "two_steps_lookup:\n  group_member_attribute: member\n", ":6: two_steps_lookup.group_member_attribute: unknown key"},
		{"missing host", "base_dn: dc=x\n", "host: required value is missing"},
		{"missing base_dn", "host: h\n", `base_dn: required value is missing`},
		{"bad scheme", "host: http://h\nbase_dn: dc=x\n", ":1: host: must start with ldap:// or ldaps://"},
		{"path in host", "host: ldap://h/dc=x\nbase_dn: dc=x\n", "put the search base in base_dn"},
		{"bad base_dn", "host: h\nbase_dn: not a dn\n", ":2: base_dn: not a valid DN"},
		{"no password", "host: h\nbase_dn: dc=x\nusername: cn=u\n", "required: give password or secure_password_key"},
		{"both passwords", base + "secure_password_key: k\n", "give either password or secure_password_key, not both"},
		{"anonymous with username", base + "authentication_method: anonymous\n", ":5: authentication_method: anonymous binds take no username"},
		{"kerberos", base + "authentication_method: kerberos\n", "kerberos is not supported"},
		{"unknown method", base + "authentication_method: sasl\n", "must be simple, anonymous or ntlm"},
		{"ntlm without domain", base + "authentication_method: ntlm\n", `ntlm binds need DOMAIN\user`},
		{"bad bool", base + "require_tls_cert: maybe\n", ":5: require_tls_cert: must be true or false"},
		{"start_tls on ldaps", "host: ldaps://h\nbase_dn: dc=x\nstart_tls: yes\n", "StartTLS is for ldap:// hosts"},
		{"missing ca file", base + "ca_cert_file: nowhere.pem\n", ":5: ca_cert_file: cannot read CA certificates"},
		{"negative page", base + "search_page_size: -1\n", "must be 0 (unpaged) or more"},
		{"page not a number", base + "search_page_size: lots\n", "must be a whole number"},
		{"bad referrals", base + "referrals: chase\n", "must be fail, follow or ignore"},
		{"bad filter", base + "all_users_filter: (&(objectClass=user)\n", ":5: all_users_filter: not a valid LDAP filter"},
		{"group filter without placeholder", base + "group_filter_format: (cn=x)\n", "must contain {group}"},
		{"member filter without placeholder", base + "group_member_filter_format: (memberOf=x)\n", "must contain {group_dn}"},
		{"two steps with member filter", base + "group_member_filter_format: (memberOf={group_dn})\ntwo_steps_lookup:\n  group_member_attribute_name: member\n", "cannot be used together with two_steps_lookup"},
		{"two steps without attribute", base + "two_steps_lookup:\n  nested_group: yes\n", "group_member_attribute_name: required value is missing"},
		{"bad identity type", base + "user_identity_type: googleID\n", `invalid identity type "googleID"`},
		{"bad format", base + "user_email_format: \"{mail\"\n", ":5: user_email_format: format \"{mail\": '{' at position 1 is not closed"},
		{"empty email format", base + "user_email_format: \"\"\n", "every user needs an email"},
		{"bad encoding", base + "string_encoding: klingon\n", `unknown encoding "klingon"`},
		{"list for string", base + "logger_name: [a, b]\n", "must be a single value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.yml, nil)
			if err == nil {
				t.Fatalf("ParseConfig(%q) succeeded; want error containing %q", tc.yml, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig error = %q; want it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "connector-ldap.yml") {
				t.Errorf("ParseConfig error = %q; want it to name the file", err)
			}
			if strings.Contains(err.Error(), "s3cret-pw") {
				t.Errorf("ParseConfig error = %q contains the password", err)
			}
		})
	}
}

func TestParseConfigKeyringErrorHidesNothingSecret(t *testing.T) {
	_, err := parse(t, "host: h\nbase_dn: dc=x\nusername: cn=u\nsecure_password_key: ldap\n", secretsFake{"other", "cn=u", "pw"})
	if err == nil || !strings.Contains(err.Error(), `looking up "ldap" for "cn=u"`) {
		t.Errorf("ParseConfig with a missing keyring entry: error = %v; want it to name the key and user", err)
	}
}

func TestSecretIsRedacted(t *testing.T) {
	c := Config{Password: "hunter2"}
	for _, s := range []string{fmtSprint("%v", c), fmtSprint("%+v", c), fmtSprint("%#v", c), fmtSprint("%s", c.Password)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("formatted Config %q shows the password", s)
		}
	}
}

func TestExampleConfigParses(t *testing.T) {
	n, err := config.LoadFile(filepath.Join("testdata", "connector-ldap.yml"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseConfig(context.Background(), n, secretsFake{"my_ldap_password", `EXAMPLE\svc-usersync`, "x"}); err != nil {
		t.Fatalf("ParseConfig(testdata/connector-ldap.yml): %v", err)
	}
	// Every key is read, so a loader's unused-key check finds nothing.
	if u := n.Unused(); len(u) != 0 {
		t.Errorf("keys left unread: %v", u)
	}
}

func configParse(t testing.TB, yml string) (*config.Node, error) {
	t.Helper()
	return config.Parse(filepath.Join(t.TempDir(), "connector-ldap.yml"), []byte(yml), "")
}

func TestParseConfigTLS(t *testing.T) {
	tests := []struct {
		yml                     string
		require, skip, starttls bool
	}{
		{"host: ldap://h\n", false, false, false},
		{"host: ldap://h\nrequire_tls_cert: true\n", true, false, true},
		{"host: ldap://h\nrequire_tls_cert: true\nstart_tls: no\n", true, false, false},
		{"host: ldap://h\nrequire_tls_cert: false\n", false, true, false},
		{"host: ldap://h\nstart_tls: yes\n", false, false, true},
		{"host: ldaps://h\n", false, false, false},
		{"host: ldaps://h\nrequire_tls_cert: False\n", false, true, false},
		{"host: ldaps://h\nrequire_tls_cert: True\n", true, false, false},
	}
	for _, tc := range tests {
		c, err := parse(t, tc.yml+"base_dn: dc=x\n", nil)
		if err != nil {
			t.Errorf("ParseConfig(%q): %v", tc.yml, err)
			continue
		}
		if c.RequireTLSCert != tc.require || c.SkipVerify != tc.skip || c.StartTLS != tc.starttls {
			t.Errorf("ParseConfig(%q): require %v, skip %v, starttls %v; want %v, %v, %v", tc.yml,
				c.RequireTLSCert, c.SkipVerify, c.StartTLS, tc.require, tc.skip, tc.starttls)
		}
	}
}

// FuzzParseConfig checks that no connector-ldap.yml makes ParseConfig
// panic, and that errors never carry the password.
func FuzzParseConfig(f *testing.F) {
	f.Add("host: ldap://h\nbase_dn: dc=x\nusername: u\npassword: pw-Fuzz-1\n")
	f.Add("host: ldaps://h:1\nbase_dn: \"\"\ntwo_steps_lookup:\n  group_member_attribute_name: member\n")
	f.Add("host: h\nbase_dn: dc=x\nuser_email_format: \"{mail}@{{x}}\"\nall_users_filter: (&(a=b)\n")
	f.Fuzz(func(t *testing.T, yml string) {
		n, err := config.Parse("connector-ldap.yml", []byte(yml), "")
		if err != nil {
			return
		}
		_, err = ParseConfig(context.Background(), n, secretsFake{"k", "u", "pw-Fuzz-1"})
		if err != nil && strings.Contains(err.Error(), "pw-Fuzz-1") {
			t.Fatalf("error %q contains the password", err)
		}
	})
}
