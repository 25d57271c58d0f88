package ldap

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// progressRecorder is a core.Reporter that keeps progress reports.
type progressRecorder struct {
	core.NopReporter
	mu   sync.Mutex
	list []core.Progress
}

func (r *progressRecorder) Progress(p core.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, p)
}

func (r *progressRecorder) last() core.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.list) == 0 {
		return core.Progress{}
	}
	return r.list[len(r.list)-1]
}

func read(t *testing.T, cfg Config, q core.SourceQuery) core.DirectoryResult {
	t.Helper()
	rec := &progressRecorder{}
	res, err := New(cfg, nil).Users(context.Background(), q, rec)
	if err != nil {
		t.Fatalf("Users(%+v): %v", q, err)
	}
	if p := rec.last(); !p.Done || p.Phase != core.PhaseDirectory {
		t.Errorf("Users(%+v): last progress = %+v; want phase directory, Done", q, p)
	}
	return res
}

// summary is a compact view of users for comparisons.
type summary struct {
	Email, Username, Domain string
	Type                    core.IdentityType
	First, Last, Country    string
	Groups                  []string
}

func summarize(res core.DirectoryResult) map[string]summary {
	out := map[string]summary{}
	for _, u := range res.Users {
		out[strings.TrimSuffix(u.Origin, ","+suffix)] = summary{u.Email, u.Username, u.Domain, u.Type,
			u.Firstname, u.Lastname, u.Country, u.Groups}
	}
	return out
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestUsersByMemberOf(t *testing.T) {
	needSlapd(t)
	cfg := testConfig(t, openLDAPConfig)
	res := read(t, cfg, core.SourceQuery{Groups: []string{"Designers", "Engineers", "Unix", "Nope"}})
	want := map[string]summary{
		"uid=ana,ou=people":   {"ana@example.org", "ana@example.org", "example.org", "", "Ana", "Ruiz", "ES", []string{"Designers", "Unix"}},
		"uid=bo,ou=people":    {"bo@example.org", "bo@example.org", "example.org", "", "Bo", "Chen", "US", []string{"Designers", "Engineers"}},
		"uid=zoe,ou=people":   {"zoe@example.org", "zoe@example.org", "example.org", "", "Zoë", "Ångström", "FR", []string{"Designers"}},
		"uid=multi,ou=people": {"multi@example.org", "multi@example.org", "example.org", "", "Multi", "Mail", "", []string{"Engineers"}},
	}
	if diff := cmp.Diff(want, summarize(res), sortStrings); diff != "" {
		t.Errorf("Users differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Nope"}, res.MissingGroups); diff != "" {
		t.Errorf("MissingGroups differ (-want +got):\n%s", diff)
	}
}

func TestUsersTwoStepsNestedWithCycle(t *testing.T) {
	needSlapd(t)
	for _, nested := range []bool{false, true} {
		t.Run(map[bool]string{false: "direct", true: "nested"}[nested], func(t *testing.T) {
			cfg := testConfig(t, openLDAPConfig+"two_steps_lookup:\n  group_member_attribute_name: member\n  nested_group: "+
				map[bool]string{false: "no", true: "yes"}[nested]+"\n")
			res := read(t, cfg, core.SourceQuery{Groups: []string{"Engineers", "Designers"}})
			got := map[string][]string{}
			for dn, s := range summarize(res) {
				got[dn] = s.Groups
			}
			want := map[string][]string{
				"uid=bo,ou=people":    {"Engineers", "Designers"},
				"uid=multi,ou=people": {"Engineers"},
				"uid=ana,ou=people":   {"Designers"},
				"uid=zoe,ou=people":   {"Designers"},
			}
			if nested {
				// Through Contractors, whose member Engineers closes a cycle.
				want["uid=taro,ou=people"] = []string{"Engineers"}
			}
			if diff := cmp.Diff(want, got, sortStrings); diff != "" {
				t.Errorf("memberships differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsersAllUsers(t *testing.T) {
	needSlapd(t)
	cfg := testConfig(t, openLDAPConfig)
	res := read(t, cfg, core.SourceQuery{AllUsers: true, Groups: []string{"Designers", "Big"}})
	// 6 people with a mail (nomail is skipped, svc-backup filtered out)
	// plus the bulk users. The conformance suite's users, which live in
	// OUs of their own, are not counted.
	got := 0
	for _, u := range res.Users {
		if strings.HasSuffix(u.Origin, ",ou=people,"+suffix) || strings.HasSuffix(u.Origin, ",ou=bulk,"+suffix) {
			got++
		}
	}
	if want := 6 + bigGroupLen; got != want {
		t.Fatalf("Users(all) returned %d users from ou=people and ou=bulk; want %d", got, want)
	}
	s := summarize(res)
	if got := s["uid=taro,ou=people"]; got.First != "太郎" || got.Last != "山田" || got.Country != "JP" || len(got.Groups) != 0 {
		t.Errorf("taro = %+v; want 太郎 山田, JP, no groups", got)
	}
	if got := s["uid=bulk04999,ou=bulk"].Groups; !cmp.Equal(got, []string{"Big"}) {
		t.Errorf("bulk04999 groups = %v; want [Big]", got)
	}
	if got := s["uid=ana,ou=people"].Groups; !cmp.Equal(got, []string{"Designers"}) {
		t.Errorf("ana groups = %v; want [Designers]", got)
	}
}

func TestUsersBigGroup(t *testing.T) {
	needSlapd(t)
	for name, extra := range map[string]string{
		"memberOf":  "search_page_size: 500\n",
		"two steps": "two_steps_lookup:\n  group_member_attribute_name: member\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t, openLDAPConfig+extra)
			rec := &progressRecorder{}
			res, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Big"}}, rec)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Users) != bigGroupLen {
				t.Errorf("Users(Big) returned %d users; want %d", len(res.Users), bigGroupLen)
			}
			if p := rec.last(); p.Users < bigGroupLen || p.Groups != 1 || !p.Done {
				t.Errorf("last progress = %+v; want >= %d entries read, 1 group, Done", p, bigGroupLen)
			}
		})
	}
}

func TestUsersGroupNamesAreEscaped(t *testing.T) {
	needSlapd(t)
	cfg := testConfig(t, openLDAPConfig)
	res := read(t, cfg, core.SourceQuery{Groups: []string{"R&D (EU)*", "*", "Design*"}})
	got := summarize(res)
	if len(got) != 1 || !cmp.Equal(got["uid=zoe,ou=people"].Groups, []string{"R&D (EU)*"}) {
		t.Errorf("Users = %v; want only zoe in R&D (EU)*", got)
	}
	if diff := cmp.Diff([]string{"*", "Design*"}, res.MissingGroups); diff != "" {
		t.Errorf("MissingGroups (wildcards must match literally) differ (-want +got):\n%s", diff)
	}
}

func TestUsersAmbiguousGroupIsFatal(t *testing.T) {
	needSlapd(t)
	cfg := testConfig(t, openLDAPConfig)
	_, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Dup"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "2 entries match") {
		t.Fatalf("Users(Dup) error = %v; want one naming the 2 matching entries", err)
	}
	if core.Code(err) != core.CodeInvalidInput {
		t.Errorf("Code = %v; want invalid input", core.Code(err))
	}
}

func TestUsersFormatsAndAttributes(t *testing.T) {
	needSlapd(t)
	cfg := testConfig(t, openLDAPConfig+`user_identity_type_format: "{idType}ID"
user_identity_type: adobeID
user_username_format: "{uid}"
user_domain_format: "corp.{c}"
user_given_name_format: "{givenName}"
user_surname_format: "{sn} ({uid})"
user_country_code_format: "{c}"
dynamic_group_member_attribute: memberOf
`)
	q := core.SourceQuery{AllUsers: true, ExtendedAttributes: []string{"department", "cn"}, WantMemberGroups: true}
	res := read(t, cfg, q)
	byDN := map[string]core.DirectoryUser{}
	for _, u := range res.Users {
		byDN[u.Origin] = u
	}
	if _, ok := byDN[people("badtype")]; ok {
		t.Errorf("badtype (idType bogus) was returned; want it skipped")
	}
	want := map[string]core.DirectoryUser{
		people("ana"): {Type: core.FederatedID, Username: "ana", Domain: "corp.es", Email: "ana@example.org",
			Firstname: "Ana", Lastname: "Ruiz (ana)", Country: "ES", MemberGroups: []string{"Designers", "Unix"},
			Attributes: map[string]any{"email": "ana@example.org", "username": "ana", "identity_type": "federatedID",
				"domain": "corp.es", "givenName": "Ana", "sn": "Ruiz (ana)", "c": "ES", "department": "Design", "cn": "Ana Ruiz"},
			Origin: people("ana")},
		// No c: the domain format is missing, so the email's domain is used.
		people("multi"): {Type: core.AdobeID, Username: "multi", Domain: "example.org", Email: "multi@example.org",
			Firstname: "Multi", Lastname: "Mail (multi)", MemberGroups: []string{"Engineers"},
			Attributes: map[string]any{"email": "multi@example.org", "username": "multi", "identity_type": "adobeID",
				"domain": "example.org", "givenName": "Multi", "sn": "Mail (multi)", "c": nil,
				"department": []string{"Sales", "Support"}, "cn": "Multi Mail"},
			Origin: people("multi")},
		people("taro"): {Type: core.AdobeID, Username: "taro", Domain: "corp.jp", Email: "taro@example.org",
			Firstname: "太郎", Lastname: "山田 (taro)", Country: "JP", MemberGroups: []string{"Contractors"},
			Attributes: map[string]any{"email": "taro@example.org", "username": "taro", "identity_type": "adobeID",
				"domain": "corp.jp", "givenName": "太郎", "sn": "山田 (taro)", "c": "JP", "department": nil, "cn": "太郎 山田"},
			Origin: people("taro")},
	}
	for dn, w := range want {
		if diff := cmp.Diff(w, byDN[dn]); diff != "" {
			t.Errorf("user %s differs (-want +got):\n%s", dn, diff)
		}
	}
}

func TestUsersMemberGroupsNeedTheAttribute(t *testing.T) {
	cfg := Config{File: "connector-ldap.yml"}
	_, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{WantMemberGroups: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "dynamic_group_member_attribute") {
		t.Fatalf("Users(WantMemberGroups) without the attribute: error = %v; want one naming dynamic_group_member_attribute", err)
	}
}

func TestConnections(t *testing.T) {
	needSlapd(t)
	q := core.SourceQuery{Groups: []string{"Engineers"}}
	tests := []struct {
		name string
		yml  string
	}{
		{"plain", openLDAPConfig},
		{"StartTLS verified", openLDAPConfig + "require_tls_cert: true\nca_cert_file: $CA\n"},
		{"StartTLS unverified", openLDAPConfig + "start_tls: yes\nrequire_tls_cert: false\n"},
		{"StartTLS verified without require_tls_cert", openLDAPConfig + "start_tls: yes\nca_cert_file: $CA\n"},
		{"LDAPS verified", strings.Replace(openLDAPConfig, "$LDAP", "$LDAPS", 1) + "require_tls_cert: true\nca_cert_file: $CA\n"},
		{"LDAPS unverified", strings.Replace(openLDAPConfig, "$LDAP", "$LDAPS", 1) + "require_tls_cert: false\n"},
		{"LDAPS verified by default", strings.Replace(openLDAPConfig, "$LDAP", "$LDAPS", 1) + "ca_cert_file: $CA\n"},
		{"anonymous", "host: $LDAP\nbase_dn: $SUFFIX\nall_users_filter: (objectClass=inetOrgPerson)\n"},
		{"unpaged", openLDAPConfig + "search_page_size: 0\n"},
		{"page size 1", openLDAPConfig + "search_page_size: 1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := read(t, testConfig(t, tc.yml), q)
			if got := len(res.Users); got != 2 {
				t.Errorf("Users(Engineers) returned %d users; want 2", got)
			}
		})
	}
}

func TestConnectionErrors(t *testing.T) {
	needSlapd(t)
	q := core.SourceQuery{Groups: []string{"Engineers"}}
	tests := []struct {
		name     string
		yml      string
		code     core.ErrorCode
		contains string
	}{
		{"wrong password", strings.Replace(openLDAPConfig, "$SVCPW", "wrong-Pa55word", 1), core.CodeUnauthenticated, "Invalid Credentials"},
		{"unknown CA", strings.Replace(openLDAPConfig, "$LDAP", "$LDAPS", 1) + "require_tls_cert: true\n", core.CodeUnavailable, "ca_cert_file"},
		{"StartTLS unknown CA", openLDAPConfig + "require_tls_cert: true\n", core.CodeUnavailable, "ca_cert_file"},
		{"LDAPS unknown CA by default", strings.Replace(openLDAPConfig, "$LDAP", "$LDAPS", 1), core.CodeUnavailable, "require_tls_cert: false"},
		{"ntlm on OpenLDAP", strings.Replace(openLDAPConfig, "$SVC", `EXAMPLE\svc`, 1) + "authentication_method: ntlm\n", core.CodeInvalidInput, "authentication_method"},
		{"size limit", strings.Replace(openLDAPConfig, "$SVC", limitedDN, 1) + "search_page_size: 0\n", core.CodeInconsistent, "Size Limit Exceeded"},
		{"referral by default", strings.Replace(openLDAPConfig, "base_dn: $SUFFIX", "base_dn: ou=broken,o=referrals", 1), core.CodeInconsistent, "set referrals: follow"},
		{"referral followed to nowhere", strings.Replace(openLDAPConfig, "base_dn: $SUFFIX", "base_dn: ou=broken,o=referrals", 1) + "referrals: follow\n",
			core.CodeUnavailable, "referred to ldap://ldap.elsewhere.invalid/"},
		{"base under a referral", strings.Replace(openLDAPConfig, "base_dn: $SUFFIX", "base_dn: ou=x,ou=gone,ou=broken,o=referrals", 1), core.CodeInvalidInput, "check base_dn"},
		{"in-chain rule on OpenLDAP", openLDAPConfig + "group_member_filter_format: \"(memberOf:1.2.840.113556.1.4.1941:={group_dn})\"\n",
			core.CodeInvalidInput, "use two_steps_lookup with nested_group"},
		{"missing base", strings.Replace(openLDAPConfig, "base_dn: $SUFFIX", "base_dn: ou=nothing,$SUFFIX", 1), core.CodeNotFound, "base_dn"},
		{"nothing listening", strings.Replace(openLDAPConfig, "$LDAP", "ldap://127.0.0.1:1", 1), core.CodeUnavailable, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, tc.yml)
			q := q
			if tc.name == "size limit" {
				q.AllUsers = true // more than the account's limit of 50
			}
			res, err := New(cfg, nil).Users(context.Background(), q, nil)
			if err == nil {
				t.Fatalf("Users = %d users, no error; want an error", len(res.Users))
			}
			if len(res.Users) != 0 {
				t.Errorf("Users returned %d users with the error; want none", len(res.Users))
			}
			if tc.code != core.CodeUnknown && core.Code(err) != tc.code {
				t.Errorf("Users error %q has code %v; want %v", err, core.Code(err), tc.code)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("Users error %q does not mention %q", err, tc.contains)
			}
			for _, pw := range []string{svcPW, "wrong-Pa55word"} {
				if strings.Contains(err.Error(), pw) {
					t.Errorf("Users error %q contains the password", err)
				}
			}
		})
	}
}

