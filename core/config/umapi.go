package config

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// UMAPIConfig is one connector-umapi.yml (the primary org's or a
// secondary's), with UST's defaults filled in and its credentials
// resolved. Its String, GoString and LogValue methods leave the client
// secret out, so printing or logging it never leaks the secret.
type UMAPIConfig struct {
	// Name is core.PrimaryOrg or the secondary org's name.
	Name string
	// File names the file(s) it was read from.
	File string

	OrgID        string
	ClientID     string
	ClientSecret string
	// AuthMethod is always "oauth": JWT credentials are refused.
	AuthMethod string

	// Host and AuthHost may carry a scheme (http://127.0.0.1:8080);
	// without one, https:// is used.
	Host         string
	Endpoint     string
	AuthHost     string
	AuthEndpoint string
	Timeout      time.Duration
	// Retries is the total number of attempts per HTTP call, as in UST.
	Retries int
	// SSLVerify is server.ssl_verify when set, else
	// invocation_defaults.ssl_cert_verify.
	SSLVerify bool

	// Trusted is UST's undocumented trusted key (it only changes which
	// "created" counter new users go to).
	Trusted bool
	// UsesBusinessID is UST's deprecated uses_business_id.
	UsesBusinessID bool
}

// UMAPI defaults (UST §2.4).
const (
	DefaultUMAPIHost     = "usermanagement.adobe.io"
	DefaultUMAPIEndpoint = "/v2/usermanagement"
	DefaultIMSHost       = "ims-na1.adobelogin.com"
	DefaultIMSEndpoint   = "/ims/token/v2"
	DefaultUMAPITimeout  = 120 * time.Second
	DefaultUMAPIRetries  = 3
)

// ServiceURL joins a UMAPI or IMS host and path by DESIGN.md's rule: the
// host may carry a scheme (http://127.0.0.1:8080); without one, https:// is
// used.
func ServiceURL(host, path string) string {
	host = strings.TrimRight(strings.TrimSpace(host), "/")
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return host + path
}

// BaseURL is the UMAPI base URL, e.g.
// https://usermanagement.adobe.io/v2/usermanagement.
func (u UMAPIConfig) BaseURL() string { return ServiceURL(u.Host, u.Endpoint) }

// TokenURL is the IMS token endpoint, e.g.
// https://ims-na1.adobelogin.com/ims/token/v2.
func (u UMAPIConfig) TokenURL() string { return ServiceURL(u.AuthHost, u.AuthEndpoint) }

func (u UMAPIConfig) String() string {
	return fmt.Sprintf("umapi %s (org %s, client %s, %s, token %s)", u.Name, u.OrgID, u.ClientID, u.BaseURL(), u.TokenURL())
}

// GoString keeps %#v from printing the secret.
func (u UMAPIConfig) GoString() string { return "config.UMAPIConfig{" + u.String() + "}" }

// LogValue keeps slog from printing the secret.
func (u UMAPIConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", u.Name), slog.String("org_id", u.OrgID),
		slog.String("client_id", u.ClientID), slog.String("url", u.BaseURL()))
}

// jwtKeys are the enterprise keys only JWT authentication uses.
var jwtKeys = []string{"tech_acct_id", "tech_acct", "priv_key_path", "priv_key_data", "priv_key_pass",
	"secure_priv_key_data_key", "secure_priv_key_pass_key"}

const jwtEndOfLife = "JWT (service account) credentials reached end of life in 2025 and Adobe no longer accepts them: " +
	"create OAuth Server-to-Server credentials for the integration in the Adobe Developer Console, " +
	"set authentication_method: oauth and give its client_id and client_secret under enterprise"

