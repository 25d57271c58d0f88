package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/usersync/usersync/core"
)

// fakeSecrets is an in-memory keyring: (service, user) -> secret.
type fakeSecrets map[[2]string]string

func (f fakeSecrets) Secret(_ context.Context, service, user string) (string, error) {
	v, ok := f[[2]string{service, user}]
	if !ok {
		return "", ErrSecretNotFound
	}
	return v, nil
}

type stubHook struct{ File, Src string }

func (stubHook) Run(context.Context, *core.HookContext) error { return nil }

type compiled struct {
	file string
	line int
	src  string
}

var regexpCmp = cmp.Comparer(func(a, b *regexp.Regexp) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.String() == b.String()
})

// TestLoadUSTExample loads a complete UST-style configuration (testdata/ust)
// and checks every value it sets (UST §2.3, §2.4, §2.9, §1.3).
func TestLoadUSTExample(t *testing.T) {
	dir, _ := filepath.Abs("testdata/ust")
	var got compiled
	secrets := fakeSecrets{{"umapi_client_secret", "1234567890ABCDEF@AdobeOrg"}: "s3cret-primary"}
	c, err := Load(filepath.Join(dir, "user-sync-config.yml"), LoadOptions{
		Secrets: secrets,
		CompileHook: func(file string, line int, src string) (core.Hook, error) {
			got = compiled{file, line, src}
			return stubHook{file, src}, nil
		},
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := core.Options{
		Strategy:            core.StrategySync,
		Users:               core.UsersMapped,
		AdobeUsers:          core.AdobeUsersAll,
		ProcessGroups:       true,
		AdobeOnlyAction:     core.AdobeOnlyPreserve,
		DefaultIdentityType: core.FederatedID,
		DefaultCountry:      "US",
		GroupMapping: []core.GroupMapping{
			{DirectoryGroup: "Acrobat DC Users", AdobeGroups: []string{"Default Acrobat Pro DC configuration", "Acrobat Extra"}},
			{DirectoryGroup: "Photoshop Users", AdobeGroups: []string{"Default Photoshop CC configuration", "org2::Trustee Photoshop"}},
			{DirectoryGroup: "Staff"},
		},
		AdditionalGroups: []core.AdditionalGroupRule{
			{Source: regexp.MustCompile(`AEM-ACL-(.+)`), Target: `AEM-\1`},
			{Source: regexp.MustCompile(`ACL-GRP-(\d+)`), Target: `org2::ACL Group \1`},
		},
		AutoCreate:           true,
		ExcludeIdentityTypes: []core.IdentityType{core.AdobeID},
		ExcludeAdobeGroups:   []string{"_org_admin"},
		ExcludeUsers:         []*regexp.Regexp{regexp.MustCompile(`.*@example\.com`), regexp.MustCompile(`admin.*`)},
		UpdateAttributes:     []string{"firstname", "lastname"},
		MaxAdobeOnly:         core.Limit{Set: true, Percent: 5, IsPercent: true, Text: "5%"},
		GroupRemovalsOnly:    true,
		Hook:                 stubHook{filepath.Join(dir, "extension-config.yml"), got.src},
		ExtendedAttributes:   []string{"bc", "subco"},
		ExtendedAdobeGroups:  []string{"Acrobat_Sunday_Special", "org2::Group for Test 011 TCP"},
		Secondaries:          []string{"org2"},
	}
	if diff := cmp.Diff(want, c.Options, regexpCmp); diff != "" {
		t.Errorf("Options mismatch (-want +got):\n%s", diff)
	}
	wantHook := compiled{filepath.Join(dir, "extension-config.yml"), 8,
		"bc = source_attributes['bc']\nsubco = source_attributes['subco']\nif bc is not None:\n    target_attributes['country'] = bc[0:2]\nif subco is not None:\n    target_groups.add('Acrobat_Sunday_Special')\n"}
	if diff := cmp.Diff(wantHook, got, cmp.AllowUnexported(compiled{})); diff != "" {
		t.Errorf("hook compiled with (-want +got):\n%s", diff)
	}
	if c.Extension == nil || c.Extension.Line != 8 || c.Extension.Source != wantHook.src {
		t.Errorf("Extension = %+v; want line 8 and the hook text", c.Extension)
	}

	wantUMAPI := map[string]*UMAPIConfig{
		core.PrimaryOrg: {Name: core.PrimaryOrg,
			File:  filepath.Join(dir, "connector-umapi.yml") + "+" + filepath.Join(dir, "connector-umapi-override.yml"),
			OrgID: "1234567890ABCDEF@AdobeOrg", ClientID: "clientid-primary", ClientSecret: "s3cret-primary", AuthMethod: "oauth",
			Host: "usermanagement.adobe.io", Endpoint: "/v2/usermanagement", AuthHost: "ims-na1.adobelogin.com",
			AuthEndpoint: "/ims/token/v2", Timeout: 60 * time.Second, Retries: 5, SSLVerify: true},
		"org2": {Name: "org2", File: filepath.Join(dir, "secondary/org2-config.yml"),
			OrgID: "FEDCBA0987654321@AdobeOrg", ClientID: "clientid-org2", ClientSecret: "secret-org2", AuthMethod: "oauth",
			Host: "http://127.0.0.1:8080", Endpoint: "/v2/usermanagement", AuthHost: "http://127.0.0.1:8080",
			AuthEndpoint: "/ims/token/v2", Timeout: 120 * time.Second, Retries: 3, SSLVerify: false},
	}
	if diff := cmp.Diff(wantUMAPI, c.UMAPI); diff != "" {
		t.Errorf("UMAPI mismatch (-want +got):\n%s", diff)
	}
	if got, want := c.UMAPI["org2"].BaseURL(), "http://127.0.0.1:8080/v2/usermanagement"; got != want {
		t.Errorf("org2 BaseURL() = %q; want %q", got, want)
	}
	if got, want := c.UMAPI[core.PrimaryOrg].TokenURL(), "https://ims-na1.adobelogin.com/ims/token/v2"; got != want {
		t.Errorf("primary TokenURL() = %q; want %q", got, want)
	}

	wantInv := Invocation{Connector: "ldap", SSLCertVerify: true}
	if diff := cmp.Diff(wantInv, c.Invocation); diff != "" {
		t.Errorf("Invocation mismatch (-want +got):\n%s", diff)
	}
	wantFiles := map[string][]string{
		"ldap": {filepath.Join(dir, "connector-ldap.yml")},
		"csv":  {filepath.Join(dir, "connector-csv.yml")},
	}
	if diff := cmp.Diff(wantFiles, c.DirectoryConnectorFiles); diff != "" {
		t.Errorf("DirectoryConnectorFiles mismatch (-want +got):\n%s", diff)
	}
	ldap := c.DirectoryConnectors["ldap"]
	if ldap == nil {
		t.Fatalf("DirectoryConnectors[ldap] = nil; want the parsed connector-ldap.yml")
	}
	if host, _ := ldap.String("host", ""); host != "ldaps://ldap.example.org" {
		t.Errorf("ldap host = %q; want ldaps://ldap.example.org", host)
	}
	csv, err := c.DirectoryConnector("csv")
	if err != nil || csv == nil {
		t.Fatalf("DirectoryConnector(csv) = %v, %v; want the parsed file", csv, err)
	}
	if col, _ := csv.String("email_column_name", ""); col != "mail" {
		t.Errorf("csv email_column_name = %q; want mail", col)
	}

	wantLog := Logging{LogToFile: true, FileLogDirectory: filepath.Join(dir, "logs"),
		FileLogNameFormat: "ust-{:%Y-%m-%d}.log", FileLogLevel: "debug", ConsoleLogLevel: "warning"}
	if diff := cmp.Diff(wantLog, c.Logging); diff != "" {
		t.Errorf("Logging mismatch (-want +got):\n%s", diff)
	}
	if got, want := c.Logging.FileName(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)), "ust-2026-11-22.log"; got != want {
		t.Errorf("FileName = %q; want %q", got, want)
	}
	if diff := cmp.Diff([]string(nil), c.Warnings); diff != "" {
		t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
	}
}

// TestUMAPIConfigHidesSecret: printing or logging a UMAPIConfig never shows
// the client secret.
func TestUMAPIConfigHidesSecret(t *testing.T) {
	u := UMAPIConfig{Name: "primary", OrgID: "o@AdobeOrg", ClientID: "id", ClientSecret: "TOPSECRET", Host: "h"}
	for _, s := range []string{fmt.Sprint(u), fmt.Sprintf("%+v", u), fmt.Sprintf("%#v", u), fmt.Sprint(&u), u.LogValue().String()} {
		if strings.Contains(s, "TOPSECRET") {
			t.Errorf("formatted UMAPIConfig %q contains the secret", s)
		}
	}
}

// minimal is the smallest valid configuration; tests override files.
var minimal = map[string]string{
	"user-sync-config.yml": `adobe_users:
  connectors:
    umapi: connector-umapi.yml
limits:
  max_adobe_only_users: 200
directory_users:
  connectors:
    ldap: connector-ldap.yml
`,
	"connector-umapi.yml": `enterprise:
  org_id: "ORG@AdobeOrg"
  client_id: cid
  client_secret: csecret
`,
	"connector-ldap.yml": "host: ldap://localhost\nbase_dn: dc=example\n",
	"users.csv":          "email\n",
}

// tree writes minimal overlaid with files (an empty value deletes a file)
// into a temporary directory and returns it.
func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{}
	for k, v := range minimal {
		all[k] = v
	}
	for k, v := range files {
		all[k] = v
	}
	for name, body := range all {
		if body == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadTree(t *testing.T, files map[string]string, args []string, opts LoadOptions) (*Config, error) {
	t.Helper()
	dir := tree(t, files)
	f, err := ParseSyncArgs(args)
	if err != nil {
		return nil, err
	}
	opts.Flags = f
	if opts.CompileHook == nil {
		opts.CompileHook = func(file string, line int, src string) (core.Hook, error) { return stubHook{file, src}, nil }
	}
	path := f.ConfigPath()
	if !strings.HasPrefix(path, "$(") {
		path = filepath.Join(dir, path)
	}
	return Load(path, opts)
}

func mainWith(extra string) map[string]string {
	return map[string]string{"user-sync-config.yml": minimal["user-sync-config.yml"] + extra}
}

// TestLoadDefaults checks the defaults of every key of the main file and of
// the sync options (UST §1.2, §2.3, §2.4).
func TestLoadDefaults(t *testing.T) {
	c, err := loadTree(t, nil, nil, LoadOptions{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := core.Options{
		Strategy: core.StrategySync, Users: core.UsersAll, AdobeUsers: core.AdobeUsersAll,
		AdobeOnlyAction: core.AdobeOnlyPreserve, DefaultIdentityType: core.EnterpriseID,
		UpdateAttributes: []string{"firstname", "lastname", "email"},
		MaxAdobeOnly:     core.Limit{Set: true, Count: 200, Text: "200"},
	}
	if diff := cmp.Diff(want, c.Options, regexpCmp); diff != "" {
		t.Errorf("Options mismatch (-want +got):\n%s", diff)
	}
	u := c.UMAPI[core.PrimaryOrg]
	wantU := &UMAPIConfig{Name: "primary", File: u.File, OrgID: "ORG@AdobeOrg", ClientID: "cid", ClientSecret: "csecret",
		AuthMethod: "oauth", Host: DefaultUMAPIHost, Endpoint: DefaultUMAPIEndpoint, AuthHost: DefaultIMSHost,
		AuthEndpoint: DefaultIMSEndpoint, Timeout: 120 * time.Second, Retries: 3, SSLVerify: true}
	if diff := cmp.Diff(wantU, u); diff != "" {
		t.Errorf("UMAPI mismatch (-want +got):\n%s", diff)
	}
	wantLog := Logging{FileLogDirectory: filepath.Join(filepath.Dir(c.File), "logs"), FileLogNameFormat: "{:%Y-%m-%d}.log",
		FileLogLevel: "info", ConsoleLogLevel: "info", LogProgress: true}
	if diff := cmp.Diff(wantLog, c.Logging); diff != "" {
		t.Errorf("Logging mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Invocation{Connector: "ldap", SSLCertVerify: true}, c.Invocation); diff != "" {
		t.Errorf("Invocation mismatch (-want +got):\n%s", diff)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("Warnings = %q; want none", c.Warnings)
	}
}

// TestLoadValues checks single keys of the main and connector files.
func TestLoadValues(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		check func(c *Config) (got, want any)
	}{
		{"§2.3 limit as a percent string", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"], "200", `"12.5%"`, 1)},
			nil, func(c *Config) (any, any) {
				return c.Options.MaxAdobeOnly, core.Limit{Set: true, Percent: 12.5, IsPercent: true, Text: "12.5%"}
			}},
		{"§2.3 limit as a quoted number", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"], "200", `"0"`, 1)},
			nil, func(c *Config) (any, any) { return c.Options.MaxAdobeOnly, core.Limit{Set: true, Count: 0, Text: "0"} }},
		{"§2.3 identity type case-insensitive", mainWith("  user_identity_type: FEDERATEDid\n"),
			nil, func(c *Config) (any, any) { return c.Options.DefaultIdentityType, core.FederatedID }},
		{"§2.3 update_attributes explicit empty list", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"],
			"adobe_users:\n", "adobe_users:\n  update_attributes: []\n", 1)},
			nil, func(c *Config) (any, any) { return c.Options.UpdateAttributes, []string{} }},
		{"§2.3 exclude lists accept a scalar", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"],
			"adobe_users:\n", "adobe_users:\n  exclude_identity_types: enterpriseid\n  exclude_adobe_groups: _org_admin\n", 1)},
			nil, func(c *Config) (any, any) {
				return [2]any{c.Options.ExcludeIdentityTypes, c.Options.ExcludeAdobeGroups},
					[2]any{[]core.IdentityType{core.EnterpriseID}, []string{"_org_admin"}}
			}},
		{"§2.1 YAML 1.1 booleans in any case", map[string]string{"user-sync-config.yml": minimal["user-sync-config.yml"] +
			"invocation_defaults:\n  process_groups: YES\n  test_mode: on\n  update_user_info: True\n  exclude_unmapped_users: oFF\n"},
			nil, func(c *Config) (any, any) {
				o := c.Options
				return []bool{o.ProcessGroups, o.TestMode, o.UpdateUserInfo, o.ExcludeUnmapped}, []bool{true, true, true, false}
			}},
		{"§1.3 flags win over invocation_defaults; not given keeps the default", map[string]string{"user-sync-config.yml": minimal["user-sync-config.yml"] +
			"invocation_defaults:\n  process_groups: Yes\n  test_mode: Yes\n  users: mapped\n  update_user_info: yes\n"},
			[]string{"--no-process-groups", "-T", "--users", "group", "A,B"}, func(c *Config) (any, any) {
				o := c.Options
				return []any{o.ProcessGroups, o.TestMode, o.Users, o.UsersGroups, o.UpdateUserInfo},
					[]any{false, false, core.UsersGroup, []string{"A", "B"}, true}
			}},
		{"§1.3 list-valued invocation_defaults", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"],
			"umapi: connector-umapi.yml", "umapi:\n      - connector-umapi.yml\n      - org2: connector-umapi.yml", 1) +
			"invocation_defaults:\n  connector: [csv, users.csv]\n  adobe_only_user_action: [write-file, out.csv]\n  adobe_users: [group, \"G1, org2::G2\"]\n"},
			nil, func(c *Config) (any, any) {
				o := c.Options
				return []any{c.Invocation.Connector, c.Invocation.UsersFile, o.AdobeOnlyAction, o.AdobeOnlyFile, o.AdobeUsers, o.AdobeUsersGroups, o.Secondaries},
					[]any{"csv", "users.csv", core.AdobeOnlyWriteFile, "out.csv", core.AdobeUsersGroup, []string{"G1", "org2::G2"}, []string{"org2"}}
			}},
		{"§1.3 ssl_cert_verify false applies to every org", map[string]string{"user-sync-config.yml": minimal["user-sync-config.yml"] +
			"invocation_defaults:\n  ssl_cert_verify: No\n"},
			nil, func(c *Config) (any, any) {
				return []bool{c.Invocation.SSLCertVerify, c.UMAPI["primary"].SSLVerify}, []bool{false, false}
			}},
		{"§2.4 server.ssl_verify overrides ssl_cert_verify", map[string]string{"connector-umapi.yml": minimal["connector-umapi.yml"] + "server:\n  ssl_verify: no\n"},
			nil, func(c *Config) (any, any) { return c.UMAPI["primary"].SSLVerify, false }},
		{"§2.4 empty server section", map[string]string{"connector-umapi.yml": minimal["connector-umapi.yml"] + "server:\n"},
			nil, func(c *Config) (any, any) { return c.UMAPI["primary"].Host, DefaultUMAPIHost }},
		{"§2.4 top-level ssl_verify and uses_business_id warn", map[string]string{"connector-umapi.yml": minimal["connector-umapi.yml"] +
			"ssl_verify: false\nlogger_name: umapi\nuses_business_id: yes\ncolour: blue\n"},
			nil, func(c *Config) (any, any) {
				var short []string
				for _, w := range c.Warnings {
					short = append(short, w[strings.Index(w, "connector-umapi.yml"):])
				}
				return []any{c.UMAPI["primary"].SSLVerify, c.UMAPI["primary"].UsesBusinessID, short}, []any{true, true, []string{
					"connector-umapi.yml:7: uses_business_id is deprecated",
					"connector-umapi.yml:5: ssl_verify: ssl_verify has no effect at the top level: put it under server",
					"connector-umapi.yml:8: colour: unknown key, ignored"}}
			}},
		{"§2.1 a repeated key: the last value wins, as in PyYAML", map[string]string{"connector-umapi.yml": minimal["connector-umapi.yml"] + "  client_id: cid2\n"},
			nil, func(c *Config) (any, any) {
				return []any{c.UMAPI["primary"].ClientID, len(c.Warnings) == 1 && strings.Contains(c.Warnings[0], "connector-umapi.yml:3: enterprise.client_id: repeated key; the value at line 5 is used")},
					[]any{"cid2", true}
			}},
		{"§2.4 trusted", map[string]string{"connector-umapi.yml": minimal["connector-umapi.yml"] + "trusted: yes\n"},
			nil, func(c *Config) (any, any) { return c.Options.TrustedConnector, true }},
		{"§2.4 api_key is client_id's old name", map[string]string{"connector-umapi.yml": strings.Replace(minimal["connector-umapi.yml"], "client_id", "api_key", 1)},
			nil, func(c *Config) (any, any) { return c.UMAPI["primary"].ClientID, "cid" }},
		{"§2.4 ims_endpoint_jwt is auth_endpoint's old name", map[string]string{"connector-umapi.yml": minimal["connector-umapi.yml"] + "server:\n  ims_endpoint_jwt: /ims/token/v3\n"},
			nil, func(c *Config) (any, any) { return c.UMAPI["primary"].AuthEndpoint, "/ims/token/v3" }},
		{"§2.2 keyring user is the org id", map[string]string{"connector-umapi.yml": strings.Replace(strings.Replace(minimal["connector-umapi.yml"],
			"client_id: cid", "secure_client_id_key: kid", 1), "client_secret: csecret", "secure_client_secret_key: ksec", 1)},
			nil, func(c *Config) (any, any) {
				u := c.UMAPI["primary"]
				return []string{u.ClientID, u.ClientSecret}, []string{"id-from-keyring", "secret-from-keyring"}
			}},
		{"§1.2 --users file switches the connector to csv", nil,
			[]string{"--users", "file", "users.csv"}, func(c *Config) (any, any) {
				return []any{c.Options.Users, c.Invocation.Connector, c.Invocation.UsersFile, c.DirectoryConnectors["csv"] == nil},
					[]any{core.UsersFile, "csv", "users.csv", true}
			}},
		{"§2.1 directory connector lists merge in order", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"],
			"ldap: connector-ldap.yml", "ldap: [connector-ldap.yml, sub/ldap-override.yml]", 1),
			"sub/ldap-override.yml": "host: ldaps://other\n"},
			nil, func(c *Config) (any, any) {
				h, _ := c.DirectoryConnectors["ldap"].String("host", "")
				b, _ := c.DirectoryConnectors["ldap"].String("base_dn", "")
				return []string{h, b}, []string{"ldaps://other", "dc=example"}
			}},
		{"§2.1 unknown keys under directory_users.connectors only warn", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"],
			"ldap: connector-ldap.yml", "ldap: connector-ldap.yml\n    sap: connector-sap.yml", 1)},
			nil, func(c *Config) (any, any) {
				return len(c.Warnings) == 1 && strings.Contains(c.Warnings[0], "directory_users.connectors.sap: unknown connector"), true
			}},
		{"§1.4 rule 13 process-groups without mappings warns", nil,
			[]string{"--process-groups"}, func(c *Config) (any, any) {
				return len(c.Warnings) == 1 && strings.Contains(c.Warnings[0], "maps no groups"), true
			}},
		{"§2.3 unknown log level falls back to info with a warning", mainWith("logging:\n  console_log_level: verbose\n"),
			nil, func(c *Config) (any, any) {
				return []any{c.Logging.ConsoleLogLevel, len(c.Warnings)}, []any{"info", 1}
			}},
		{"§2.9 UST_EXTENSION=0 ignores the extension", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"],
			"  connectors:\n    ldap", "  extension: ext.yml\n  connectors:\n    ldap", 1), "ext.yml": "after_mapping_hook: pass\n"},
			[]string{"env:UST_EXTENSION=0"}, func(c *Config) (any, any) {
				return []any{c.Extension == nil, c.Options.Hook == nil, len(c.Warnings)}, []any{true, true, 1}
			}},
		{"§2.9 extended_attributes is optional", map[string]string{"user-sync-config.yml": strings.Replace(minimal["user-sync-config.yml"],
			"  connectors:\n    ldap", "  extension: ext.yml\n  connectors:\n    ldap", 1), "ext.yml": "after_mapping_hook: pass\n"},
			nil, func(c *Config) (any, any) {
				return []any{c.Extension.Line, c.Extension.Source, c.Options.Hook != nil}, []any{1, "pass", true}
			}},
		{"§3.11 adobe-only list mode reads no directory connector", nil,
			[]string{"--adobe-only-user-list", "strays.csv", "--adobe-only-user-action", "delete", "--users", "mapped"}, func(c *Config) (any, any) {
				return []any{c.Invocation.AdobeOnlyListFile, len(c.DirectoryConnectors), c.Options.AdobeOnlyAction, len(c.Invocation.Notes)},
					[]any{"strays.csv", 0, core.AdobeOnlyDelete, 1}
			}},
	}
	secrets := fakeSecrets{{"kid", "ORG@AdobeOrg"}: "id-from-keyring", {"ksec", "ORG@AdobeOrg"}: "secret-from-keyring"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if len(args) > 0 && strings.HasPrefix(args[0], "env:") {
				k, v, _ := strings.Cut(strings.TrimPrefix(args[0], "env:"), "=")
				t.Setenv(k, v)
				args = args[1:]
			}
			c, err := loadTree(t, tt.files, args, LoadOptions{Secrets: secrets})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.check == nil {
				return
			}
			got, want := tt.check(c)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadErrors: every bad input gets one clear error naming the file,
// the key path and the line; command-line mistakes are usage errors.
func TestLoadErrors(t *testing.T) {
	cfg := minimal["user-sync-config.yml"]
	umapi := minimal["connector-umapi.yml"]
	withSecondary := strings.Replace(cfg, "umapi: connector-umapi.yml", "umapi:\n      - connector-umapi.yml\n      - org2: org2.yml", 1)
	withExt := strings.Replace(cfg, "  connectors:\n    ldap", "  extension: ext.yml\n  connectors:\n    ldap", 1)
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		want  string // substring of the message; "FILE" stands for the main file
		usage bool
	}{
		{"§2.1 malformed YAML", map[string]string{"user-sync-config.yml": "adobe_users: [\n"},
			nil, "user-sync-config.yml: malformed YAML", false},
		{"§2.1 top level not a mapping", map[string]string{"user-sync-config.yml": "- a\n- b\n"},
			nil, "the top level must be a mapping", false},
		{"§2.1 missing main file", map[string]string{"user-sync-config.yml": ""},
			nil, "user-sync-config.yml: file not found", false},
		{"§2.1 unknown key with line", mainWith("  default_country: US\n"),
			nil, "user-sync-config.yml:9: directory_users.default_country: unknown key", false},
		{"§2.1 unknown top-level key suggests", mainWith("loging:\n  log_to_file: yes\n"),
			nil, `user-sync-config.yml:9: loging: unknown key (did you mean "logging"?)`, false},
		{"§2.9 old extensions layout", mainWith("extensions:\n  - context: per_user\n"),
			nil, "extensions: unknown key: the extensions section is an old layout", false},
		{"§2.3 unknown group_sync_options key", mainWith("  group_sync_options:\n    auto_create: yes\n    create_all: yes\n"),
			nil, "directory_users.group_sync_options.create_all: unknown key", false},
		{"§2.1 wrong type: mapping where a value is expected", map[string]string{"user-sync-config.yml": cfg + "logging:\n  log_to_file: {a: 1}\n"},
			nil, "user-sync-config.yml:10: logging.log_to_file: must be a single value, not a mapping", false},
		{"§2.1 wrong type: not a boolean", map[string]string{"user-sync-config.yml": cfg + "logging:\n  log_to_file: sometimes\n"},
			nil, `logging.log_to_file: must be true or false (yes/no, on/off), not "sometimes"`, false},
		{"§2.1 wrong type: section not a mapping", map[string]string{"user-sync-config.yml": "adobe_users: [a]\n"},
			nil, "adobe_users: must be a mapping", false},
		{"§2.1 required section adobe_users", map[string]string{"user-sync-config.yml": "directory_users: {connectors: {}}\nlimits: {max_adobe_only_users: 1}\n"},
			nil, "adobe_users: required section is missing", false},
		{"§2.3 required section directory_users", map[string]string{"user-sync-config.yml": "adobe_users: {connectors: {umapi: connector-umapi.yml}}\nlimits: {max_adobe_only_users: 1}\n"},
			nil, "directory_users: required section is missing", false},
		{"§2.3 directory_users.connectors required even for csv", map[string]string{"user-sync-config.yml": "adobe_users: {connectors: {umapi: connector-umapi.yml}}\ndirectory_users: {user_identity_type: enterpriseID}\nlimits: {max_adobe_only_users: 1}\n"},
			nil, "directory_users.connectors: required section is missing", false},
		{"§2.3 required limits", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "limits:\n  max_adobe_only_users: 200\n", "", 1)},
			nil, "limits: required section is missing", false},
		{"§2.3 required max_adobe_only_users", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "max_adobe_only_users: 200", "group_removals_only: no", 1)},
			nil, "limits.max_adobe_only_users: required", false},
		{"§2.3 max_adobe_only_users not numeric", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "200", "lots", 1)},
			nil, `user-sync-config.yml:5: limits.max_adobe_only_users: "lots" is neither a whole number`, false},
		{"§2.3 max_adobe_only_users over 100%", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "200", "101%", 1)},
			nil, "between 0% and 100%", false},
		{"§2.3 umapi connector required", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "umapi: connector-umapi.yml", "", 1)},
			nil, "adobe_users.connectors.umapi: required", false},
		{"§2.1 referenced file missing", map[string]string{"connector-ldap.yml": "", "user-sync-config.yml": cfg},
			nil, "user-sync-config.yml:8: directory_users.connectors.ldap: file", false},
		{"§2.1 $(...) main file name", nil,
			[]string{"-c", "$(cat cfg)"}, "shell execution", false},
		{"§2.1 $(...) referenced file name", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "umapi: connector-umapi.yml", "umapi: $(get-config)", 1)},
			nil, "user-sync-config.yml:3: adobe_users.connectors.umapi: shell execution in file names", false},
		{"§2.1 v1 dashboard", map[string]string{"user-sync-config.yml": "dashboard:\n  owning: dashboard-config.yml\n"},
			nil, "user-sync-config.yml:1: dashboard: this file is still in UST's v1 format", false},
		{"§2.1 v1 directory", map[string]string{"user-sync-config.yml": "directory:\n  groups: []\n"},
			nil, "directory: this file is still in UST's v1 format", false},
		{"§2.1 post_sync", mainWith("post_sync:\n  modules: [sign_sync]\n"),
			nil, "user-sync-config.yml:9: post_sync: post_sync is no longer supported", false},
		{"§2.3 invalid identity type", mainWith("  user_identity_type: googleID\n"),
			nil, `directory_users.user_identity_type: invalid identity type "googleID"`, false},
		{"§2.3 invalid exclude_identity_types", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "adobe_users:\n", "adobe_users:\n  exclude_identity_types: [adobeID, guest]\n", 1)},
			nil, `adobe_users.exclude_identity_types[1]: invalid identity type "guest"`, false},
		{"§2.3 exclude_adobe_groups with org prefix", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "adobe_users:\n", "adobe_users:\n  exclude_adobe_groups: [\"org2::admins\"]\n", 1)},
			nil, "excluded groups must be primary-org groups", false},
		{"§2.3 bad exclude_users regex", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "adobe_users:\n", "adobe_users:\n  exclude_users: [\"(unclosed\"]\n", 1)},
			nil, `user-sync-config.yml:2: adobe_users.exclude_users: invalid regular expression "(unclosed"`, false},
		{"§2.3 regex with look-ahead names the engine limit", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "adobe_users:\n", "adobe_users:\n  exclude_users: [\"(?!admin).*\"]\n", 1)},
			nil, "look-ahead ((?!) is not supported", false},
		{"§2.3 regex with look-behind says so", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "adobe_users:\n", "adobe_users:\n  exclude_users: [\"(?<!admin)x\"]\n", 1)},
			nil, "look-behind ((?<!) is not supported", false},
		{"§2.3 regex with a back-reference says so", mainWith("  additional_groups:\n    - source: \"(A)-\\\\1\"\n      target: x\n"),
			nil, `back-references (\1) are not supported`, false},
		{"§2.3 Adobe group name over 255 characters", mainWith("  groups:\n    - directory_group: X\n      adobe_groups:\n        - ok\n        - \"" + strings.Repeat("G", 5000) + "\"\n"),
			nil, `user-sync-config.yml:13: directory_users.groups[0].adobe_groups[1]: Adobe group name "GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG"… is 5000 characters; UMAPI allows at most 255`, false},
		{"§2.3 additional group target over 255 characters", mainWith("  additional_groups:\n    - source: \"A-(.*)\"\n      target: \"org2::" + strings.Repeat("é", 256) + "\"\n"),
			nil, `is 256 characters; UMAPI allows at most 255`, false},
		{"§2.3 extended Adobe group over 255 characters", map[string]string{"user-sync-config.yml": withExt,
			"ext.yml": "after_mapping_hook: pass\nextended_adobe_groups: [ok, \"" + strings.Repeat("x", 300) + "\"]\n"},
			nil, `ext.yml:2: extended_adobe_groups[1]: Adobe group name`, false},
		{"§2.3 bad additional_groups regex", mainWith("  additional_groups:\n    - source: \"AEM-[\"\n      target: x\n"),
			nil, "directory_users.additional_groups[0].source: invalid regular expression", false},
		{"§2.3 additional_groups target required", mainWith("  additional_groups:\n    - source: \"AEM-(.*)\"\n"),
			nil, "directory_users.additional_groups[0].target: required value is missing", false},
		{"§2.3 update_attributes unknown", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "adobe_users:\n", "adobe_users:\n  update_attributes: [firstname, country]\n", 1)},
			nil, `unknown attribute "country"`, false},
		{"§2.3 group mapping needs directory_group", mainWith("  groups:\n    - adobe_groups: [A]\n"),
			nil, "directory_users.groups[0].directory_group: required value is missing", false},
		{"§2.3 group mapping unknown key", mainWith("  groups:\n    - directory_group: X\n      adobe_group: [A]\n"),
			nil, "directory_users.groups[0].adobe_group: unknown key", false},
		{"§2.3 empty Adobe group name", mainWith("  groups:\n    - directory_group: X\n      adobe_groups: [\"org2::\"]\n"),
			nil, `invalid Adobe group name "org2::"`, false},
		{"§3.1 step 6 mapping names an unknown org", mainWith("  groups:\n    - directory_group: X\n      adobe_groups: [\"org9::G\"]\n"),
			nil, `user-sync-config.yml:11: directory_users.groups[0].adobe_groups: group "org9::G" references the unknown org "org9"`, false},
		{"§3.1 step 6 additional group target names an unknown org", mainWith("  additional_groups:\n    - source: \"A-(.*)\"\n      target: \"org9::B-\\\\1\"\n"),
			nil, `references the unknown org "org9"`, false},
		{"§3.1 step 6 --adobe-users group names an unknown org", nil,
			[]string{"--adobe-users", "group", "org9::G"}, `--adobe-users: group "org9::G" references the unknown org`, true},
		{"§3.1 step 6 invocation_defaults adobe_users names an unknown org", mainWith("invocation_defaults:\n  adobe_users: [group, \"org9::G\"]\n"),
			nil, `user-sync-config.yml:10: invocation_defaults.adobe_users: group "org9::G" references the unknown org`, false},
		{"§3.1 step 6 extended_adobe_groups names an unknown org", map[string]string{"user-sync-config.yml": withExt,
			"ext.yml": "after_mapping_hook: pass\nextended_adobe_groups: [\"org9::G\"]\n"},
			nil, `ext.yml:2: extended_adobe_groups: group "org9::G" references the unknown org`, false},
		{"§2.3 secondary {name: file} takes one file", map[string]string{"user-sync-config.yml": strings.Replace(withSecondary, "org2: org2.yml", "org2: [a.yml, b.yml]", 1)},
			nil, "adobe_users.connectors.umapi[1].org2: a secondary org takes one file name", false},
		{"§2.3 primary file after a secondary", map[string]string{"user-sync-config.yml": strings.Replace(withSecondary, "- org2: org2.yml", "- org2: org2.yml\n      - connector-umapi.yml", 1), "org2.yml": umapi},
			nil, "adobe_users.connectors.umapi[2]: the primary org's files must come before", false},
		{"§2.3 secondary named primary", map[string]string{"user-sync-config.yml": strings.Replace(withSecondary, "org2: org2.yml", "primary: org2.yml", 1), "org2.yml": umapi},
			nil, `"primary" is reserved`, false},
		{"§2.4 secondary file has an error", map[string]string{"user-sync-config.yml": withSecondary, "org2.yml": "enterprise:\n  org_id: X\n"},
			nil, "org2.yml:2: enterprise.client_id: required: give client_id or secure_client_id_key", false},
		{"§2.4 enterprise missing", map[string]string{"connector-umapi.yml": "server:\n  host: x\n"},
			nil, "connector-umapi.yml:1: enterprise: required section is missing", false},
		{"§2.4 org_id missing", map[string]string{"connector-umapi.yml": "enterprise:\n  client_id: a\n  client_secret: b\n"},
			nil, "enterprise.org_id: required value is missing", false},
		{"§2.4 unknown enterprise key", map[string]string{"connector-umapi.yml": umapi + "  client_secrett: x\n"},
			nil, "connector-umapi.yml:5: enterprise.client_secrett: unknown key", false},
		{"§2.4 unknown server key", map[string]string{"connector-umapi.yml": umapi + "server:\n  hots: x\n"},
			nil, "connector-umapi.yml:6: server.hots: unknown key", false},
		{"§2.4 client_id and api_key both", map[string]string{"connector-umapi.yml": umapi + "  api_key: other\n"},
			nil, "give client_id or its old name api_key, not both", false},
		{"§2.4 ims_host and auth_host both", map[string]string{"connector-umapi.yml": umapi + "server:\n  ims_host: a\n  auth_host: b\n"},
			nil, "give auth_host or its old name ims_host, not both", false},
		{"§2.4 retries below one", map[string]string{"connector-umapi.yml": umapi + "server:\n  retries: 0\n"},
			nil, "server.retries: is the total number of attempts", false},
		{"§2.4 timeout not a number", map[string]string{"connector-umapi.yml": umapi + "server:\n  timeout: soon\n"},
			nil, `server.timeout: must be a whole number, not "soon"`, false},
		{"§2.4 JWT method", map[string]string{"connector-umapi.yml": "authentication_method: jwt\n" + umapi},
			nil, "connector-umapi.yml:1: authentication_method: JWT (service account) credentials reached end of life", false},
		{"§2.4 JWT keys without a method", map[string]string{"connector-umapi.yml": umapi + "  tech_acct_id: abc@techacct.adobe.com\n  priv_key_path: private.key\n"},
			nil, "enterprise.tech_acct_id: JWT (service account) credentials reached end of life", false},
		{"§2.4 JWT leftovers with oauth", map[string]string{"connector-umapi.yml": "authentication_method: oauth\n" + umapi + "  priv_key_path: private.key\n"},
			nil, "enterprise.priv_key_path: is a JWT setting", false},
		{"§2.2 both X and secure_X_key", map[string]string{"connector-umapi.yml": umapi + "  secure_client_secret_key: k\n"},
			nil, "enterprise: give either client_secret or secure_client_secret_key, not both", false},
		{"§2.2 empty plain secret", map[string]string{"connector-umapi.yml": strings.Replace(umapi, "client_secret: csecret", `client_secret: ""`, 1)},
			nil, "enterprise.client_secret: is empty", false},
		{"§2.2 empty keyring secret", map[string]string{"connector-umapi.yml": strings.Replace(umapi, "client_secret: csecret", "secure_client_secret_key: empty", 1)},
			nil, `enterprise.secure_client_secret_key: the stored secret "empty" for "ORG@AdobeOrg" is empty`, false},
		{"§2.2 keyring entry missing", map[string]string{"connector-umapi.yml": strings.Replace(umapi, "client_secret: csecret", "secure_client_secret_key: nosuch", 1)},
			nil, `looking up "nosuch" for "ORG@AdobeOrg": secret not found`, false},
		{"§2.9 hook required", map[string]string{"user-sync-config.yml": withExt, "ext.yml": "extended_attributes: [bc]\n"},
			nil, "ext.yml:1: after_mapping_hook: required value is missing", false},
		{"§2.9 unknown extension key", map[string]string{"user-sync-config.yml": withExt, "ext.yml": "after_mapping_hook: pass\ncontext: per_user\n"},
			nil, "ext.yml:2: context: unknown key", false},
		{"§2.9 extension file missing", map[string]string{"user-sync-config.yml": withExt},
			nil, "directory_users.extension: file", false},
		{"§2.5 selected connector needs its file", map[string]string{"user-sync-config.yml": strings.Replace(cfg, "ldap: connector-ldap.yml", "csv: connector-csv.yml", 1), "connector-csv.yml": "delimiter: ','\n"},
			nil, "directory_users.connectors.ldap: the ldap connector needs its configuration file", false},
		{"§2.3 invocation_defaults unknown key", mainWith("invocation_defaults:\n  user: mapped\n"),
			nil, `invocation_defaults.user: unknown key (did you mean "users"?)`, false},
		{"§1.3 invocation_defaults boolean must be a boolean", mainWith("invocation_defaults:\n  process_groups: maybe\n"),
			nil, "invocation_defaults.process_groups: must be true or false", false},
		{"§1.3 invocation_defaults scalar write-file is an unknown action", mainWith("invocation_defaults:\n  adobe_only_user_action: write-file out.csv\n"),
			nil, `user-sync-config.yml:10: invocation_defaults.adobe_only_user_action: unknown Adobe-only user action "write-file out.csv"`, false},
		{"§1.4 rule 2 from invocation_defaults names the line", mainWith("invocation_defaults:\n  connector: csv\n"),
			nil, "user-sync-config.yml:10: invocation_defaults.connector: csv needs exactly one users file", false},
		{"§1.4 rule 6 okta reads all users: config and flag", mainWith("invocation_defaults:\n  connector: okta\n"),
			[]string{"--users", "all"}, "invocation_defaults.connector: the okta connector cannot read all users", false},
		{"§1.4 rule 7 users file with connector csv", nil,
			[]string{"--connector", "csv", "a.csv", "--users", "file", "b.csv"}, "--users: give the users file either with users file PATH or with connector csv PATH", true},
		{"§2.1 unknown encoding from the flag", nil,
			[]string{"--config-file-encoding", "klingon"}, `--config-file-encoding: unknown encoding "klingon"`, true},
	}
	secrets := fakeSecrets{{"empty", "ORG@AdobeOrg"}: ""}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadTree(t, tt.files, tt.args, LoadOptions{Secrets: secrets})
			if err == nil {
				t.Fatalf("Load succeeded; want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %q; want it to contain %q", err, tt.want)
			}
			if strings.Contains(tt.want, "file not found") && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%q, fs.ErrNotExist) = false; want true", err)
			}
			if IsUsage(err) != tt.usage {
				t.Errorf("IsUsage(%q) = %v; want %v", err, IsUsage(err), tt.usage)
			}
			if !tt.usage {
				var ce *Error
				if !errors.As(err, &ce) {
					t.Errorf("Load error %q (%T) is not a *config.Error", err, err)
				}
			}
		})
	}
}