func TestUsersCancelled(t *testing.T) {
	needSlapd(t)
	cfg := testConfig(t, openLDAPConfig+"search_page_size: 100\n")
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := New(cfg, nil).Users(ctx, core.SourceQuery{AllUsers: true}, nil)
		if core.Code(err) != core.CodeCanceled {
			t.Errorf("Users(cancelled) error = %v (code %v); want code canceled", err, core.Code(err))
		}
	})
	t.Run("during", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		rep := &cancelAfter{n: 1000, cancel: cancel}
		res, err := New(cfg, nil).Users(ctx, core.SourceQuery{AllUsers: true}, rep)
		if core.Code(err) != core.CodeCanceled || len(res.Users) != 0 {
			t.Errorf("Users(cancelled mid-read) = %d users, error %v; want none and code canceled", len(res.Users), err)
		}
	})
}

// cancelAfter cancels the read once n entries were reported.
type cancelAfter struct {
	core.NopReporter
	n      int
	cancel func()
}

func (c *cancelAfter) Progress(p core.Progress) {
	if p.Users >= c.n {
		c.cancel()
	}
}

// secretsFake is a keyring holding one secret.
type secretsFake struct{ service, user, secret string }

func (f secretsFake) Secret(_ context.Context, service, user string) (string, error) {
	if service == f.service && user == f.user {
		return f.secret, nil
	}
	return "", config.ErrSecretNotFound
}

