package config

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"

	"github.com/usersync/usersync/core"
)

// invocationKeys are the keys of invocation_defaults, with the flag each
// one stands for ("" for the two UST reads and ignores).
var invocationKeys = map[string]string{
	"adobe_only_user_action": "--adobe-only-user-action",
	"adobe_only_user_list":   "--adobe-only-user-list",
	"adobe_users":            "--adobe-users",
	"connector":              "--connector",
	"exclude_unmapped_users": "--exclude-unmapped-users",
	"process_groups":         "--process-groups",
	"strategy":               "--strategy",
	"test_mode":              "--test-mode",
	"update_user_info":       "--update-user-info",
	"user_filter":            "--user-filter",
	"users":                  "--users",
	"ssl_cert_verify":        "",
	"config_filename":        "",
	"encoding_name":          "",
}

// parseInvocationDefaults reads invocation_defaults into SyncFlags, with
// UST's rules (§1.3): list options accept a scalar, empty values mean "not
// set", booleans are YAML 1.1 booleans. It returns, for every option set
// here, the node it came from.
func parseInvocationDefaults(n *Node) (*SyncFlags, map[string]*Node, error) {
	f := &SyncFlags{}
	from := map[string]*Node{}
	if n == nil {
		return f, from, nil
	}
	for _, k := range n.Keys() {
		if _, ok := invocationKeys[k]; !ok {
			keys := make([]string, 0, len(invocationKeys))
			for name := range invocationKeys {
				keys = append(keys, name)
			}
			sort.Strings(keys)
			return nil, nil, n.CheckKeys(keys...)
		}
	}
	lists := []struct {
		key string
		dst *[]string
	}{
		{"adobe_only_user_action", &f.AdobeOnlyUserAction},
		{"adobe_users", &f.AdobeUsers},
		{"connector", &f.Connector},
		{"users", &f.Users},
	}
	for _, l := range lists {
		v, err := n.StringList(l.key)
		if err != nil {
			return nil, nil, err
		}
		if len(v) > 0 {
			*l.dst = v
			from[l.key] = n.Get(l.key)
		}
	}
	strs := []struct {
		key string
		dst **string
	}{
		{"adobe_only_user_list", &f.AdobeOnlyUserList},
		{"strategy", &f.Strategy},
		{"user_filter", &f.UserFilter},
	}
	for _, s := range strs {
		v, err := n.String(s.key, "")
		if err != nil {
			return nil, nil, err
		}
		if v != "" {
			*s.dst = &v
			from[s.key] = n.Get(s.key)
		}
	}
	bools := []struct {
		key string
		dst **bool
	}{
		{"exclude_unmapped_users", &f.ExcludeUnmappedUsers},
		{"process_groups", &f.ProcessGroups},
		{"test_mode", &f.TestMode},
		{"update_user_info", &f.UpdateUserInfo},
		{"ssl_cert_verify", &f.SSLCertVerify},
	}
	for _, b := range bools {
		v, err := n.OptBool(b.key)
		if err != nil {
			return nil, nil, err
		}
		if v != nil {
			*b.dst = v
			from[b.key] = n.Get(b.key)
		}
	}
	// UST reads these two and ignores them; reading marks them as known.
	n.Get("config_filename")
	n.Get("encoding_name")
	return f, from, nil
}

