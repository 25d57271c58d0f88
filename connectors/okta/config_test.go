package okta

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// fakeSecrets is a keyring with a fixed set of entries.
type fakeSecrets map[[2]string]string

func (s fakeSecrets) Secret(_ context.Context, service, user string) (string, error) {
	v, ok := s[[2]string{service, user}]
	if !ok {
		return "", config.ErrSecretNotFound
	}
	return v, nil
}

func parseYAML(t *testing.T, text string, secrets config.Secrets) (Config, error) {
	t.Helper()
	n, err := config.Parse("connector-okta.yml", []byte(text), "")
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	c, err := ParseConfig(context.Background(), n, secrets)
	if err == nil {
		// Every key must count as read, or a caller's unused-key check
		// would reject a valid file.
		for _, e := range n.Unused() {
			t.Errorf("key left unread: %v", e)
		}
	}
	return c, err
}

// summary projects a Config onto comparable strings.
func (c Config) summary() map[string]string {
	return map[string]string{
		"host": c.Host, "token": c.APIToken.Reveal(), "group_filter_format": c.GroupFilterFormat,
		"all_users_filter": c.AllUsersFilter.String(), "type": string(c.UserIdentityType),
		"type_format": c.UserIdentityTypeFormat.String(), "email": c.EmailFormat.String(),
		"username": c.UsernameFormat.String(), "domain": c.DomainFormat.String(),
		"given": c.GivenNameFormat.String(), "surname": c.SurnameFormat.String(),
		"country": c.CountryCodeFormat.String(), "encoding": c.StringEncoding, "logger": c.LoggerName,
	}
}

func TestParseConfig(t *testing.T) {
	defaults := map[string]string{
		"host": "https://example.okta.com", "token": "tok", "group_filter_format": "{group}",
		"all_users_filter": `user.status == "ACTIVE"`, "type": "", "type_format": "", "email": "{email}",
		"username": "", "domain": "", "given": "{firstName}", "surname": "{lastName}",
		"country": "{countryCode}", "encoding": "utf8", "logger": "okta",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range defaults {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	secrets := fakeSecrets{{"UST Okta Token", "example.okta.com"}: "from-keyring"}
	tests := []struct {
		name, yaml string
		want       map[string]string
		wantErr    string
	}{
		{name: "defaults", yaml: "host: example.okta.com\napi_token: tok\n", want: defaults},
		{name: "https kept, trailing slash dropped", yaml: "host: https://example.okta.com/\napi_token: tok\n", want: defaults},
		{name: "keyring, user is the host as written", yaml: "host: example.okta.com\nsecure_api_token_key: UST Okta Token\n",
			want: with("token", "from-keyring")},
		{name: "every key", yaml: `host: example.okta.com
api_token: tok
group_filter_format: "{group}"
all_users_filter: 'user.status == "ACTIVE" and user.profile.department == "Design"'
string_encoding: latin1
user_identity_type: enterpriseid
user_identity_type_format: "{idType}ID"
user_email_format: "{login}"
user_username_format: "{department}_{user_id}"
user_domain_format: "{domain}"
user_given_name_format: "{nickName}"
user_surname_format: "{familyName}"
user_country_code_format: "{c}"
logger_name: myokta
`, want: with("all_users_filter", `user.status == "ACTIVE" and user.profile.department == "Design"`,
			"encoding", "latin1", "type", "enterpriseID", "type_format", "{idType}ID", "email", "{login}",
			"username", "{department}_{user_id}", "domain", "{domain}", "given", "{nickName}",
			"surname", "{familyName}", "country", "{c}", "logger", "myokta")},
		{name: "missing host", yaml: "api_token: tok\n", wantErr: "host: required value is missing"},
		{name: "http refused", yaml: "host: http://example.okta.com\napi_token: tok\n", wantErr: "must use https"},
		{name: "missing token", yaml: "host: example.okta.com\n", wantErr: "required: give api_token or secure_api_token_key"},
		{name: "both token forms", yaml: "host: example.okta.com\napi_token: tok\nsecure_api_token_key: k\n", wantErr: "not both"},
		{name: "keyring miss", yaml: "host: other.okta.com\nsecure_api_token_key: UST Okta Token\n", wantErr: `looking up "UST Okta Token" for "other.okta.com"`},
		{name: "unknown key", yaml: "host: example.okta.com\napi_token: tok\nall_user_filter: x\n", wantErr: `connector-okta.yml:3: all_user_filter: unknown key (did you mean "all_users_filter"?)`},
		{name: "filter syntax", yaml: "host: example.okta.com\napi_token: tok\nall_users_filter: 'user.status =='\n", wantErr: "connector-okta.yml:3: all_users_filter: invalid expression"},
		{name: "filter unknown name", yaml: "host: example.okta.com\napi_token: tok\nall_users_filter: 'usr.status == 1'\n", wantErr: "undefined: usr"},
		{name: "bad identity type", yaml: "host: example.okta.com\napi_token: tok\nuser_identity_type: okta\n", wantErr: "invalid identity type"},
		{name: "bad format", yaml: "host: example.okta.com\napi_token: tok\nuser_email_format: '{email'\n", wantErr: "user_email_format: format \"{email\""},
		{name: "bad group format", yaml: "host: example.okta.com\napi_token: tok\ngroup_filter_format: '{name}'\n", wantErr: "only placeholder is {group}"},
		{name: "list where a value goes", yaml: "host: example.okta.com\napi_token: [a, b]\n", wantErr: "api_token: must be a single value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseYAML(t, tc.yaml, secrets)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseConfig() error = %v; want one containing %q", err, tc.wantErr)
				}
				for _, secret := range []string{"tok\n", "from-keyring"} {
					if strings.Contains(err.Error(), strings.TrimSpace(secret)+" ") {
						t.Errorf("error %q shows a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got.summary()); diff != "" {
				t.Errorf("ParseConfig() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConfigKeepsHostAsWritten(t *testing.T) {
	got, err := parseYAML(t, "host: Example.okta.com\napi_token: tok\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.HostAsWritten != "Example.okta.com" || got.UserIdentityType != core.IdentityType("") {
		t.Errorf("HostAsWritten = %q, type %q; want as written, empty type", got.HostAsWritten, got.UserIdentityType)
	}
}

func mustNode(tb testing.TB, text string) *config.Node {
	tb.Helper()
	n, err := config.Parse("connector-okta.yml", []byte(text), "")
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
