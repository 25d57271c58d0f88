package config

import (
	"crypto/x509"
	"os"

	"github.com/usersync/usersync/core"
)

// EnvCABundle names the extra CA bundle the environment asks for, for
// TLS-inspecting proxies: SSL_CERT_FILE, or, as UST's requests library
// read it, REQUESTS_CA_BUNDLE. from is the variable the path came from;
// both are "" when neither is set.
func EnvCABundle() (bundle, from string) {
	if v := os.Getenv("SSL_CERT_FILE"); v != "" {
		return v, "SSL_CERT_FILE"
	}
	if v := os.Getenv("REQUESTS_CA_BUNDLE"); v != "" {
		return v, "REQUESTS_CA_BUNDLE"
	}
	return "", ""
}

// CertPool returns the system roots plus the PEM certificates of bundle.
// Its errors have CodeInvalidInput, under op, and name the setting the
// path came from (from).
func CertPool(op, bundle, from string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(bundle)
	if err != nil {
		return nil, core.Errorf(core.CodeInvalidInput, op, "%s: %v", from, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, core.Errorf(core.CodeInvalidInput, op, "%s %s: no PEM certificate found", from, bundle)
	}
	return pool, nil
}

// EnvRoots is CertPool over EnvCABundle: the system roots plus the
// environment's CA bundle, or nil when none is set.
func EnvRoots(op string) (*x509.CertPool, error) {
	bundle, from := EnvCABundle()
	if bundle == "" {
		return nil, nil
	}
	return CertPool(op, bundle, from)
}
