package adobeconsole

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// Secret is a credential that prints as "[redacted]"; Reveal gives the
// value.
type Secret = config.Secret

// Defaults of connector-adobe-console.yml (UST §2.8, as connector-umapi.yml).
const (
	DefaultHost         = "usermanagement.adobe.io"
	DefaultEndpoint     = "/v2/usermanagement"
	DefaultAuthHost     = "ims-na1.adobelogin.com"
	DefaultAuthEndpoint = "/ims/token/v2"
	DefaultTimeout      = 120 * time.Second
	DefaultRetries      = 3
)

// Config is connector-adobe-console.yml with UST's defaults filled in and
// the credentials resolved. cmd builds the UMAPI client for the source org
// from it: BaseURL, TokenURL, OrgID, ClientID, ClientSecret, Timeout,
// Attempts and SSLVerify, never in test mode.
type Config struct {
	// File names the file the settings were read from.
	File string
	// AuthMethod is always "oauth": JWT credentials are refused, as for
	// connector-umapi.yml, because Adobe no longer accepts them.
	AuthMethod string
	// IdentityTypeFilter keeps only users of this type; empty means all.
	IdentityTypeFilter core.IdentityType

	OrgID        string
	ClientID     Secret
	ClientSecret Secret

	// Host and AuthHost may carry a scheme (http://127.0.0.1:8080);
	// without one, https:// is used.
	Host         string
	Endpoint     string
	AuthHost     string
	AuthEndpoint string
	Timeout      time.Duration
	// Retries is server.retries as written. As in UST, the console
	// connection makes Retries+1 attempts per call (see Attempts), unlike
	// connector-umapi.yml where retries is the total.
	Retries int
	// SSLVerify is the top-level ssl_cert_verify (default true).
	SSLVerify bool
}

// Attempts is the total number of tries per HTTP call: retries + 1.
func (c Config) Attempts() int { return c.Retries + 1 }

// BaseURL is the UMAPI base URL of the source org.
func (c Config) BaseURL() string { return config.ServiceURL(c.Host, c.Endpoint) }

// TokenURL is the IMS token endpoint.
func (c Config) TokenURL() string { return config.ServiceURL(c.AuthHost, c.AuthEndpoint) }

func (c Config) String() string {
	filter := string(c.IdentityTypeFilter)
	if filter == "" {
		filter = "all"
	}
	return fmt.Sprintf("adobe_console org %s (%s, token %s, identity types %s)", c.OrgID, c.BaseURL(), c.TokenURL(), filter)
}

// GoString keeps %#v from printing the credentials.
func (c Config) GoString() string { return "adobeconsole.Config{" + c.String() + "}" }

// LogValue keeps slog from printing the credentials.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("org_id", c.OrgID), slog.String("url", c.BaseURL()),
		slog.String("identity_type_filter", string(c.IdentityTypeFilter)))
}

var (
	topKeys    = []string{"authentication_method", "identity_type_filter", "ssl_cert_verify", "user_identity_type", "server", "integration"}
	serverKeys = []string{"host", "endpoint", "auth_host", "ims_host", "auth_endpoint", "ims_endpoint_jwt", "timeout", "retries"}
	intKeys    = []string{"org_id", "client_id", "secure_client_id_key", "api_key", "secure_api_key_key", "client_secret", "secure_client_secret_key"}
	jwtKeys    = []string{"tech_acct_id", "tech_acct", "priv_key_path", "priv_key_data", "priv_key_pass", "secure_priv_key_data_key", "secure_priv_key_pass_key"}
)

const jwtEndOfLife = "JWT (service account) credentials reached end of life in 2025 and Adobe no longer accepts them: " +
	"create OAuth Server-to-Server credentials for the source org's integration in the Adobe Developer Console, " +
	"set authentication_method: oauth and give client_id and client_secret under integration"

