package entra

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseYAML(t, "tenant_id: contoso.onmicrosoft.com\nclient_id: abc\nclient_secret: "+testSecret+"\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthorityHost != DefaultAuthorityHost || c.GraphHost != DefaultGraphHost || c.AllUsersFilter != DefaultAllUsersFilter {
		t.Errorf("defaults = %q %q %q", c.AuthorityHost, c.GraphHost, c.AllUsersFilter)
	}
	for f, want := range map[*Format]string{&c.EmailFormat: "{mail}", &c.GivenNameFormat: "{givenName}",
		&c.SurnameFormat: "{surname}", &c.CountryCodeFormat: "{usageLocation}"} {
		if f.String() != want {
			t.Errorf("format = %q; want %q", f.String(), want)
		}
	}
	if c.ClientSecret.Reveal() != testSecret {
		t.Error("secret not read")
	}
	dump := fmt.Sprintf("%v %+v %#v", c, c, c)
	// The HTTP client holds funcs JSON cannot encode; the secret is elsewhere.
	plain := c
	plain.HTTPClient = nil
	//lint:ignore SA1026 HTTPClient, the one field JSON cannot encode, is nil here.
	js, err := json.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump+string(js), testSecret) {
		t.Error("the secret leaks through fmt or JSON")
	}
}

func TestParseConfigSecureKey(t *testing.T) {
	sec := fakeSecrets{"entra_secret/abc": testSecret}
	c, err := parseYAML(t, "tenant_id: t\nclient_id: abc\nsecure_client_secret_key: entra_secret\n", sec)
	if err != nil || c.ClientSecret.Reveal() != testSecret {
		t.Fatalf("secure key: %v", err)
	}
	_, err = parseYAML(t, "tenant_id: t\nclient_id: other\nsecure_client_secret_key: entra_secret\n", sec)
	if err == nil {
		t.Error("a missing keyring entry was accepted")
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"client_id: a\nclient_secret: s\n", "tenant_id"},
		{"tenant_id: t\nclient_secret: s\n", "client_id"},
		{"tenant_id: t\nclient_id: a\n", "client_secret"},
		{"tenant_id: t\nclient_id: a\nclient_secret: s\nsecure_client_secret_key: k\n", "not both"},
		{"tenant_id: t\nclient_id: a\nclient_secret: s\ngraph_host: http://graph.example.com\n", "https"},
		{"tenant_id: t\nclient_id: a\nclient_secret: s\nauthority_host: ftp://x\n", "https"},
		{"tenant_id: t\nclient_id: a\nclient_secret: s\nuser_email_format: \"{mail\"\n", "closing"},
		{"tenant_id: t\nclient_id: a\nclient_secret: s\nuser_given_name_format: \"{0}\"\n", "property"},
		{"tenant_id: t\nclient_id: a\nclient_secret: s\nuser_identity_type: martian\n", "martian"},
		{"tenant_id: t\nclient_id: a\nclient_secret: s\nhost: x\n", "host"},
		{"tenant_id: a/b\nclient_id: a\nclient_secret: s\n", "tenant"},
	} {
		_, err := parseYAML(t, tc.yaml, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%q) = %v; want an error mentioning %q", tc.yaml, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), ": s\n") {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
}

func TestLoopbackHTTP(t *testing.T) {
	for _, h := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"} {
		if _, err := normalizeHost(h); err != nil {
			t.Errorf("normalizeHost(%q) = %v; want accepted", h, err)
		}
	}
	if got, _ := normalizeHost("graph.microsoft.us/"); got != "https://graph.microsoft.us" {
		t.Errorf("normalizeHost = %q", got)
	}
}

func TestFormatRender(t *testing.T) {
	f, err := ParseFormat("{givenName}.{onPremisesExtensionAttributes.extensionAttribute2}{{x}}")
	if err != nil {
		t.Fatal(err)
	}
	user := map[string]any{"givenName": "Zoë", "onPremisesExtensionAttributes": map[string]any{"extensionAttribute2": "7"}}
	if v, _, ok := f.Render(user); !ok || v != "Zoë.7{x}" {
		t.Errorf("Render = %q, %v", v, ok)
	}
	delete(user, "givenName")
	if _, missing, ok := f.Render(user); ok || missing != "givenName" {
		t.Errorf("Render without givenName = %v, %q", ok, missing)
	}
}
