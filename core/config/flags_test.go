package config

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/pflag"
	"github.com/usersync/usersync/core"
)

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }

// TestParseSyncArgs: every UST sync flag (§1.2), including the two-token
// forms as written in cron lines, with "not given" distinct from false.
func TestParseSyncArgs(t *testing.T) {
	tests := []struct {
		args []string
		want SyncFlags
	}{
		{nil, SyncFlags{}},
		{[]string{"-c", "cfg/main.yml", "--config-file-encoding", "latin1"},
			SyncFlags{ConfigFilename: sp("cfg/main.yml"), ConfigFileEncoding: sp("latin1")}},
		{[]string{"--config-filename=x.yml"}, SyncFlags{ConfigFilename: sp("x.yml")}},
		{[]string{"--users", "group", "a, b", "--process-groups"},
			SyncFlags{Users: []string{"group", "a, b"}, ProcessGroups: bp(true)}},
		{[]string{"--users", "mapped"}, SyncFlags{Users: []string{"mapped"}}},
		{[]string{"--users=file", "users.csv"}, SyncFlags{Users: []string{"file", "users.csv"}}},
		{[]string{"--connector", "csv", "users.csv", "-t"},
			SyncFlags{Connector: []string{"csv", "users.csv"}, TestMode: bp(true)}},
		{[]string{"--adobe-only-user-action", "write-file", "out.csv", "--adobe-users", "group", "G1,org2::G2"},
			SyncFlags{AdobeOnlyUserAction: []string{"write-file", "out.csv"}, AdobeUsers: []string{"group", "G1,org2::G2"}}},
		{[]string{"--adobe-only-user-action", "DELETE"}, SyncFlags{AdobeOnlyUserAction: []string{"DELETE"}}},
		{[]string{"--adobe-only-user-list", "strays.csv", "--strategy", "push", "--user-filter", "a.*"},
			SyncFlags{AdobeOnlyUserList: sp("strays.csv"), Strategy: sp("push"), UserFilter: sp("a.*")}},
		{[]string{"--no-process-groups", "--no-update-user-info", "--include-unmapped-users", "-T"},
			SyncFlags{ProcessGroups: bp(false), UpdateUserInfo: bp(false), ExcludeUnmappedUsers: bp(false), TestMode: bp(false)}},
		{[]string{"--update-user-info", "--exclude-unmapped-users", "--test-mode"},
			SyncFlags{UpdateUserInfo: bp(true), ExcludeUnmappedUsers: bp(true), TestMode: bp(true)}},
		// The last of a --x/--no-x pair wins, as with click.
		{[]string{"-t", "-T"}, SyncFlags{TestMode: bp(false)}},
		{[]string{"--no-process-groups", "--process-groups"}, SyncFlags{ProcessGroups: bp(true)}},
		// A repeated greedy option: the last one wins.
		{[]string{"--users", "all", "--users", "mapped"}, SyncFlags{Users: []string{"mapped"}}},
		// The shipped Linux script's line.
		{[]string{"--process-groups", "--users", "mapped", "-t"},
			SyncFlags{ProcessGroups: bp(true), Users: []string{"mapped"}, TestMode: bp(true)}},
	}
	for _, tt := range tests {
		got, err := ParseSyncArgs(tt.args)
		if err != nil {
			t.Errorf("ParseSyncArgs(%q) error: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(&tt.want, got); diff != "" {
			t.Errorf("ParseSyncArgs(%q) mismatch (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestParseSyncArgsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"-x"}, "unknown shorthand flag: 'x'"},
		{[]string{"--users"}, "needs a value"},
		{[]string{"--users", "--process-groups"}, "needs a value"},
		{[]string{"--users="}, "needs a value"},
		{[]string{"-c"}, "flag needs an argument"},
		{[]string{"--process-groups=maybe"}, "takes no value"},
		{[]string{"stray"}, `unexpected argument "stray"`},
	}
	for _, tt := range tests {
		_, err := ParseSyncArgs(tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSyncArgs(%q) = %v; want an error containing %q", tt.args, err, tt.want)
			continue
		}
		if !IsUsage(err) {
			t.Errorf("ParseSyncArgs(%q) error %v is not a usage error", tt.args, err)
		}
	}
	if _, err := ParseSyncArgs([]string{"--help"}); !errors.Is(err, pflag.ErrHelp) {
		t.Errorf("ParseSyncArgs(--help) = %v; want pflag.ErrHelp", err)
	}
}

// TestParseArgsExtraFlags: a command adds its own flags next to the sync
// flags and gets its positional arguments back.
func TestParseArgsExtraFlags(t *testing.T) {
	fs, f := NewSyncFlagSet("plan")
	db := fs.String("db", "", "database")
	js := fs.Bool("json", false, "json output")
	rest, err := ParseArgs(fs, []string{"--users", "group", "A,B", "--db", "x.db", "--json", "pos"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{[]string{"group", "A,B"}, "x.db", true, []string{"pos"}}, []any{f.Users, *db, *js, rest}); diff != "" {
		t.Errorf("ParseArgs mismatch (-want +got):\n%s", diff)
	}
}

// TestResolveRules applies UST's validation rules (§1.4) in order, with
// values from the command line.
func TestResolveRules(t *testing.T) {
	type want struct {
		Users            core.UsersMode
		UsersGroups      []string
		AdobeUsers       core.AdobeUsersMode
		AdobeUsersGroups []string
		Action           core.AdobeOnlyKind
		ActionFile       string
		Strategy         core.Strategy
		Filter           string
		Inv              Invocation
	}
	base := want{Users: core.UsersAll, AdobeUsers: core.AdobeUsersAll, Action: core.AdobeOnlyPreserve,
		Strategy: core.StrategySync, Inv: Invocation{Connector: "ldap", SSLCertVerify: true}}
	with := func(f func(w *want)) want { w := base; f(&w); return w }
	tests := []struct {
		name string
		args []string
		want want
		err  string
	}{
		{"§1.2 defaults", nil, base, ""},
		{"§1.4 rule 1 ldap takes no file", []string{"--connector", "ldap", "x.yml"}, want{}, `the ldap connector takes no file, but "x.yml" was given`},
		{"§1.4 rule 1 okta takes no file", []string{"--connector", "okta", "x"}, want{}, "the okta connector takes no file"},
		{"§1.4 rule 1 adobe_console", []string{"--connector", "adobe_console", "--users", "mapped"},
			with(func(w *want) { w.Inv.Connector = "adobe_console"; w.Users = core.UsersMapped }), ""},
		{"§1.4 rule 2 csv needs a path", []string{"--connector", "csv"}, want{}, "csv needs exactly one users file"},
		{"§1.4 rule 2 csv takes one path", []string{"--connector", "csv", "a.csv", "b.csv"}, want{}, "csv needs exactly one users file"},
		{"§1.4 rule 2 csv", []string{"--connector", "CSV", "users.csv"},
			with(func(w *want) { w.Inv.Connector, w.Inv.UsersFile = "csv", "users.csv" }), ""},
		{"§1.4 rule 2 unknown connector", []string{"--connector", "sap"}, want{}, `unknown connector "sap"`},
		{"§1.4 rule 3 push discards the action", []string{"--strategy", "push", "--adobe-only-user-action", "delete"},
			with(func(w *want) {
				w.Strategy = core.StrategyPush
				w.Inv.Notes = []string{"the Adobe-only user action is ignored with strategy push"}
			}), ""},
		{"§1.4 rule 4 unknown action", []string{"--adobe-only-user-action", "purge"}, want{}, `unknown Adobe-only user action "purge"`},
		{"§1.4 rule 4 write-file needs a path", []string{"--adobe-only-user-action", "write-file"}, want{}, "write-file needs exactly one output file"},
		{"§1.4 rule 4 write-file", []string{"--adobe-only-user-action", "Write-File", "out.csv"},
			with(func(w *want) { w.Action, w.ActionFile = core.AdobeOnlyWriteFile, "out.csv" }), ""},
		{"§1.4 rule 4 extra tokens after other verbs are ignored", []string{"--adobe-only-user-action", "remove-adobe-groups", "extra"},
			with(func(w *want) { w.Action = core.AdobeOnlyRemoveAdobeGroups }), ""},
		{"§1.4 rule 4 each action", []string{"--adobe-only-user-action", "exclude"},
			with(func(w *want) { w.Action = core.AdobeOnlyExclude }), ""},
		{"§1.4 rule 4 remove", []string{"--adobe-only-user-action", "remove"},
			with(func(w *want) { w.Action = core.AdobeOnlyRemove }), ""},
		{"§1.4 rule 5 list with push", []string{"--adobe-only-user-list", "l.csv", "--strategy", "push"}, want{}, "cannot be used with strategy push"},
		{"§1.4 rule 5 list disables --users", []string{"--adobe-only-user-list", "l.csv", "--users", "bogus"},
			with(func(w *want) {
				w.Inv.AdobeOnlyListFile = "l.csv"
				w.Inv.Notes = []string{"the users option is ignored with an Adobe-only user list"}
			}), ""},
		{"§1.4 rule 6 okta cannot read all users", []string{"--connector", "okta"}, want{}, "the okta connector cannot read all users"},
		{"§1.4 rule 6 okta with mapped", []string{"--connector", "okta", "--users", "mapped"},
			with(func(w *want) { w.Inv.Connector = "okta"; w.Users = core.UsersMapped }), ""},
		{"§1.4 rule 7 file with connector csv", []string{"--connector", "csv", "a.csv", "--users", "file", "b.csv"}, want{}, "not both"},
		{"§1.4 rule 7 file needs a path", []string{"--users", "file"}, want{}, "file needs exactly one users file"},
		{"§1.4 rule 7 file switches to csv", []string{"--users", "file", "u.csv"},
			with(func(w *want) { w.Users = core.UsersFile; w.Inv.Connector, w.Inv.UsersFile = "csv", "u.csv" }), ""},
		{"§1.4 rule 8 group needs one token", []string{"--users", "group"}, want{}, "group needs exactly one comma-separated list"},
		{"§1.4 rule 8 group with two tokens", []string{"--users", "group", "a", "b"}, want{}, "group needs exactly one comma-separated list"},
		{"§1.4 rule 8 group list is trimmed", []string{"--users", "group", "Sales, Marketing ,,Dev"},
			with(func(w *want) { w.Users = core.UsersGroup; w.UsersGroups = []string{"Sales", "Marketing", "Dev"} }), ""},
		{"§1.4 rule 8 empty group list", []string{"--users", "group", " , "}, want{}, "needs at least one group"},
		{"§1.4 rule 8 unknown users verb", []string{"--users", "some"}, want{}, `unknown users selection "some"`},
		{"§1.4 rule 9 list with write-file", []string{"--adobe-only-user-list", "l.csv", "--adobe-only-user-action", "write-file", "o.csv"}, want{}, "cannot be combined with the write-file action"},
		{"§1.4 rule 10 list ignores the user filter", []string{"--adobe-only-user-list", "l.csv", "--user-filter", "("},
			with(func(w *want) {
				w.Inv.AdobeOnlyListFile = "l.csv"
				w.Inv.Notes = []string{"the user filter is ignored with an Adobe-only user list"}
			}), ""},
		{"§1.4 rule 11 bad user filter", []string{"--user-filter", "a(b"}, want{}, `--user-filter: invalid regular expression "a(b"`},
		{"§1.4 rule 11 back-reference", []string{"--user-filter", `(a)\1`}, want{},
			`--user-filter: invalid regular expression "(a)\\1": back-references (\1) are not supported`},
		{"§1.4 rule 11 look-behind", []string{"--user-filter", `(?<=a)b`}, want{},
			`--user-filter: invalid regular expression "(?<=a)b": look-behind ((?<=) is not supported`},
		{"§1.4 rule 11 look-ahead", []string{"--user-filter", `a(?!b)`}, want{}, `look-ahead ((?!) is not supported`},
		{"§1.4 rule 11 user filter anchored and case-insensitive", []string{"--user-filter", "a.*@x.com|b"},
			with(func(w *want) { w.Filter = `a.*@x.com|b` }), ""},
		{"§1.4 rule 12 adobe-users group", []string{"--adobe-users", "GROUP", "G1,org2::G2"},
			with(func(w *want) { w.AdobeUsers = core.AdobeUsersGroup; w.AdobeUsersGroups = []string{"G1", "org2::G2"} }), ""},
		{"§1.4 rule 12 adobe-users group needs one token", []string{"--adobe-users", "group"}, want{}, "--adobe-users: group needs exactly one"},
		{"§1.4 rule 12 adobe-users empty group name", []string{"--adobe-users", "group", "org2::"}, want{}, `invalid group name "org2::"`},
		{"§1.4 rule 12 adobe-users mapped", []string{"--adobe-users", "mapped"},
			with(func(w *want) { w.AdobeUsers = core.AdobeUsersMapped }), ""},
		{"§1.4 rule 12 unknown adobe-users verb", []string{"--adobe-users", "some"}, want{}, `unknown Adobe users selection "some"`},
		{"§1.2 strategy typo is refused", []string{"--strategy", "puhs"}, want{}, `unknown strategy "puhs"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseSyncArgs(tt.args)
			if err != nil {
				t.Fatalf("ParseSyncArgs: %v", err)
			}
			var o core.Options
			inv, err := resolveOptions(f, map[string]*Node{}, &o)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("resolve(%q) = %v; want an error containing %q", tt.args, err, tt.err)
				}
				if !IsUsage(err) {
					t.Errorf("resolve(%q) error %v is not a usage error", tt.args, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve(%q): %v", tt.args, err)
			}
			got := want{Users: o.Users, UsersGroups: o.UsersGroups, AdobeUsers: o.AdobeUsers, AdobeUsersGroups: o.AdobeUsersGroups,
				Action: o.AdobeOnlyAction, ActionFile: o.AdobeOnlyFile, Strategy: o.Strategy, Inv: *inv}
			if o.UserFilter != nil {
				got.Filter = o.UserFilter.String()
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("resolve(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

// TestUserFilterMatches checks the anchoring of §1.4 rule 11, as the engine
// applies it to the pattern config returns.
func TestUserFilterMatches(t *testing.T) {
	raw, err := anchoredRegexp(`jo.*`)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?i)^(?:` + raw.String() + `)$`)
	for s, want := range map[string]bool{"john": true, "JOHN": true, "ajohn": false, "jo": true} {
		if got := re.MatchString(s); got != want {
			t.Errorf("filter jo.* MatchString(%q) = %v; want %v", s, got, want)
		}
	}
}
