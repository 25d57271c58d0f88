package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
)

func TestEnvRoots(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	tests := []struct {
		sslCertFile, requestsBundle string
		wantErr                     string // "" for no error and no pool
	}{
		{"", "", ""},
		{missing, "", "SSL_CERT_FILE: "},
		{"", missing, "REQUESTS_CA_BUNDLE: "},
		{junk, missing, "SSL_CERT_FILE " + junk + ": no PEM certificate found"},
		{"", junk, "REQUESTS_CA_BUNDLE " + junk + ": no PEM certificate found"},
	}
	for _, tc := range tests {
		t.Setenv("SSL_CERT_FILE", tc.sslCertFile)
		t.Setenv("REQUESTS_CA_BUNDLE", tc.requestsBundle)
		pool, err := EnvRoots("test")
		switch {
		case tc.wantErr == "" && (err != nil || pool != nil):
			t.Errorf("EnvRoots(%q, %q) = %v, %v; want nil, nil", tc.sslCertFile, tc.requestsBundle, pool, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || core.Code(err) != core.CodeInvalidInput):
			t.Errorf("EnvRoots(%q, %q) error = %v; want an invalid-input error containing %q", tc.sslCertFile, tc.requestsBundle, err, tc.wantErr)
		}
	}
}
