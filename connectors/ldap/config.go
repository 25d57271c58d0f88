package ldap

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// UST's defaults (user_sync/connector/directory_ldap.py). The all-users
// filter selects enabled Active Directory person accounts; OpenLDAP users
// set their own.
const (
	DefaultAllUsersFilter          = "(&(objectClass=user)(objectCategory=person)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
	DefaultGroupFilterFormat       = "(&(|(objectCategory=group)(objectClass=groupOfNames)(objectClass=posixGroup))(cn={group}))"
	DefaultGroupMemberFilterFormat = "(memberOf={group_dn})"
	DefaultSearchPageSize          = 200
)

// AuthMethod is how the connector binds.
type AuthMethod string

// The supported bind methods.
const (
	AuthSimple    AuthMethod = "simple"
	AuthAnonymous AuthMethod = "anonymous"
	AuthNTLM      AuthMethod = "ntlm"
)

// Referral policies for search continuation references.
const (
	ReferralsFail   = "fail"
	ReferralsFollow = "follow"
	ReferralsIgnore = "ignore"
)

// Secret is a credential. It prints as "[redacted]" so that a Config can be
// logged or shown in an error without leaking the password.
type Secret string

// String hides the secret.
func (Secret) String() string { return "[redacted]" }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return `"[redacted]"` }

// TwoStepsLookup is the two_steps_lookup block: group membership read from
// an attribute of the group entry instead of a member search.
type TwoStepsLookup struct {
	MemberAttribute string // group_member_attribute_name
	Nested          bool   // nested_group
}

// Config is a parsed connector-ldap.yml.
type Config struct {
	File string // where it was read from, for messages

	URL      *url.URL // host, with scheme ldap or ldaps
	BaseDN   string
	Username string
	Password Secret
	Auth     AuthMethod

	// RequireTLSCert is require_tls_cert: true. On an ldap:// host it
	// turns StartTLS on, as in UST.
	RequireTLSCert bool
	// SkipVerify is require_tls_cert: false written out: TLS connections
	// are then encrypted without checking the server's certificate (UST's
	// behaviour when the key is absent). Without the key, usersync checks
	// certificates.
	SkipVerify bool
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool
	// RootCAs verifies the server certificate; nil means the system pool.
	RootCAs    *x509.CertPool
	CACertFile string

	SearchPageSize int // 0: unpaged
	Referrals      string

	AllUsersFilter          string
	GroupFilterFormat       string
	GroupMemberFilterFormat string
	TwoSteps                *TwoStepsLookup
	DynamicMemberAttribute  string // dynamic_group_member_attribute
	StringEncoding          string

	UserIdentityType core.IdentityType // "" means the main config's default
	IdentityTypeFmt  *Format
	EmailFmt         *Format
	UsernameFmt      *Format
	DomainFmt        *Format
	GivenNameFmt     *Format
	SurnameFmt       *Format
	CountryFmt       *Format

	LoggerName string
}

// Keys are every key connector-ldap.yml may hold. start_tls, ca_cert_file
// and referrals are usersync's additions; the rest are UST's.
var Keys = []string{
	"host", "base_dn", "username", "password", "secure_password_key",
	"authentication_method", "require_tls_cert", "start_tls", "ca_cert_file",
	"search_page_size", "referrals",
	"all_users_filter", "group_filter_format", "group_member_filter_format",
	"two_steps_lookup", "dynamic_group_member_attribute", "string_encoding",
	"user_identity_type", "user_identity_type_format",
	"user_email_format", "user_username_format", "user_domain_format",
	"user_given_name_format", "user_surname_format", "user_country_code_format",
	"logger_name",
}

var lmntHash = regexp.MustCompile(`^(?:[0-9a-fA-F]{32}:)?[0-9a-fA-F]{32}$`)

