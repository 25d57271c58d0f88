package google

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// The scopes the connector asks for: read-only users and groups.
const (
	ScopeUsers  = "https://www.googleapis.com/auth/admin.directory.user.readonly"
	ScopeGroups = "https://www.googleapis.com/auth/admin.directory.group.readonly"
)

// DefaultAPIHost is the Admin SDK's base URL.
const DefaultAPIHost = "https://admin.googleapis.com"

// RetryBaseDelay is the first back-off wait after a 429 or 5xx; each
// further attempt doubles it. Config.BaseDelay overrides it; tests shorten
// it so that back-off runs without long sleeps.
var RetryBaseDelay = time.Second

// Key is a service account key, as parsed from the JSON key file. It
// prints without the private key.
type Key struct {
	ClientEmail  string
	PrivateKeyID string
	TokenURI     string
	private      *rsa.PrivateKey
}

// String names the key without revealing it.
func (k *Key) String() string {
	if k == nil {
		return "<no key>"
	}
	return "service account key of " + k.ClientEmail
}

// GoString hides the private key from %#v.
func (k *Key) GoString() string { return k.String() }

// MarshalText hides the private key from JSON and YAML encoders.
func (k *Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Config is connector-google.yml with defaults filled in.
type Config struct {
	// KeyFile is service_account_key_file, absolute.
	KeyFile string
	Key     *Key
	// Subject is the administrator the service account acts for.
	Subject string
	// Customer (default my_customer) or Domain scopes users.list and
	// groups.list; Domain wins when set.
	Customer, Domain string
	// APIHost is the Admin SDK base URL.
	APIHost string
	// AllUsersQuery is the users.list query (Google's user search syntax).
	AllUsersQuery string

	// UserIdentityType is the connector's identity type; empty means the
	// main configuration's default.
	UserIdentityType core.IdentityType

	EmailFormat, UsernameFormat, DomainFormat Format
	GivenNameFormat, SurnameFormat            Format
	CountryCodeFormat, UserIdentityTypeFormat Format
	StringEncoding, LoggerName                string

	// The fields below are not read from the file.

	// HTTPClient sends the requests; nil means a client with a 120-second
	// timeout that honours HTTPS_PROXY.
	HTTPClient *http.Client
	// Clock drives back-off waits and token expiry; nil means the system
	// clock.
	Clock core.Clock
	// PageSize is maxResults (capped at Google's 500 users, 200 members);
	// 0 means the maxima.
	PageSize int
	// MaxAttempts bounds the tries of one request; 0 means 6.
	MaxAttempts int
	// BaseDelay is the first back-off wait; 0 means RetryBaseDelay.
	BaseDelay time.Duration
}

// Keys lists the settings connector-google.yml may contain.
var Keys = []string{
	"service_account_key_file", "subject", "customer", "domain", "admin_api_host", "all_users_query",
	"string_encoding", "user_identity_type", "user_identity_type_format", "user_email_format",
	"user_username_format", "user_domain_format", "user_given_name_format", "user_surname_format",
	"user_country_code_format", "logger_name",
}

// ParseConfig reads connector-google.yml and loads the key file it names
// (relative to the configuration file). Unknown keys are errors.
func ParseConfig(_ context.Context, n *config.Node) (Config, error) {
	var c Config
	if err := n.CheckKeys(Keys...); err != nil {
		return c, err
	}
	file, err := n.RequireString("service_account_key_file")
	if err != nil {
		return c, err
	}
	c.KeyFile = n.ResolvePath(strings.TrimSpace(file))
	if c.Key, err = LoadKey(c.KeyFile); err != nil {
		return c, n.Get("service_account_key_file").Errorf("%v", err)
	}
	if c.Subject, err = n.RequireString("subject"); err != nil {
		return c, err
	}
	c.Subject = strings.TrimSpace(c.Subject)
	if !strings.Contains(c.Subject, "@") {
		return c, n.Get("subject").Errorf("the subject is the email address of the administrator the service account acts for (got %q)", c.Subject)
	}
	if c.Customer, err = n.String("customer", ""); err != nil {
		return c, err
	}
	if c.Domain, err = n.String("domain", ""); err != nil {
		return c, err
	}
	c.Customer, c.Domain = strings.TrimSpace(c.Customer), strings.TrimSpace(c.Domain)
	if c.Customer != "" && c.Domain != "" {
		return c, n.Errorf("give either customer or domain, not both")
	}
	if c.Customer == "" && c.Domain == "" {
		c.Customer = "my_customer"
	}
	host, err := n.String("admin_api_host", DefaultAPIHost)
	if err != nil {
		return c, err
	}
	if c.APIHost, err = normalizeHost(host); err != nil {
		return c, n.Get("admin_api_host").Errorf("%v", err)
	}
	if c.AllUsersQuery, err = n.String("all_users_query", ""); err != nil {
		return c, err
	}
	if c.StringEncoding, err = n.String("string_encoding", "utf8"); err != nil {
		return c, err
	}
	if c.LoggerName, err = n.String("logger_name", "google"); err != nil {
		return c, err
	}
	if c.UserIdentityType, err = n.IdentityType("user_identity_type"); err != nil {
		return c, err
	}
	err = n.UserFormats(checkField, config.FormatDefaults{
		Email: DefaultEmailFormat, GivenName: DefaultGivenNameFormat, Surname: DefaultSurnameFormat, CountryCode: DefaultCountryFormat,
	}, config.UserFormats{
		IdentityType: &c.UserIdentityTypeFormat.Format, Email: &c.EmailFormat.Format,
		Username: &c.UsernameFormat.Format, Domain: &c.DomainFormat.Format,
		GivenName: &c.GivenNameFormat.Format, Surname: &c.SurnameFormat.Format,
		CountryCode: &c.CountryCodeFormat.Format,
	})
	return c, err
}

// LoadKey reads a service account JSON key file. It refuses a file that
// group or others may read (on systems with Unix permissions), and its
// errors never quote the file's content.
func LoadKey(path string) (*Key, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("service account key file: %v", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("service account key file %s is readable by others (mode %04o): run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("service account key file: %v", err)
	}
	return ParseKey(b)
}

// ParseKey parses the JSON key Google issues for a service account.
func ParseKey(b []byte) (*Key, error) {
	var raw struct {
		Type         string `json:"type"`
		PrivateKeyID string `json:"private_key_id"`
		PrivateKey   string `json:"private_key"`
		ClientEmail  string `json:"client_email"`
		TokenURI     string `json:"token_uri"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("the service account key file is not JSON (download a JSON key for the service account)")
	}
	if raw.Type != "service_account" {
		return nil, fmt.Errorf("the key file's type is %q; want a service_account key", raw.Type)
	}
	if raw.ClientEmail == "" || raw.PrivateKey == "" {
		return nil, fmt.Errorf("the key file has no client_email or private_key")
	}
	k := &Key{ClientEmail: raw.ClientEmail, PrivateKeyID: raw.PrivateKeyID, TokenURI: raw.TokenURI}
	if k.TokenURI == "" {
		k.TokenURI = "https://oauth2.googleapis.com/token"
	}
	u, err := url.Parse(k.TokenURI)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, fmt.Errorf("the key file's token_uri %q is not an https URL", k.TokenURI)
	}
	block, _ := pem.Decode([]byte(raw.PrivateKey))
	if block == nil {
		return nil, fmt.Errorf("the key file's private_key is not PEM")
	}
	var parsed any
	if parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		if parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return nil, fmt.Errorf("the key file's private_key cannot be parsed as PKCS#8 or PKCS#1")
		}
	}
	rk, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key file's private_key is not an RSA key")
	}
	k.private = rk
	return k, nil
}

// isLoopback allows plain http to a local stand-in (the simulator, tests).
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// normalizeHost makes the API base URL: https:// is added when no scheme
// is given; http is accepted only on loopback.
func normalizeHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a host name or https URL", h)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return "", fmt.Errorf("the Admin SDK host must use https (got %q)", h)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: give only the host, without query, fragment or credentials", h)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
