package okta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// Token is the secret API token. It prints as "[redacted]"; Reveal gives
// the value, for the Authorization header.
type Token = config.Secret

// Config is connector-okta.yml, with UST's defaults filled in.
type Config struct {
	// Host is the base URL of the Okta org, "https://example.okta.com".
	Host string
	// HostAsWritten is the host setting as written, the keyring user name
	// for secure_api_token_key.
	HostAsWritten string
	APIToken      Token

	// GroupFilterFormat makes the q= search text from a group name; the
	// only placeholder is {group}.
	GroupFilterFormat string
	// AllUsersFilter selects the members that are synced.
	AllUsersFilter *Filter

	// UserIdentityType is the connector's identity type; empty means the
	// main configuration's default.
	UserIdentityType core.IdentityType
	// UserIdentityTypeFormat is parsed but, as in UST, not used: the type
	// always comes from UserIdentityType.
	UserIdentityTypeFormat Format

	EmailFormat       Format
	UsernameFormat    Format
	DomainFormat      Format
	GivenNameFormat   Format
	SurnameFormat     Format
	CountryCodeFormat Format

	// StringEncoding and LoggerName are accepted for UST compatibility.
	StringEncoding string
	LoggerName     string

	// The fields below are not read from the file.

	// HTTPClient sends the requests; nil means a client with a 120-second
	// timeout that honours HTTPS_PROXY/NO_PROXY and trusts the extra CA
	// certificates of SSL_CERT_FILE or REQUESTS_CA_BUNDLE.
	HTTPClient *http.Client
	// Clock drives rate-limit waits; nil means the system clock.
	Clock core.Clock
	// PageSize is the limit= of member listings; 0 means 1000 (Okta's
	// maximum for group members).
	PageSize int
	// MaxAttempts bounds the tries of one request through 429s, 5xx and
	// network errors; 0 means 8.
	MaxAttempts int
}

// Keys lists the settings connector-okta.yml may contain.
var Keys = []string{
	"host", "api_token", "secure_api_token_key", "group_filter_format", "all_users_filter",
	"string_encoding", "user_identity_type", "user_identity_type_format", "user_email_format",
	"user_username_format", "user_domain_format", "user_given_name_format", "user_surname_format",
	"user_country_code_format", "logger_name",
}

// ParseConfig reads connector-okta.yml. The API token comes from api_token
// or from the keyring entry named by secure_api_token_key, looked up with
// the host (as written) as the user name. Unknown keys are errors, as in
// UST.
func ParseConfig(ctx context.Context, n *config.Node, secrets config.Secrets) (Config, error) {
	var c Config
	if err := n.CheckKeys(Keys...); err != nil {
		return c, err
	}
	host, err := n.RequireString("host")
	if err != nil {
		return c, err
	}
	c.HostAsWritten = host
	if c.Host, err = normalizeHost(host); err != nil {
		return c, n.Get("host").Errorf("%v", err)
	}
	token, err := n.RequireCredential(ctx, "api_token", host, secrets)
	if err != nil {
		return c, err
	}
	c.APIToken = Token(token)

	if c.GroupFilterFormat, err = n.String("group_filter_format", "{group}"); err != nil {
		return c, err
	}
	if err := checkGroupFilterFormat(c.GroupFilterFormat); err != nil {
		return c, n.Get("group_filter_format").Errorf("%v", err)
	}
	filter, err := n.String("all_users_filter", DefaultAllUsersFilter)
	if err != nil {
		return c, err
	}
	if c.AllUsersFilter, err = CompileFilter(filter); err != nil {
		return c, n.Get("all_users_filter").Errorf("%v", err)
	}
	if c.StringEncoding, err = n.String("string_encoding", "utf8"); err != nil {
		return c, err
	}
	if c.LoggerName, err = n.String("logger_name", "okta"); err != nil {
		return c, err
	}
	if c.UserIdentityType, err = n.IdentityType("user_identity_type"); err != nil {
		return c, err
	}
	err = n.UserFormats(checkField, config.FormatDefaults{
		Email: "{email}", GivenName: "{firstName}", Surname: "{lastName}", CountryCode: "{countryCode}",
	}, config.UserFormats{
		IdentityType: &c.UserIdentityTypeFormat.Format, Email: &c.EmailFormat.Format,
		Username: &c.UsernameFormat.Format, Domain: &c.DomainFormat.Format,
		GivenName: &c.GivenNameFormat.Format, Surname: &c.SurnameFormat.Format,
		CountryCode: &c.CountryCodeFormat.Format,
	})
	return c, err
}

// normalizeHost makes the base URL: https:// is added when no scheme is
// given, and any other scheme is refused (the token must not travel in
// clear text).
func normalizeHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if !strings.HasPrefix(strings.ToLower(h), "https://") {
		if strings.Contains(h, "://") {
			return "", fmt.Errorf("the Okta host must use https (got %q)", h)
		}
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a host name or https URL", h)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: give only the host (and optionally a path), without query, fragment or credentials", h)
	}
	u.Scheme = "https"
	return strings.TrimRight(u.String(), "/"), nil
}

// checkGroupFilterFormat accepts formats whose only placeholder is {group}.
func checkGroupFilterFormat(s string) error {
	f, err := ParseFormat(s)
	if err != nil {
		return err
	}
	for _, name := range f.Fields() {
		if name != "group" {
			return fmt.Errorf("unknown placeholder {%s}: the only placeholder is {group}", name)
		}
	}
	return nil
}

// groupQuery renders group_filter_format for one group name.
func (c Config) groupQuery(group string) string {
	f, err := ParseFormat(c.GroupFilterFormat)
	if err != nil {
		return group
	}
	v, _, _ := f.Render(map[string]any{"group": group})
	return v
}