// ParseConfig reads connector-ldap.yml from n, applying UST's defaults. The
// password comes from the file or, through secure_password_key, from
// secrets under the LDAP username. Unknown keys are errors naming the file
// and line.
func ParseConfig(ctx context.Context, n *config.Node, secrets config.Secrets) (Config, error) {
	c := Config{File: n.File}
	if err := n.CheckKeys(Keys...); err != nil {
		return Config{}, err
	}
	host, err := n.RequireString("host")
	if err != nil {
		return Config{}, err
	}
	if c.URL, err = parseHost(host); err != nil {
		return Config{}, n.Get("host").Errorf("%v", err)
	}
	if !n.Has("base_dn") {
		return Config{}, &config.Error{File: n.File, Path: "base_dn", Line: n.Line(),
			Msg: `required value is missing (write base_dn: "" to search from the server's root)`}
	}
	if c.BaseDN, err = n.String("base_dn", ""); err != nil {
		return Config{}, err
	}
	if c.BaseDN != "" {
		if _, err := parseDN(c.BaseDN); err != nil {
			return Config{}, n.Get("base_dn").Errorf("not a valid DN: %v", err)
		}
	}
	if c.Username, err = n.String("username", ""); err != nil {
		return Config{}, err
	}
	method, err := n.String("authentication_method", "")
	if err != nil {
		return Config{}, err
	}
	switch m := strings.ToLower(strings.TrimSpace(method)); m {
	case "":
		c.Auth = AuthSimple
		if c.Username == "" {
			c.Auth = AuthAnonymous
		}
	case "simple", "ntlm":
		c.Auth = AuthMethod(m)
		if c.Username == "" {
			// UST falls back to anonymous when no username is given.
			c.Auth = AuthAnonymous
		}
	case "anonymous":
		if c.Username != "" {
			return Config{}, n.Get("authentication_method").Errorf("anonymous binds take no username; remove username or choose simple or ntlm")
		}
		c.Auth = AuthAnonymous
	case "kerberos":
		return Config{}, n.Get("authentication_method").Errorf("kerberos is not supported by usersync; use simple (over LDAPS or StartTLS) or ntlm")
	default:
		return Config{}, n.Get("authentication_method").Errorf("must be simple, anonymous or ntlm, not %q", method)
	}
	if c.Auth == AuthAnonymous {
		// Read (and so accept) the keys without consulting the keyring.
		n.Get("password")
		n.Get("secure_password_key")
	} else {
		pw, err := n.RequireCredential(ctx, "password", c.Username, secrets)
		if err != nil {
			return Config{}, err
		}
		c.Password = Secret(pw)
	}
	if c.Auth == AuthNTLM && !strings.Contains(c.Username, `\`) && !strings.Contains(c.Username, "@") {
		return Config{}, n.Get("username").Errorf(`ntlm binds need DOMAIN\user (or user@domain), not %q`, c.Username)
	}

	req, err := n.OptBool("require_tls_cert")
	if err != nil {
		return Config{}, err
	}
	c.RequireTLSCert = req != nil && *req
	c.SkipVerify = req != nil && !*req
	if c.StartTLS, err = n.Bool("start_tls", c.RequireTLSCert && c.URL.Scheme == "ldap"); err != nil {
		return Config{}, err
	}
	if c.StartTLS && c.URL.Scheme == "ldaps" {
		return Config{}, n.Get("start_tls").Errorf("StartTLS is for ldap:// hosts; an ldaps:// connection is already encrypted")
	}
	if c.CACertFile, err = n.String("ca_cert_file", ""); err != nil {
		return Config{}, err
	}
	if c.CACertFile != "" {
		c.CACertFile = n.ResolvePath(c.CACertFile)
		pem, err := os.ReadFile(c.CACertFile)
		if err != nil {
			return Config{}, n.Get("ca_cert_file").Errorf("cannot read CA certificates: %v", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return Config{}, n.Get("ca_cert_file").Errorf("%s holds no PEM certificates", c.CACertFile)
		}
	}

	if c.SearchPageSize, err = n.Int("search_page_size", DefaultSearchPageSize); err != nil {
		return Config{}, err
	}
	if c.SearchPageSize < 0 {
		return Config{}, n.Get("search_page_size").Errorf("must be 0 (unpaged) or more, not %d", c.SearchPageSize)
	}
	if c.Referrals, err = n.String("referrals", ReferralsFail); err != nil {
		return Config{}, err
	}
	c.Referrals = strings.ToLower(strings.TrimSpace(c.Referrals))
	switch c.Referrals {
	case ReferralsFail, ReferralsFollow, ReferralsIgnore:
	default:
		return Config{}, n.Get("referrals").Errorf("must be fail, follow or ignore, not %q", c.Referrals)
	}

	filters := []struct {
		key string
		dst *string
		def string
	}{
		{"all_users_filter", &c.AllUsersFilter, DefaultAllUsersFilter},
		{"group_filter_format", &c.GroupFilterFormat, DefaultGroupFilterFormat},
		{"group_member_filter_format", &c.GroupMemberFilterFormat, DefaultGroupMemberFilterFormat},
	}
	for _, f := range filters {
		s, err := n.String(f.key, f.def)
		if err != nil {
			return Config{}, err
		}
		if strings.TrimSpace(s) == "" {
			return Config{}, n.Get(f.key).Errorf("is empty")
		}
		*f.dst = strings.TrimSpace(s)
		// Check the filter compiles with every placeholder filled, so a
		// typo is reported against its line now rather than mid-run.
		probe := strings.NewReplacer("{group}", "x", "{group_dn}", "cn=x").Replace(*f.dst)
		if err := checkFilter(wrapFilter(probe)); err != nil {
			return Config{}, n.Get(f.key).Errorf("not a valid LDAP filter: %v", err)
		}
	}
	if !strings.Contains(c.GroupFilterFormat, "{group}") {
		return Config{}, n.Get("group_filter_format").Errorf("must contain {group}, where the group name goes")
	}

	if ts, err := n.Map("two_steps_lookup"); err != nil {
		return Config{}, err
	} else if ts != nil {
		if err := ts.CheckKeys("group_member_attribute_name", "nested_group"); err != nil {
			return Config{}, err
		}
		if n.Has("group_member_filter_format") {
			return Config{}, n.Get("group_member_filter_format").Errorf("cannot be used together with two_steps_lookup (remove one of them)")
		}
		attr, err := ts.RequireString("group_member_attribute_name")
		if err != nil {
			return Config{}, err
		}
		nested, err := ts.Bool("nested_group", false)
		if err != nil {
			return Config{}, err
		}
		c.TwoSteps = &TwoStepsLookup{MemberAttribute: strings.TrimSpace(attr), Nested: nested}
	}
	if c.TwoSteps == nil && !strings.Contains(c.GroupMemberFilterFormat, "{group_dn}") && !strings.Contains(c.GroupMemberFilterFormat, "{group}") {
		return Config{}, n.Get("group_member_filter_format").Errorf("must contain {group_dn} (or {group}), where the group goes")
	}
	if c.DynamicMemberAttribute, err = n.String("dynamic_group_member_attribute", ""); err != nil {
		return Config{}, err
	}
	c.DynamicMemberAttribute = strings.TrimSpace(c.DynamicMemberAttribute)
	if c.StringEncoding, err = n.String("string_encoding", "utf8"); err != nil {
		return Config{}, err
	}
	if _, err := config.Decode([]byte("a"), c.StringEncoding); err != nil {
		return Config{}, n.Get("string_encoding").Errorf("%v", err)
	}
	if c.LoggerName, err = n.String("logger_name", "ldap"); err != nil {
		return Config{}, err
	}

	if c.UserIdentityType, err = n.IdentityType("user_identity_type"); err != nil {
		return Config{}, err
	}
	formats := []struct {
		key string
		dst **Format
		def string
	}{
		{"user_identity_type_format", &c.IdentityTypeFmt, ""},
		{"user_email_format", &c.EmailFmt, "{mail}"},
		{"user_username_format", &c.UsernameFmt, ""},
		{"user_domain_format", &c.DomainFmt, ""},
		{"user_given_name_format", &c.GivenNameFmt, "{givenName}"},
		{"user_surname_format", &c.SurnameFmt, "{sn}"},
		{"user_country_code_format", &c.CountryFmt, "{c}"},
	}
	for _, f := range formats {
		s, err := n.String(f.key, f.def)
		if err != nil {
			return Config{}, err
		}
		if s == "" {
			continue
		}
		if *f.dst, err = ParseFormat(s); err != nil {
			return Config{}, n.Get(f.key).Errorf("%v", err)
		}
	}
	if c.EmailFmt == nil {
		return Config{}, n.Get("user_email_format").Errorf("is empty; every user needs an email (the default is {mail})")
	}
	return c, nil
}

// parseHost accepts ldap://host[:port] and ldaps://host[:port]; a bare
// host name means ldap://.
func parseHost(host string) (*url.URL, error) {
	host = strings.TrimSpace(host)
	if !strings.Contains(host, "://") {
		host = "ldap://" + host
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, fmt.Errorf("not a valid LDAP URL: %v", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "ldap" && u.Scheme != "ldaps" {
		return nil, fmt.Errorf("must start with ldap:// or ldaps://, not %s://", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q names no server", host)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("give only ldap[s]://host[:port]; put the search base in base_dn")
	}
	if u.Port() == "" {
		port := "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	u.Path = ""
	return u, nil
}
