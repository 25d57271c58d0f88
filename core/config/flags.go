package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// DefaultConfigFile is the main configuration file used when -c is not
// given, relative to the working directory (as in UST).
const DefaultConfigFile = "user-sync-config.yml"

// SyncFlags are UST's sync options as given on the command line or under
// invocation_defaults. A nil field (or a nil token list) means "not given",
// which is distinct from "given as false": only given options override.
//
// The four multi-value options hold their tokens as UST reads them: the
// verb first, then its arguments, e.g. Users = ["group", "a,b"] and
// Connector = ["csv", "users.csv"].
type SyncFlags struct {
	ConfigFilename     *string
	ConfigFileEncoding *string

	Users               []string
	Connector           []string
	AdobeUsers          []string
	AdobeOnlyUserAction []string

	AdobeOnlyUserList *string
	Strategy          *string
	UserFilter        *string

	ProcessGroups        *bool
	UpdateUserInfo       *bool
	ExcludeUnmappedUsers *bool
	TestMode             *bool
	// SSLCertVerify has no command-line flag; only invocation_defaults
	// sets it.
	SSLCertVerify *bool
}

// ConfigPath is the main configuration file to load: -c when given, else
// DefaultConfigFile.
func (f *SyncFlags) ConfigPath() string {
	if f != nil && f.ConfigFilename != nil && *f.ConfigFilename != "" {
		return *f.ConfigFilename
	}
	return DefaultConfigFile
}

// UsageError is a command-line usage error: an unknown flag, a missing
// value, an unknown verb or an invalid combination given on the command
// line. cmd maps it to exit status 2; every other error from this package
// is a fatal configuration error (exit status 1).
type UsageError struct {
	Err error
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// IsUsage reports whether err is (or wraps) a *UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// greedyAnnotation marks a flag whose value is every following token up
// to the next option (UST's multi-value options).
const greedyAnnotation = "usersync/greedy"

// tokenSep joins the tokens of a greedy option into pflag's single value.
// The ASCII unit separator does not occur in paths or group lists.
const tokenSep = "\x1f"

type tokensValue struct{ dst *[]string }

func (v tokensValue) String() string {
	if v.dst == nil || *v.dst == nil {
		return ""
	}
	return strings.Join(*v.dst, " ")
}

func (v tokensValue) Set(s string) error {
	if s == "" {
		return errors.New("needs a value")
	}
	*v.dst = strings.Split(s, tokenSep)
	return nil
}

func (v tokensValue) Type() string { return "tokens" }

type stringPtrValue struct{ dst **string }

func (v stringPtrValue) String() string {
	if *v.dst == nil {
		return ""
	}
	return **v.dst
}

func (v stringPtrValue) Set(s string) error { *v.dst = &s; return nil }
func (v stringPtrValue) Type() string       { return "string" }

// pairValue is one side of a --x/--no-x pair; both sides write the same
// *bool, so the last one given wins, as with click's paired flags.
type pairValue struct {
	dst      **bool
	positive bool
}

func (v pairValue) String() string {
	if *v.dst == nil {
		return "false"
	}
	return strconv.FormatBool(**v.dst == v.positive)
}

func (v pairValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("takes no value (or true/false), not %q", s)
	}
	r := b == v.positive
	*v.dst = &r
	return nil
}

func (v pairValue) Type() string     { return "bool" }
func (v pairValue) IsBoolFlag() bool { return true }