// overlay returns base with every option given in top replacing it (a
// command-line flag always wins over invocation_defaults). Options taken
// from top are removed from from, so errors about them name the flag.
func overlay(base, top *SyncFlags, from map[string]*Node) *SyncFlags {
	out := *base
	if top == nil {
		return &out
	}
	tl := func(dst *[]string, v []string, key string) {
		if v != nil {
			*dst = v
			delete(from, key)
		}
	}
	ts := func(dst **string, v *string, key string) {
		if v != nil {
			*dst = v
			delete(from, key)
		}
	}
	tb := func(dst **bool, v *bool, key string) {
		if v != nil {
			*dst = v
			delete(from, key)
		}
	}
	ts(&out.ConfigFilename, top.ConfigFilename, "config_filename")
	ts(&out.ConfigFileEncoding, top.ConfigFileEncoding, "encoding_name")
	tl(&out.Users, top.Users, "users")
	tl(&out.Connector, top.Connector, "connector")
	tl(&out.AdobeUsers, top.AdobeUsers, "adobe_users")
	tl(&out.AdobeOnlyUserAction, top.AdobeOnlyUserAction, "adobe_only_user_action")
	ts(&out.AdobeOnlyUserList, top.AdobeOnlyUserList, "adobe_only_user_list")
	ts(&out.Strategy, top.Strategy, "strategy")
	ts(&out.UserFilter, top.UserFilter, "user_filter")
	tb(&out.ProcessGroups, top.ProcessGroups, "process_groups")
	tb(&out.UpdateUserInfo, top.UpdateUserInfo, "update_user_info")
	tb(&out.ExcludeUnmappedUsers, top.ExcludeUnmappedUsers, "exclude_unmapped_users")
	tb(&out.TestMode, top.TestMode, "test_mode")
	tb(&out.SSLCertVerify, top.SSLCertVerify, "ssl_cert_verify")
	return &out
}

// Invocation is the outcome of resolving the sync options (UST §1.3-1.4)
// beyond what core.Options holds.
type Invocation struct {
	// Connector is the identity source: ldap, okta, adobe_console or csv.
	Connector string
	// UsersFile is the CSV users file of --connector csv PATH or
	// --users file PATH, relative to the working directory.
	UsersFile string
	// AdobeOnlyListFile is --adobe-only-user-list, relative to the working
	// directory. When set, cmd parses it into Options.AdobeOnlyList.
	AdobeOnlyListFile string
	// SSLCertVerify is invocation_defaults.ssl_cert_verify (default true).
	SSLCertVerify bool
	// Notes are UST's info-level messages about ignored options.
	Notes []string
}

type resolver struct {
	from map[string]*Node
}

// fail reports a rule broken by the option of key: at its line in
// invocation_defaults when it came from there, else as a usage error.
func (r *resolver) fail(key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n := r.from[key]; n != nil {
		return n.Errorf("%s", msg)
	}
	return usagef("%s: %s", invocationKeys[key], msg)
}

// failBoth reports a broken combination of two options.
func (r *resolver) failBoth(k1, k2, format string, args ...any) error {
	if r.from[k1] == nil && r.from[k2] != nil {
		k1 = k2
	}
	return r.fail(k1, format, args...)
}

func verb(toks []string) string {
	if len(toks) == 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(toks[0]))
}