// TestHookCompile: a configured hook without a compiler is a clear error,
// and a compiler error is located at the hook's first line unless it
// carries its own location.
func TestHookCompile(t *testing.T) {
	cfg := strings.Replace(minimal["user-sync-config.yml"], "  connectors:\n    ldap", "  extension: ext.yml\n  connectors:\n    ldap", 1)
	files := map[string]string{"user-sync-config.yml": cfg, "ext.yml": "extended_attributes: []\nafter_mapping_hook: |\n  x = 1\n  y = (\n"}
	dir := tree(t, files)
	_, err := Load(filepath.Join(dir, "user-sync-config.yml"), LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "ext.yml:2: after_mapping_hook: this program cannot run after_mapping_hook") {
		t.Errorf("Load without a compiler = %v; want the no-compiler error", err)
	}
	_, err = Load(filepath.Join(dir, "user-sync-config.yml"), LoadOptions{
		CompileHook: func(file string, line int, src string) (core.Hook, error) {
			return nil, fmt.Errorf("syntax error on line %d", line+1)
		}})
	if err == nil || !strings.Contains(err.Error(), "ext.yml:3: after_mapping_hook: syntax error on line 4") {
		t.Errorf("Load with a failing compiler = %v; want it located at ext.yml:3", err)
	}
	_, err = Load(filepath.Join(dir, "user-sync-config.yml"), LoadOptions{
		CompileHook: func(file string, line int, src string) (core.Hook, error) {
			return nil, fmt.Errorf("%s:%d: got '(', want expression", file, line+1)
		}})
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "ext.yml")+":4: got '('") {
		t.Errorf("Load with a locating compiler = %v; want its error unchanged", err)
	}
}
