package secrets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usersync/usersync/core/config"
	"github.com/zalando/go-keyring"
)

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"umapi_client_secret": "USERSYNC_SECRET_UMAPI_CLIENT_SECRET",
		"ldap.password-prod":  "USERSYNC_SECRET_LDAP_PASSWORD_PROD",
	} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q; want %q", in, got, want)
		}
	}
}

func writeFile(t *testing.T, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secrets.yml")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
	return p
}

func TestFile(t *testing.T) {
	ctx := context.Background()
	p := writeFile(t, "umapi_secret: s3cret\nldap_pw:\n  cn=admin: pw1\n  cn=other: pw2\n", 0o600)
	f := File{Path: p}
	if v, err := f.Secret(ctx, "umapi_secret", "org@AdobeOrg"); err != nil || v != "s3cret" {
		t.Errorf("Secret(umapi_secret) = %q, %v", v, err)
	}
	if v, err := f.Secret(ctx, "ldap_pw", "cn=other"); err != nil || v != "pw2" {
		t.Errorf("Secret(ldap_pw, cn=other) = %q, %v", v, err)
	}
	if _, err := f.Secret(ctx, "ldap_pw", "cn=nobody"); !errors.Is(err, config.ErrSecretNotFound) {
		t.Errorf("unknown user: %v; want not found", err)
	}
	if _, err := f.Secret(ctx, "missing", ""); !errors.Is(err, config.ErrSecretNotFound) {
		t.Errorf("unknown service: %v; want not found", err)
	}
}

func TestFileReadableByOthersIsRefused(t *testing.T) {
	p := writeFile(t, "umapi_secret: s3cret\n", 0o644)
	_, err := File{Path: p}.Secret(context.Background(), "umapi_secret", "")
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Secret from a world-readable file = %v; want a refusal", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the secret: %v", err)
	}
}

func TestMalformedFileDoesNotLeak(t *testing.T) {
	p := writeFile(t, "umapi_secret: [s3cret\n", 0o600)
	_, err := File{Path: p}.Secret(context.Background(), "umapi_secret", "")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("malformed file: %v", err)
	}
}

func TestChainOrderAndKeyring(t *testing.T) {
	keyring.MockInit()
	ctx := context.Background()
	if err := (Keyring{}).Set("okta_token", "example.okta.com", "from-keyring"); err != nil {
		t.Fatal(err)
	}
	env := Env{Lookup: func(k string) (string, bool) {
		if k == "USERSYNC_SECRET_UMAPI_SECRET" {
			return "from-env", true
		}
		return "", false
	}}
	c := Chain{env, File{Path: writeFile(t, "umapi_secret: from-file\nldap_pw: from-file\n", 0o600)}, Keyring{}}
	for _, tc := range []struct{ service, user, want string }{
		{"umapi_secret", "org", "from-env"},
		{"ldap_pw", "cn=admin", "from-file"},
		{"okta_token", "example.okta.com", "from-keyring"},
	} {
		if got, err := c.Secret(ctx, tc.service, tc.user); err != nil || got != tc.want {
			t.Errorf("Secret(%q) = %q, %v; want %q", tc.service, got, err, tc.want)
		}
	}
	_, err := c.Secret(ctx, "nothing", "u")
	if !errors.Is(err, config.ErrSecretNotFound) || !strings.Contains(err.Error(), "USERSYNC_SECRET_NOTHING") {
		t.Errorf("missing secret error = %v", err)
	}
	if err := (Keyring{}).Delete("okta_token", "example.okta.com"); err != nil {
		t.Fatal(err)
	}
	if err := (Keyring{}).Delete("okta_token", "example.okta.com"); !errors.Is(err, config.ErrSecretNotFound) {
		t.Errorf("second Delete = %v; want not found", err)
	}
}

func TestChainStopsAtARefusedFile(t *testing.T) {
	keyring.MockInit()
	if err := (Keyring{}).Set("umapi_secret", "org", "from-keyring"); err != nil {
		t.Fatal(err)
	}
	c := Chain{Env{Lookup: func(string) (string, bool) { return "", false }},
		File{Path: writeFile(t, "umapi_secret: from-file\n", 0o644)}, Keyring{}}
	v, err := c.Secret(context.Background(), "umapi_secret", "org")
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Secret = %q, %v; want the world-readable file refused, not the keyring's value", v, err)
	}
}
