package adobeconsole

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

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
	n, err := config.Parse("connector-adobe-console.yml", []byte(text), "")
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

const minimal = `integration:
  org_id: "ABC@AdobeOrg"
  client_id: the-id
  client_secret: the-secret
`

func TestParseConfig(t *testing.T) {
	base := Config{File: "connector-adobe-console.yml", AuthMethod: "oauth", OrgID: "ABC@AdobeOrg",
		ClientID: "the-id", ClientSecret: "the-secret", Host: DefaultHost, Endpoint: DefaultEndpoint,
		AuthHost: DefaultAuthHost, AuthEndpoint: DefaultAuthEndpoint, Timeout: DefaultTimeout,
		Retries: DefaultRetries, SSLVerify: true}
	with := func(f func(*Config)) Config { c := base; f(&c); return c }
	secrets := fakeSecrets{{"console id", "ABC@AdobeOrg"}: "kr-id", {"console secret", "ABC@AdobeOrg"}: "kr-secret"}
	tests := []struct {
		name, yaml string
		want       Config
		wantErr    string
	}{
		{name: "minimal", yaml: minimal, want: base},
		{name: "every key", yaml: `authentication_method: OAuth
identity_type_filter: federatedid
ssl_cert_verify: no
user_identity_type: adobeID
server:
  host: http://127.0.0.1:8080
  endpoint: /v2/usermanagement
  auth_host: http://127.0.0.1:8080
  auth_endpoint: /ims/token/v3
  timeout: 30
  retries: 5
integration:
  org_id: "ABC@AdobeOrg"
  api_key: the-id
  client_secret: the-secret
`, want: with(func(c *Config) {
			c.IdentityTypeFilter = core.FederatedID
			c.SSLVerify = false
			c.Host, c.AuthHost, c.AuthEndpoint = "http://127.0.0.1:8080", "http://127.0.0.1:8080", "/ims/token/v3"
			c.Timeout, c.Retries = 30*time.Second, 5
		})},
		{name: "old server names", yaml: minimal + "server:\n  ims_host: ims.example\n  ims_endpoint_jwt: /ims/token/v2\n",
			want: with(func(c *Config) { c.AuthHost = "ims.example" })},
		{name: "identity filter all", yaml: minimal + "identity_type_filter: ALL\n", want: base},
		{name: "keyring, user is the org id", yaml: `integration:
  org_id: "ABC@AdobeOrg"
  secure_client_id_key: console id
  secure_client_secret_key: console secret
`, want: with(func(c *Config) { c.ClientID, c.ClientSecret = "kr-id", "kr-secret" })},
		{name: "missing integration", yaml: "identity_type_filter: all\n", wantErr: "integration: required section is missing"},
		{name: "missing org", yaml: "integration:\n  client_id: a\n  client_secret: b\n", wantErr: "integration.org_id: required value is missing"},
		{name: "missing secret", yaml: "integration:\n  org_id: o\n  client_id: a\n", wantErr: "give client_secret or secure_client_secret_key"},
		{name: "both id names", yaml: minimal + "  api_key: x\n", wantErr: "not both"},
		{name: "bad filter", yaml: minimal + "identity_type_filter: okta\n", wantErr: "identity_type_filter: invalid identity type \"okta\""},
		{name: "jwt method", yaml: "authentication_method: jwt\n" + minimal, wantErr: "end of life"},
		{name: "jwt keys", yaml: minimal + "  tech_acct_id: x@techacct.adobe.com\n  priv_key_path: private.key\n", wantErr: "integration.tech_acct_id: JWT"},
		{name: "ssl_verify under server", yaml: minimal + "server:\n  ssl_verify: false\n", wantErr: "server.ssl_verify: is not supported"},
		{name: "unknown top key", yaml: minimal + "identity_typ_filter: all\n", wantErr: `unknown key (did you mean "identity_type_filter"?)`},
		{name: "unknown server key", yaml: minimal + "server:\n  hots: x\n", wantErr: `server.hots: unknown key (did you mean "host"?)`},
		{name: "bad timeout", yaml: minimal + "server:\n  timeout: 0\n", wantErr: "positive number of seconds"},
		{name: "bad retries", yaml: minimal + "server:\n  retries: many\n", wantErr: "whole number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseYAML(t, tc.yaml, secrets)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseConfig() error = %v; want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig(): %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseConfig() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigURLsAndSecrets(t *testing.T) {
	c, err := parseYAML(t, minimal+"server:\n  host: http://127.0.0.1:9/\n  retries: 2\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.BaseURL(), "http://127.0.0.1:9/v2/usermanagement"; got != want {
		t.Errorf("BaseURL() = %q; want %q", got, want)
	}
	if got, want := c.TokenURL(), "https://ims-na1.adobelogin.com/ims/token/v2"; got != want {
		t.Errorf("TokenURL() = %q; want %q", got, want)
	}
	if c.Attempts() != 3 {
		t.Errorf("Attempts() = %d; want retries+1 = 3", c.Attempts())
	}
	b, _ := json.Marshal(c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(b)} {
		if strings.Contains(s, "the-secret") || strings.Contains(s, "the-id") {
			t.Errorf("formatted config shows a credential: %s", s)
		}
	}
}