// parseUMAPI reads one connector-umapi.yml (UST §2.4). Unknown keys in
// server and enterprise are errors; unknown top-level keys are warnings
// (UST ignores them silently).
func parseUMAPI(ctx context.Context, n *Node, name string, sslDefault bool, secrets Secrets) (*UMAPIConfig, []string, error) {
	u := &UMAPIConfig{Name: name, File: n.File, AuthMethod: "oauth"}
	var warnings []string

	method, err := n.String("authentication_method", "")
	if err != nil {
		return nil, nil, err
	}
	method = strings.ToLower(strings.TrimSpace(method))
	ent, err := n.RequireMap("enterprise")
	if err != nil {
		return nil, nil, err
	}
	var jwtKey string
	for _, k := range jwtKeys {
		if ent.Has(k) {
			jwtKey = k
			break
		}
	}
	switch {
	case method != "" && method != "oauth":
		return nil, nil, n.Get("authentication_method").Errorf("%s", jwtEndOfLife)
	case method == "" && jwtKey != "":
		return nil, nil, ent.Get(jwtKey).Errorf("%s", jwtEndOfLife)
	case jwtKey != "":
		return nil, nil, ent.Get(jwtKey).Errorf("is a JWT setting, which OAuth Server-to-Server authentication does not use: remove it")
	}

	if u.OrgID, err = ent.RequireString("org_id"); err != nil {
		return nil, nil, err
	}
	hasID := ent.Has("client_id") || ent.Has("secure_client_id_key")
	hasKey := ent.Has("api_key") || ent.Has("secure_api_key_key")
	if hasID && hasKey {
		return nil, nil, ent.Errorf("give client_id or its old name api_key, not both")
	}
	idKey := "client_id"
	if hasKey {
		idKey = "api_key"
	}
	if u.ClientID, err = ent.RequireCredential(ctx, idKey, u.OrgID, secrets); err != nil {
		return nil, nil, err
	}
	if u.ClientSecret, err = ent.RequireCredential(ctx, "client_secret", u.OrgID, secrets); err != nil {
		return nil, nil, err
	}

	u.Host, u.Endpoint = DefaultUMAPIHost, DefaultUMAPIEndpoint
	u.AuthHost, u.AuthEndpoint = DefaultIMSHost, DefaultIMSEndpoint
	u.Timeout, u.Retries, u.SSLVerify = DefaultUMAPITimeout, DefaultUMAPIRetries, sslDefault
	srv, err := n.Map("server")
	if err != nil {
		return nil, nil, err
	}
	if srv != nil {
		str := func(dst *string, key, alias string) error {
			if alias != "" && srv.Has(key) && srv.Has(alias) {
				return srv.Errorf("give %s or its old name %s, not both", key, alias)
			}
			if alias != "" && srv.Has(alias) {
				key = alias
			}
			v, err := srv.String(key, "")
			if err != nil {
				return err
			}
			if v = strings.TrimSpace(v); v != "" {
				*dst = v
			}
			return nil
		}
		for _, s := range []struct {
			dst        *string
			key, alias string
		}{
			{&u.Host, "host", ""}, {&u.Endpoint, "endpoint", ""},
			{&u.AuthHost, "auth_host", "ims_host"}, {&u.AuthEndpoint, "auth_endpoint", "ims_endpoint_jwt"},
		} {
			if err := str(s.dst, s.key, s.alias); err != nil {
				return nil, nil, err
			}
		}
		secs, err := srv.Int("timeout", int(DefaultUMAPITimeout/time.Second))
		if err != nil {
			return nil, nil, err
		}
		if secs <= 0 {
			return nil, nil, srv.Get("timeout").Errorf("must be a positive number of seconds")
		}
		u.Timeout = time.Duration(secs) * time.Second
		if u.Retries, err = srv.Int("retries", DefaultUMAPIRetries); err != nil {
			return nil, nil, err
		}
		if u.Retries < 1 {
			return nil, nil, srv.Get("retries").Errorf("is the total number of attempts and must be at least 1")
		}
		v, err := srv.OptBool("ssl_verify")
		if err != nil {
			return nil, nil, err
		}
		if v != nil {
			u.SSLVerify = *v
		}
		if errs := srv.Unused(); len(errs) > 0 {
			return nil, nil, errs[0]
		}
	}
	if errs := ent.Unused(); len(errs) > 0 {
		return nil, nil, errs[0]
	}

	if u.Trusted, err = n.Bool("trusted", false); err != nil {
		return nil, nil, err
	}
	if n.Has("uses_business_id") {
		if u.UsesBusinessID, err = n.Bool("uses_business_id", false); err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, where(n.Get("uses_business_id"))+": uses_business_id is deprecated")
	}
	n.Get("logger_name") // accepted, as in UST, with no effect
	for _, e := range n.Unused() {
		if !strings.Contains(e.Path, ".") {
			msg := "unknown key, ignored"
			if e.Path == "ssl_verify" {
				msg = "ssl_verify has no effect at the top level: put it under server"
			}
			warnings = append(warnings, fmt.Sprintf("%s: %s: %s", e.location(), e.Path, msg))
		}
	}
	return u, warnings, nil
}

// where is "file:line" of a node, for warnings.
func where(n *Node) string {
	if l := n.Line(); l > 0 {
		return fmt.Sprintf("%s:%d", n.File, l)
	}
	return n.File
}

// location is "file:line" of an error.
func (e *Error) location() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.File
}