// AddFlags registers every UST sync flag on fs, bound to f. A command adds
// its own flags to the same set and parses it with ParseArgs.
func (f *SyncFlags) AddFlags(fs *pflag.FlagSet) {
	str := func(dst **string, name, short, usage string) {
		fs.VarP(stringPtrValue{dst}, name, short, usage)
	}
	greedy := func(dst *[]string, name, usage string) {
		fs.Var(tokensValue{dst}, name, usage)
		_ = fs.SetAnnotation(name, greedyAnnotation, []string{"true"})
	}
	pair := func(dst **bool, name, short, noName, noShort, usage, noUsage string) {
		fs.VarPF(pairValue{dst, true}, name, short, usage).NoOptDefVal = "true"
		fs.VarPF(pairValue{dst, false}, noName, noShort, noUsage).NoOptDefVal = "true"
	}
	str(&f.ConfigFilename, "config-filename", "c", "main configuration file (default "+DefaultConfigFile+")")
	str(&f.ConfigFileEncoding, "config-file-encoding", "", "encoding of every configuration file (default utf8)")
	greedy(&f.Users, "users", "directory users to sync: all | mapped | group LIST | file PATH")
	greedy(&f.Connector, "connector", "identity source: ldap | okta | entra | google | adobe_console | csv PATH")
	greedy(&f.AdobeUsers, "adobe-users", "Adobe users to read: all | mapped | group LIST")
	greedy(&f.AdobeOnlyUserAction, "adobe-only-user-action",
		"Adobe-only users: preserve | exclude | write-file PATH | delete | remove | remove-adobe-groups")
	str(&f.AdobeOnlyUserList, "adobe-only-user-list", "", "read the Adobe-only users from this CSV file instead of comparing")
	str(&f.Strategy, "strategy", "", "sync | push")
	str(&f.UserFilter, "user-filter", "", "only directory users whose username fully matches this regular expression")
	pair(&f.ProcessGroups, "process-groups", "", "no-process-groups", "",
		"add and remove memberships of mapped Adobe groups", "do not manage group memberships")
	pair(&f.UpdateUserInfo, "update-user-info", "", "no-update-user-info", "",
		"update names and email of matched users", "do not update user attributes")
	pair(&f.ExcludeUnmappedUsers, "exclude-unmapped-users", "", "include-unmapped-users", "",
		"do not create users that map to no Adobe group", "create users even without mapped groups")
	pair(&f.TestMode, "test-mode", "t", "no-test-mode", "T",
		"send actions in test mode: nothing changes", "turn test mode off")
}

// ParseArgs parses args with fs, which holds the sync flags (AddFlags) and
// perhaps others. UST's greedy multi-value options are first folded into
// one token each, so `--users group "a,b"` and
// `--connector csv users.csv` work as written in existing cron lines. It
// returns the positional arguments left over. Syntax errors are
// *UsageError; -h/--help returns pflag.ErrHelp.
func ParseArgs(fs *pflag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(discard{})
	if err := fs.Parse(foldGreedy(fs, args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, err
		}
		return nil, &UsageError{Err: err}
	}
	return fs.Args(), nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// foldGreedy rewrites each greedy option and the tokens it swallows (every
// following token up to the next one starting with "-") into a single
// "--name=tok1<sep>tok2" argument.
func foldGreedy(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if !strings.HasPrefix(a, "--") {
			out = append(out, a)
			continue
		}
		name, first, hasEq := strings.Cut(a[2:], "=")
		fl := fs.Lookup(name)
		if fl == nil || fl.Annotations[greedyAnnotation] == nil {
			out = append(out, a)
			continue
		}
		var toks []string
		if hasEq {
			toks = append(toks, first)
		}
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			toks = append(toks, args[i])
		}
		out = append(out, "--"+name+"="+strings.Join(toks, tokenSep))
	}
	return out
}

// NewSyncFlagSet returns a flag set holding the sync flags bound to a new
// SyncFlags.
func NewSyncFlagSet(name string) (*pflag.FlagSet, *SyncFlags) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	f := &SyncFlags{}
	f.AddFlags(fs)
	return fs, f
}

// ParseSyncArgs parses the arguments of UST's sync command. It only checks
// syntax; the rules of UST §1.4 are applied when the options are resolved
// against the configuration (Load). Unknown flags and stray arguments are
// *UsageError.
func ParseSyncArgs(args []string) (*SyncFlags, error) {
	fs, f := NewSyncFlagSet("sync")
	rest, err := ParseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("unexpected argument %q", rest[0])
	}
	return f, nil
}