// ParseConfig reads connector-adobe-console.yml (UST §2.8). Credentials
// come from the integration section or from the keyring entries its
// secure_*_key settings name, looked up with the org_id as the user name.
// Unknown keys are errors, as in UST; server.ssl_verify is not supported
// here (ssl_cert_verify at the top level is).
func ParseConfig(ctx context.Context, n *config.Node, secrets config.Secrets) (Config, error) {
	c := Config{File: n.File, AuthMethod: "oauth", Host: DefaultHost, Endpoint: DefaultEndpoint,
		AuthHost: DefaultAuthHost, AuthEndpoint: DefaultAuthEndpoint, Timeout: DefaultTimeout, Retries: DefaultRetries}
	if err := n.CheckKeys(topKeys...); err != nil {
		return c, err
	}
	n.Get("user_identity_type") // accepted and ignored, as in UST: console users carry their own type

	filter, err := n.String("identity_type_filter", "all")
	if err != nil {
		return c, err
	}
	if f := strings.TrimSpace(filter); !strings.EqualFold(f, "all") && f != "" {
		if c.IdentityTypeFilter, err = core.ParseIdentityType(f); err != nil {
			return c, n.Get("identity_type_filter").Errorf("%v, or all", err)
		}
	}
	if c.SSLVerify, err = n.Bool("ssl_cert_verify", true); err != nil {
		return c, err
	}

	integ, err := n.RequireMap("integration")
	if err != nil {
		return c, err
	}
	method, err := n.String("authentication_method", "")
	if err != nil {
		return c, err
	}
	method = strings.ToLower(strings.TrimSpace(method))
	var jwtKey string
	for _, k := range jwtKeys {
		if integ.Has(k) {
			jwtKey = k
			break
		}
	}
	switch {
	case method != "" && method != "oauth":
		return c, n.Get("authentication_method").Errorf("%s", jwtEndOfLife)
	case method == "" && jwtKey != "":
		return c, integ.Get(jwtKey).Errorf("%s", jwtEndOfLife)
	case jwtKey != "":
		return c, integ.Get(jwtKey).Errorf("is a JWT setting, which OAuth Server-to-Server authentication does not use: remove it")
	}
	if err := integ.CheckKeys(intKeys...); err != nil {
		return c, err
	}
	if c.OrgID, err = integ.RequireString("org_id"); err != nil {
		return c, err
	}
	c.OrgID = strings.TrimSpace(c.OrgID)
	hasID := integ.Has("client_id") || integ.Has("secure_client_id_key")
	hasKey := integ.Has("api_key") || integ.Has("secure_api_key_key")
	if hasID && hasKey {
		return c, integ.Errorf("give client_id or its old name api_key, not both")
	}
	idKey := "client_id"
	if hasKey {
		idKey = "api_key"
	}
	id, err := integ.RequireCredential(ctx, idKey, c.OrgID, secrets)
	if err != nil {
		return c, err
	}
	c.ClientID = Secret(id)
	secret, err := integ.RequireCredential(ctx, "client_secret", c.OrgID, secrets)
	if err != nil {
		return c, err
	}
	c.ClientSecret = Secret(secret)

	srv, err := n.Map("server")
	if err != nil {
		return c, err
	}
	if srv != nil {
		if srv.Has("ssl_verify") {
			return c, srv.Get("ssl_verify").Errorf("is not supported in connector-adobe-console.yml: use ssl_cert_verify at the top level")
		}
		if err := srv.CheckKeys(serverKeys...); err != nil {
			return c, err
		}
		for _, s := range []struct {
			dst        *string
			key, alias string
		}{
			{&c.Host, "host", ""}, {&c.Endpoint, "endpoint", ""},
			{&c.AuthHost, "auth_host", "ims_host"}, {&c.AuthEndpoint, "auth_endpoint", "ims_endpoint_jwt"},
		} {
			key := s.key
			if s.alias != "" && srv.Has(s.alias) {
				if srv.Has(key) {
					return c, srv.Errorf("give %s or its old name %s, not both", key, s.alias)
				}
				key = s.alias
			}
			v, err := srv.String(key, "")
			if err != nil {
				return c, err
			}
			if v = strings.TrimSpace(v); v != "" {
				*s.dst = v
			}
		}
		secs, err := srv.Int("timeout", int(DefaultTimeout/time.Second))
		if err != nil {
			return c, err
		}
		if secs <= 0 {
			return c, srv.Get("timeout").Errorf("must be a positive number of seconds")
		}
		c.Timeout = time.Duration(secs) * time.Second
		if c.Retries, err = srv.Int("retries", DefaultRetries); err != nil {
			return c, err
		}
		if c.Retries < 0 {
			return c, srv.Get("retries").Errorf("must be zero or more")
		}
	}
	return c, nil
}
