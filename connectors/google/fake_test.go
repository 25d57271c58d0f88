package google

import (
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/usersync/usersync/connectors/google/googlefake"
	"github.com/usersync/usersync/core/config"
)

const testClientEmail = "usersync@usersync-test.iam.gserviceaccount.com"

var (
	keyOnce          sync.Once
	trustedKey       *rsa.PrivateKey
	untrustedKeyPriv *rsa.PrivateKey
)

// keys returns two RSA keys, made once per test binary: the one the fake
// trusts and one it does not.
func keys() (trusted, untrusted *rsa.PrivateKey) {
	keyOnce.Do(func() {
		trustedKey, untrustedKeyPriv = googlefake.NewKey(), googlefake.NewKey()
	})
	return trustedKey, untrustedKeyPriv
}

// startFake serves f and writes a key file for it; signer is the key the
// file holds (the trusted one unless a test says otherwise).
func startFake(tb testing.TB, f *googlefake.Server, signer *rsa.PrivateKey) (baseURL, keyFile string) {
	tb.Helper()
	trusted, _ := keys()
	if signer == nil {
		signer = trusted
	}
	f.Trusted, f.ClientEmail = &trusted.PublicKey, testClientEmail
	hs := f.Start()
	tb.Cleanup(hs.Close)
	keyFile = filepath.Join(tb.TempDir(), "key.json")
	if err := os.WriteFile(keyFile, googlefake.KeyFile(signer, testClientEmail, hs.URL+"/token"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return hs.URL, keyFile
}

func parseYAML(tb testing.TB, text string) (Config, error) {
	tb.Helper()
	n, err := config.Parse(filepath.Join(tb.TempDir(), "connector-google.yml"), []byte(text), "")
	if err != nil {
		tb.Fatalf("config.Parse: %v", err)
	}
	c, err := ParseConfig(context.Background(), n)
	if err == nil {
		for _, e := range n.Unused() {
			tb.Errorf("key left unread: %v", e)
		}
	}
	return c, err
}

// newSource builds a Source on the fake with a fast back-off.
func newSource(tb testing.TB, base, keyFile, extra string) *Source {
	tb.Helper()
	cfg, err := parseYAML(tb, fmt.Sprintf("service_account_key_file: %q\nsubject: admin@example.org\nadmin_api_host: %q\n%s", keyFile, base, extra))
	if err != nil {
		tb.Fatalf("ParseConfig: %v", err)
	}
	cfg.BaseDelay = time.Millisecond
	return New(cfg, nil)
}

func mustParse(tb testing.TB, file, text string) *config.Node {
	tb.Helper()
	n, err := config.Parse(file, []byte(text), "")
	if err != nil {
		tb.Fatal(err)
	}
	return n
}