// splitGroups splits a --users/--adobe-users group list on commas. Unlike
// UST it trims each name and drops empty ones (a leading space never
// names a real group).
func splitGroups(s string) []string {
	var out []string
	for _, g := range strings.Split(s, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

// anchoredRegexp checks s as UST uses user filters and exclude_users: it
// must match the whole string, case-insensitively. It returns s compiled as
// written; the engine anchors it (so messages show the user's pattern).
func anchoredRegexp(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err == nil {
		_, err = regexp.Compile(`(?i)^(?:` + s + `)$`)
	}
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", s, regexpReason(err))
	}
	return re, nil
}

// regexpReason explains a pattern Go's RE2 syntax refuses. Python's re
// (UST's) accepts back-references and look-around, which RE2 cannot
// express; the parser's own words for them (invalid escape, invalid named
// capture) would send an administrator looking for a typo.
func regexpReason(err error) string {
	msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
	var se *syntax.Error
	if !errors.As(err, &se) {
		return msg
	}
	expr := se.Expr
	switch {
	case se.Code == syntax.ErrInvalidEscape && len(expr) >= 2 && (expr[1] >= '1' && expr[1] <= '9' || expr[1] == 'g' || expr[1] == 'k'):
		return fmt.Sprintf("back-references (%s) are not supported: Go's regular expressions (RE2 syntax) cannot match a group's text again", expr)
	case strings.HasPrefix(expr, "(?<=") || strings.HasPrefix(expr, "(?<!"):
		return fmt.Sprintf("look-behind (%s) is not supported by Go's regular expressions (RE2 syntax)", expr[:4])
	case strings.HasPrefix(expr, "(?=") || strings.HasPrefix(expr, "(?!"):
		return fmt.Sprintf("look-ahead (%s) is not supported by Go's regular expressions (RE2 syntax)", expr[:3])
	case se.Code == syntax.ErrInvalidPerlOp:
		return msg + " (look-around and back-references are not supported)"
	}
	return msg
}

// resolveOptions applies UST's validation rules (§1.4, in order) to the
// merged options and fills the sync-option part of o.
func resolveOptions(f *SyncFlags, from map[string]*Node, o *core.Options) (*Invocation, error) {
	r := &resolver{from: from}
	inv := &Invocation{SSLCertVerify: true}
	if f.SSLCertVerify != nil {
		inv.SSLCertVerify = *f.SSLCertVerify
	}
	deref := func(b *bool) bool { return b != nil && *b }
	o.ProcessGroups = deref(f.ProcessGroups)
	o.UpdateUserInfo = deref(f.UpdateUserInfo)
	o.ExcludeUnmapped = deref(f.ExcludeUnmappedUsers)
	o.TestMode = deref(f.TestMode)

	// Strategy. UST treats any value but "push" as sync; we refuse typos.
	o.Strategy = core.StrategySync
	if f.Strategy != nil {
		switch s := strings.ToLower(strings.TrimSpace(*f.Strategy)); s {
		case "", "sync":
		case "push":
			o.Strategy = core.StrategyPush
		default:
			return nil, r.fail("strategy", "unknown strategy %q: use sync or push", *f.Strategy)
		}
	}

	// Rules 1-2: the connector.
	conn := f.Connector
	if conn == nil {
		conn = []string{"ldap"}
	}
	switch v := verb(conn); v {
	case "ldap", "okta", "adobe_console":
		if len(conn) > 1 {
			return nil, r.fail("connector", "the %s connector takes no file, but %q was given", v, conn[1])
		}
		inv.Connector = v
	case "csv":
		if len(conn) != 2 {
			return nil, r.fail("connector", "csv needs exactly one users file: csv PATH")
		}
		inv.Connector, inv.UsersFile = "csv", conn[1]
	default:
		return nil, r.fail("connector", "unknown connector %q: use ldap, okta, adobe_console or csv PATH", conn[0])
	}

	// Rules 3-4: the Adobe-only action.
	o.AdobeOnlyAction = core.AdobeOnlyPreserve
	if o.Strategy == core.StrategyPush {
		if f.AdobeOnlyUserAction != nil {
			inv.Notes = append(inv.Notes, "the Adobe-only user action is ignored with strategy push")
		}
	} else if act := f.AdobeOnlyUserAction; act != nil {
		switch v := verb(act); core.AdobeOnlyKind(v) {
		case core.AdobeOnlyPreserve, core.AdobeOnlyExclude, core.AdobeOnlyDelete,
			core.AdobeOnlyRemove, core.AdobeOnlyRemoveAdobeGroups:
			o.AdobeOnlyAction = core.AdobeOnlyKind(v)
		case core.AdobeOnlyWriteFile:
			if len(act) != 2 || act[1] == "" {
				return nil, r.fail("adobe_only_user_action", "write-file needs exactly one output file: write-file PATH")
			}
			o.AdobeOnlyAction, o.AdobeOnlyFile = core.AdobeOnlyWriteFile, act[1]
		default:
			msg := fmt.Sprintf("unknown Adobe-only user action %q: use preserve, exclude, write-file PATH, delete, remove or remove-adobe-groups", act[0])
			if strings.Contains(strings.TrimSpace(act[0]), " ") && r.from["adobe_only_user_action"] != nil {
				msg += " (in invocation_defaults write a verb and its file as a list: [write-file, out.csv])"
			}
			return nil, r.fail("adobe_only_user_action", "%s", msg)
		}
	}

	// Rule 5: the Adobe-only list input.
	listMode := f.AdobeOnlyUserList != nil && *f.AdobeOnlyUserList != ""
	if listMode {
		if o.Strategy == core.StrategyPush {
			return nil, r.failBoth("adobe_only_user_list", "strategy", "an Adobe-only user list cannot be used with strategy push")
		}
		inv.AdobeOnlyListFile = *f.AdobeOnlyUserList
		if f.Users != nil {
			inv.Notes = append(inv.Notes, "the users option is ignored with an Adobe-only user list")
		}
	}

	// Rules 6-8: the directory users.
	o.Users = core.UsersAll
	if !listMode {
		users := f.Users
		if users == nil {
			users = []string{"all"}
		}
		switch v := verb(users); core.UsersMode(v) {
		case core.UsersAll:
			if inv.Connector == "okta" {
				return nil, r.failBoth("users", "connector", "the okta connector cannot read all users: use users mapped or users group LIST")
			}
		case core.UsersFile:
			if f.Connector != nil && inv.Connector == "csv" {
				return nil, r.failBoth("users", "connector", "give the users file either with users file PATH or with connector csv PATH, not both")
			}
			if len(users) != 2 || users[1] == "" {
				return nil, r.fail("users", "file needs exactly one users file: file PATH")
			}
			o.Users, inv.Connector, inv.UsersFile = core.UsersFile, "csv", users[1]
		case core.UsersMapped:
			o.Users = core.UsersMapped
		case core.UsersGroup:
			if len(users) != 2 {
				return nil, r.fail("users", "group needs exactly one comma-separated list of groups: group \"A,B\"")
			}
			o.UsersGroups = splitGroups(users[1])
			if len(o.UsersGroups) == 0 {
				return nil, r.fail("users", "group needs at least one group name")
			}
			o.Users = core.UsersGroup
		default:
			return nil, r.fail("users", "unknown users selection %q: use all, mapped, group LIST or file PATH", users[0])
		}
	}

	// Rule 9.
	if listMode && o.AdobeOnlyAction == core.AdobeOnlyWriteFile {
		return nil, r.failBoth("adobe_only_user_list", "adobe_only_user_action", "an Adobe-only user list cannot be combined with the write-file action")
	}

	// Rules 10-11: the user filter.
	if f.UserFilter != nil && *f.UserFilter != "" {
		if listMode {
			inv.Notes = append(inv.Notes, "the user filter is ignored with an Adobe-only user list")
		} else {
			re, err := anchoredRegexp(*f.UserFilter)
			if err != nil {
				return nil, r.fail("user_filter", "%v", err)
			}
			o.UserFilter = re
		}
	}

	// Rule 12: the Adobe users.
	o.AdobeUsers = core.AdobeUsersAll
	if au := f.AdobeUsers; au != nil {
		switch v := verb(au); core.AdobeUsersMode(v) {
		case core.AdobeUsersAll:
		case core.AdobeUsersMapped:
			o.AdobeUsers = core.AdobeUsersMapped
		case core.AdobeUsersGroup:
			if len(au) != 2 {
				return nil, r.fail("adobe_users", "group needs exactly one comma-separated list of groups: group \"A,B\"")
			}
			o.AdobeUsersGroups = splitGroups(au[1])
			if len(o.AdobeUsersGroups) == 0 {
				return nil, r.fail("adobe_users", "group needs at least one group name")
			}
			for _, g := range o.AdobeUsersGroups {
				if _, name := core.SplitQualifiedGroup(g); strings.TrimSpace(name) == "" {
					return nil, r.fail("adobe_users", "invalid group name %q", g)
				}
			}
			o.AdobeUsers = core.AdobeUsersGroup
		default:
			return nil, r.fail("adobe_users", "unknown Adobe users selection %q: use all, mapped or group LIST", au[0])
		}
	}
	return inv, nil
}