func TestPasswordFromKeyring(t *testing.T) {
	needSlapd(t)
	yml := strings.NewReplacer("$LDAP", slapd.ldapURL, "$SUFFIX", suffix, "$SVC", svcDN).Replace(
		"host: $LDAP\nbase_dn: $SUFFIX\nusername: $SVC\nsecure_password_key: ldap-bind\nall_users_filter: (objectClass=inetOrgPerson)\n")
	n, err := config.Parse("connector-ldap.yml", []byte(yml), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(context.Background(), n, secretsFake{"ldap-bind", svcDN, svcPW})
	if err != nil {
		t.Fatal(err)
	}
	if res := read(t, cfg, core.SourceQuery{Groups: []string{"Engineers"}}); len(res.Users) != 2 {
		t.Errorf("Users(Engineers) returned %d users; want 2", len(res.Users))
	}
}

func TestWarnings(t *testing.T) {
	needSlapd(t)
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := testConfig(t, openLDAPConfig)
	res, err := New(cfg, logger).Users(context.Background(), core.SourceQuery{Groups: []string{"Designers", "Engineers", "Big", "Services"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Users) == 0 {
		t.Fatal("no users read")
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), svcPW) {
		t.Errorf("log contains the password:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "group has no members matching the member filter") || !strings.Contains(logs.String(), "group=Services") {
		t.Errorf("log does not warn about the group without members:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "uid=nomail") {
		t.Errorf("log does not warn about the user without email:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestUsersPosixGroupMemberUID(t *testing.T) {
	needSlapd(t)
	cfg := testConfig(t, openLDAPConfig+"two_steps_lookup:\n  group_member_attribute_name: memberUid\n")
	res := read(t, cfg, core.SourceQuery{Groups: []string{"Unix"}})
	got := summarize(res)
	if len(got) != 1 || !cmp.Equal(got["uid=ana,ou=people"].Groups, []string{"Unix"}) {
		t.Errorf("Users(Unix) by memberUid = %v; want ana in Unix", got)
	}
}

func TestReferrals(t *testing.T) {
	needSlapd(t)
	base := func(b string) string { return strings.Replace(openLDAPConfig, "base_dn: $SUFFIX", "base_dn: "+b, 1) }
	q := core.SourceQuery{AllUsers: true, Groups: []string{"Designers", "Engineers"}}
	tests := []struct {
		name  string
		yml   string
		users int
		err   string
	}{
		{"AD partitions are skipped", base("ou=zones,o=referrals"), 0, ""},
		{"others fail by default", base("ou=follow,o=referrals"), 0, "referrals: follow"},
		{"ignored", base("ou=follow,o=referrals") + "referrals: ignore\n", 0, ""},
		// The reference leads to ou=people of the main database: its six
		// users with a mail, and their groups found there too.
		{"followed", base("ou=follow,o=referrals") + "referrals: follow\n", 6, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			var mu sync.Mutex
			logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
			res, err := New(testConfig(t, tc.yml), logger).Users(context.Background(), q, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Users = %d users, error %v; want an error containing %q", len(res.Users), err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Users) != tc.users {
				t.Errorf("Users returned %d users; want %d", len(res.Users), tc.users)
			}
			mu.Lock()
			defer mu.Unlock()
			notices := strings.Count(logs.String(), "continuation references not followed")
			if want := map[bool]int{true: 1, false: 0}[tc.name == "ignored"]; notices != want {
				t.Errorf("referral notice logged %d times; want %d:\n%s", notices, want, logs.String())
			}
			if tc.name == "followed" {
				got := summarize(res)
				if g := got["uid=bo,ou=people"].Groups; len(g) != 0 {
					// Groups live in ou=groups, which the referral does not reach.
					t.Errorf("bo groups = %v; want none (the groups are outside the referred subtree)", g)
				}
			}
		})
	}
}

func TestParseReferral(t *testing.T) {
	tests := []struct {
		ref, scheme, url, dn string
	}{
		{"ldap://child.example.com/DC=child,DC=example,DC=com", "ldap", "ldap://child.example.com:389", "DC=child,DC=example,DC=com"},
		{"ldap://child.example.com/DC=child,DC=example,DC=com??sub", "ldap", "ldap://child.example.com:389", "DC=child,DC=example,DC=com"},
		{"ldap://child.example.com:3268/OU=A%20B,DC=x", "ldap", "ldap://child.example.com:3268", "OU=A B,DC=x"},
		{"ldap://child.example.com/DC=x", "ldaps", "ldaps://child.example.com:636", "DC=x"}, // never downgraded
		{"ldaps://h/", "ldap", "ldaps://h:636", ""},
	}
	for _, tc := range tests {
		u, dn, err := parseReferral(tc.ref, tc.scheme)
		if err != nil || u.String() != tc.url || dn != tc.dn {
			t.Errorf("parseReferral(%q, %q) = %v, %q, %v; want %s, %q", tc.ref, tc.scheme, u, dn, err, tc.url, tc.dn)
		}
	}
	for ref, want := range map[string]bool{
		"ldap://example.com/DC=DomainDnsZones,DC=example,DC=com": true,
		"ldap://example.com/DC=ForestDnsZones,DC=example,DC=com": true,
		"ldap://example.com/CN=Configuration,DC=example,DC=com":  true,
		"ldap://child.example.com/DC=child,DC=example,DC=com":    false,
	} {
		if got := adPartition(ref); got != want {
			t.Errorf("adPartition(%q) = %v; want %v", ref, got, want)
		}
	}
}
