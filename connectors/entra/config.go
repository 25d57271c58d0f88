package entra

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// Secret is a client secret or access token. It prints as "[redacted]" so
// that a Config can be logged or dumped without leaking it.
type Secret = config.Secret

// Defaults.
const (
	DefaultAuthorityHost  = "https://login.microsoftonline.com"
	DefaultGraphHost      = "https://graph.microsoft.com"
	DefaultAllUsersFilter = "accountEnabled eq true"
	// GraphScope is the scope of the client-credentials request.
	GraphScope = "https://graph.microsoft.com/.default"
)

// Config is connector-entra.yml, with defaults filled in.
type Config struct {
	TenantID     string
	ClientID     string
	ClientSecret Secret
	// AuthorityHost and GraphHost are base URLs without a trailing slash.
	AuthorityHost string
	GraphHost     string
	// AllUsersFilter is an OData $filter over users; "" sends none.
	AllUsersFilter string

	// UserIdentityType is the connector's identity type; empty means the
	// main configuration's default. UserIdentityTypeFormat, when set,
	// overrides it per user.
	UserIdentityType       core.IdentityType
	UserIdentityTypeFormat Format

	EmailFormat       Format
	UsernameFormat    Format
	DomainFormat      Format
	GivenNameFormat   Format
	SurnameFormat     Format
	CountryCodeFormat Format

	LoggerName string

	// The fields below are not read from the file.

	// HTTPClient sends the requests; nil means a client with a 120-second
	// timeout that honours HTTPS_PROXY/NO_PROXY and SSL_CERT_FILE.
	HTTPClient *http.Client
	// Clock drives throttle waits and token expiry; nil means the system
	// clock.
	Clock core.Clock
	// PageSize is the $top of listings; 0 means 999 (Graph's maximum).
	PageSize int
	// MaxAttempts bounds the tries of one request; 0 means 6.
	MaxAttempts int
}

// Keys lists the settings connector-entra.yml may contain.
var Keys = []string{
	"tenant_id", "client_id", "client_secret", "secure_client_secret_key", "authority_host", "graph_host",
	"all_users_filter", "user_identity_type", "user_identity_type_format", "user_email_format",
	"user_username_format", "user_domain_format", "user_given_name_format", "user_surname_format",
	"user_country_code_format", "logger_name",
}

// ParseConfig reads connector-entra.yml. The client secret comes from
// client_secret or from the keyring entry named by
// secure_client_secret_key, looked up with the client_id as the user
// name. Unknown keys are errors.
func ParseConfig(ctx context.Context, n *config.Node, secrets config.Secrets) (Config, error) {
	var c Config
	if err := n.CheckKeys(Keys...); err != nil {
		return c, err
	}
	var err error
	if c.TenantID, err = n.RequireString("tenant_id"); err != nil {
		return c, err
	}
	c.TenantID = strings.TrimSpace(c.TenantID)
	if c.TenantID == "" || strings.ContainsAny(c.TenantID, "/?#% ") {
		return c, n.Get("tenant_id").Errorf("give the directory (tenant) id or a verified domain name")
	}
	if c.ClientID, err = n.RequireString("client_id"); err != nil {
		return c, err
	}
	c.ClientID = strings.TrimSpace(c.ClientID)
	secret, err := n.RequireCredential(ctx, "client_secret", c.ClientID, secrets)
	if err != nil {
		return c, err
	}
	c.ClientSecret = Secret(secret)
	for _, h := range []struct {
		key, def string
		dst      *string
	}{{"authority_host", DefaultAuthorityHost, &c.AuthorityHost}, {"graph_host", DefaultGraphHost, &c.GraphHost}} {
		v, err := n.String(h.key, h.def)
		if err != nil {
			return c, err
		}
		if *h.dst, err = normalizeHost(v); err != nil {
			return c, n.Get(h.key).Errorf("%v", err)
		}
	}
	if c.AllUsersFilter, err = n.String("all_users_filter", DefaultAllUsersFilter); err != nil {
		return c, err
	}
	c.AllUsersFilter = strings.TrimSpace(c.AllUsersFilter)
	if c.LoggerName, err = n.String("logger_name", "entra"); err != nil {
		return c, err
	}
	if c.UserIdentityType, err = n.IdentityType("user_identity_type"); err != nil {
		return c, err
	}
	err = n.UserFormats(checkField, config.FormatDefaults{
		Email: "{mail}", GivenName: "{givenName}", Surname: "{surname}", CountryCode: "{usageLocation}",
	}, config.UserFormats{
		IdentityType: &c.UserIdentityTypeFormat.Format, Email: &c.EmailFormat.Format,
		Username: &c.UsernameFormat.Format, Domain: &c.DomainFormat.Format,
		GivenName: &c.GivenNameFormat.Format, Surname: &c.SurnameFormat.Format,
		CountryCode: &c.CountryCodeFormat.Format,
	})
	return c, err
}

// normalizeHost makes a base URL: https:// is added when no scheme is
// given; http is accepted only for loopback hosts (a local stand-in), since
// the secret and tokens must not travel in clear text.
func normalizeHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if !strings.Contains(h, "://") {
		h = "https://" + h
	}
	u, err := url.Parse(h)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a host name or https URL", h)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: give only the host, without query, fragment or credentials", h)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("%q must use https (plain http is accepted only for loopback stand-ins)", h)
		}
	default:
		return "", fmt.Errorf("%q must use https", h)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
