package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// planOpts is a typical configuration: process-groups on, preserve, two
// mappings, a count limit of 200.
func planOpts(mut ...func(*Options)) *Options {
	o := &Options{
		Strategy:            StrategySync,
		Users:               UsersAll,
		AdobeUsers:          AdobeUsersAll,
		ProcessGroups:       true,
		AdobeOnlyAction:     AdobeOnlyPreserve,
		DefaultIdentityType: FederatedID,
		DefaultCountry:      "US",
		GroupMapping: []GroupMapping{
			{DirectoryGroup: "Marketing", AdobeGroups: []string{"All Apps"}},
			{DirectoryGroup: "Design", AdobeGroups: []string{"Design Team"}},
		},
		MaxAdobeOnly: Limit{Set: true, Count: 200, Text: "200"},
	}
	for _, f := range mut {
		f(o)
	}
	return o
}

func dirU(email string, groups ...string) DirectoryUser {
	return DirectoryUser{Type: FederatedID, Email: email, Username: email, Firstname: "F", Lastname: "L", Country: "US", Groups: groups}
}

func adobeU(email string, groups ...string) AdobeUser {
	return AdobeUser{Type: FederatedID, Email: email, Username: email, Firstname: "F", Lastname: "L", Country: "US", Groups: groups}
}

func planSnap(dir []DirectoryUser, adobe []AdobeUser) *Snapshot {
	return &Snapshot{
		Directory: DirectoryResult{Users: dir},
		Adobe:     map[string]OrgSnapshot{PrimaryOrg: {Users: adobe, Query: AdobeQuery{All: true}}},
	}
}

func mustBuildPlan(t *testing.T, s *Snapshot, o *Options) *Plan {
	t.Helper()
	p, err := BuildPlan(context.Background(), s, o)
	if err != nil {
		t.Fatalf("BuildPlan: %v", err)
	}
	return p
}

// lines summarises a plan's changes as "org action user [groups]", with
// withheld ones prefixed "withheld".
func planLines(p *Plan) []string {
	var out []string
	f := func(prefix string, c Change) {
		s := prefix + c.Org + " " + string(c.Action) + " " + c.User.User
		if c.User.Domain != "" {
			s += "/" + c.User.Domain
		}
		if len(c.Groups) > 0 {
			s += " [" + strings.Join(c.Groups, ",") + "]"
		}
		out = append(out, s)
	}
	for _, c := range p.Changes {
		f("", c)
	}
	for _, c := range p.Withheld {
		f("withheld ", c)
	}
	return out
}

func TestUserKey(t *testing.T) { // §3.3
	tests := []struct {
		name                   string
		typ                    IdentityType
		username, domain, mail string
		want                   string
	}{
		{"username and domain", FederatedID, "JDoe", "Example.com", "JDoe@Example.com", "federatedID,jdoe,example.com,jdoe@example.com"},
		{"email-shaped username drops domain", FederatedID, "u@x.com", "x.com", "e@x.com", "federatedID,u@x.com,,e@x.com"},
		{"username falls back to email", EnterpriseID, "", "", " A@B.org ", "enterpriseID,a@b.org,,a@b.org"},
		{"username without domain is invalid", FederatedID, "jdoe", "", "jdoe@x.com", ""},
		{"missing type is invalid", "", "a@b.org", "", "a@b.org", ""},
		{"nothing is invalid", FederatedID, "", "", "", ""},
	}
	for _, tt := range tests {
		if got := UserKey(tt.typ, tt.username, tt.domain, tt.mail); got != tt.want {
			t.Errorf("%s: UserKey = %q; want %q", tt.name, got, tt.want)
		}
	}
	a := AdobeUser{Type: AdobeID, Email: "Pat@Mail.com", Username: "ignored", Domain: "x"}
	if got, want := AdobeUserKey(&a), "adobeID,pat@mail.com,,pat@mail.com"; got != want {
		t.Errorf("AdobeUserKey(adobeID) = %q; want %q", got, want)
	}
	d := DirectoryUser{Email: "a@b.org"}
	if got, want := DirectoryUserKey(&d, EnterpriseID), "enterpriseID,a@b.org,,a@b.org"; got != want {
		t.Errorf("DirectoryUserKey(no type) = %q; want %q", got, want)
	}
}

func TestTwoKeyIndex(t *testing.T) { // §3.3
	x := newTwoKeyIndex(4)
	x.add("a@x.com", "a@x.com", 0)
	x.add("b@x.com", "bob", 1)
	x.add("c@x.com", "bob", 2) // the last record wins a shared key
	tests := []struct {
		email, username string
		want            int32
	}{
		{"a@x.com", "zzz", 0},
		{"new@x.com", "bob", 2},
		{"b@x.com", "bob", 1}, // email is checked first
		{"none@x.com", "none", -1},
	}
	for _, tt := range tests {
		if got := x.lookup(tt.email, tt.username); got != tt.want {
			t.Errorf("lookup(%q, %q) = %d; want %d", tt.email, tt.username, got, tt.want)
		}
	}
}

func TestMatchingAndEmailChanges(t *testing.T) { // §3.3, §3.8
	login := func(email string) DirectoryUser {
		u := dirU(email, "Marketing")
		u.Username, u.Domain = "jdoe", "example.com"
		return u
	}
	aLogin := func(email string) AdobeUser {
		a := adobeU(email, "All Apps")
		a.Username, a.Domain = "jdoe", "example.com"
		return a
	}
	tests := []struct {
		name  string
		dir   []DirectoryUser
		adobe []AdobeUser
		want  []string
		attrs []AttrChange
	}{
		{
			name:  "username login whose email changed is updated, addressed by its current email",
			dir:   []DirectoryUser{login("new@example.com")},
			adobe: []AdobeUser{aLogin("old@example.com")},
			want:  []string{"primary update old@example.com"},
			attrs: []AttrChange{{Name: "email", Before: "old@example.com", After: "new@example.com"}},
		},
		{
			name:  "email-as-username whose email changed is a new user; the old account is Adobe-only",
			dir:   []DirectoryUser{dirU("new@example.com", "Marketing")},
			adobe: []AdobeUser{adobeU("old@example.com", "All Apps")},
			want: []string{
				"primary create new@example.com",
				"primary add_groups new@example.com [all apps]",
				"primary remove_groups old@example.com [all apps]",
			},
		},
		{
			name: "email-shaped username differing from the email re-sends the username",
			dir: []DirectoryUser{func() DirectoryUser {
				u := dirU("new@example.com", "Marketing")
				u.Username = "login@corp.example.com"
				return u
			}()},
			adobe: []AdobeUser{func() AdobeUser {
				a := adobeU("old@example.com", "All Apps")
				a.Username = "login@corp.example.com"
				return a
			}()},
			want: []string{"primary update old@example.com"},
			attrs: []AttrChange{
				{Name: "email", Before: "old@example.com", After: "new@example.com"},
				{Name: "username", Before: "login@corp.example.com", After: "login@corp.example.com"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustBuildPlan(t, planSnap(tt.dir, tt.adobe), planOpts(func(o *Options) { o.UpdateUserInfo = true }))
			if d := cmp.Diff(tt.want, planLines(p)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if tt.attrs != nil {
				if d := cmp.Diff(tt.attrs, p.Changes[0].Attrs); d != "" {
					t.Errorf("attrs (-want +got):\n%s", d)
				}
			}
		})
	}
}

func TestAdobeOnlyActions(t *testing.T) { // §3.10.1, §3.10.2
	dir := []DirectoryUser{dirU("ana@x.com", "Marketing")}
	adobe := []AdobeUser{
		adobeU("ana@x.com", "All Apps"),
		adobeU("gone@x.com", "All Apps", "Other"),
		adobeU("plain@x.com", "Other"),
	}
	tests := []struct {
		action        AdobeOnlyKind
		processGroups bool
		want          []string
		processed     int
		tracked       bool
		strays        int
	}{
		{AdobeOnlyPreserve, false, nil, 0, false, 0},
		{AdobeOnlyPreserve, true, []string{"primary remove_groups gone@x.com [all apps]"}, 2, true, 2},
		{AdobeOnlyExclude, false, nil, 0, false, 0},
		{AdobeOnlyExclude, true, nil, 0, false, 0},
		{AdobeOnlyWriteFile, false, nil, 0, true, 2},
		{AdobeOnlyWriteFile, true, []string{"primary remove_groups gone@x.com [all apps]"}, 2, true, 2},
		{AdobeOnlyRemoveAdobeGroups, false, []string{"primary remove_all_groups gone@x.com", "primary remove_all_groups plain@x.com"}, 2, true, 2},
		{AdobeOnlyRemoveAdobeGroups, true, []string{"primary remove_all_groups gone@x.com", "primary remove_all_groups plain@x.com"}, 2, true, 2},
		{AdobeOnlyRemove, false, []string{"primary remove_from_org gone@x.com", "primary remove_from_org plain@x.com"}, 2, true, 2},
		{AdobeOnlyRemove, true, []string{"primary remove_from_org gone@x.com", "primary remove_from_org plain@x.com"}, 2, true, 2},
		{AdobeOnlyDelete, false, []string{"primary delete gone@x.com", "primary delete plain@x.com"}, 2, true, 2},
		{AdobeOnlyDelete, true, []string{"primary delete gone@x.com", "primary delete plain@x.com"}, 2, true, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/process-groups=%v", tt.action, tt.processGroups), func(t *testing.T) {
			p := mustBuildPlan(t, planSnap(dir, adobe), planOpts(func(o *Options) {
				o.AdobeOnlyAction, o.ProcessGroups = tt.action, tt.processGroups
			}))
			if d := cmp.Diff(tt.want, planLines(p)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if got := p.Counters.StraysProcessed; got != tt.processed {
				t.Errorf("StraysProcessed = %d; want %d", got, tt.processed)
			}
			if got := p.Counters.StraysTracked; got != tt.tracked {
				t.Errorf("StraysTracked = %v; want %v", got, tt.tracked)
			}
			if got := len(p.Strays); got != tt.strays {
				t.Errorf("len(Strays) = %d; want %d", got, tt.strays)
			}
			wantExcluded := 0
			if tt.action == AdobeOnlyExclude {
				wantExcluded = 2
			}
			if got := p.Counters.Excluded; got != wantExcluded {
				t.Errorf("Excluded = %d; want %d", got, wantExcluded)
			}
			for _, c := range p.Changes {
				if !c.AdobeOnly || c.Rule == "" || len(c.Reasons) == 0 {
					t.Errorf("change %+v: want AdobeOnly with a rule and reasons", c)
				}
			}
		})
	}
}

func TestAdobeOnlyStrayFile(t *testing.T) { // §4.3
	a := adobeU("Gone@X.com", "All Apps")
	a.Username, a.Domain = "Gone", "X.com"
	p := mustBuildPlan(t, planSnap(nil, []AdobeUser{a}), planOpts(func(o *Options) { o.AdobeOnlyAction = AdobeOnlyWriteFile }))
	want := []Stray{{Org: PrimaryOrg, Type: FederatedID, Email: "gone@x.com", Domain: "x.com",
		User:           UserRef{User: "gone", Domain: "x.com", Type: FederatedID, Email: "Gone@X.com"},
		GroupsToRemove: []string{"all apps"}}}
	if d := cmp.Diff(want, p.Strays); d != "" {
		t.Errorf("Strays (-want +got):\n%s", d)
	}
}

func TestAdobeOnlyLimit(t *testing.T) { // §3.10.3, §3.10.4
	var dir []DirectoryUser
	var adobe []AdobeUser
	for i := range 7 {
		e := fmt.Sprintf("u%d@x.com", i)
		dir = append(dir, dirU(e, "Marketing"))
		adobe = append(adobe, adobeU(e, "All Apps"))
	}
	dir = append(dir, dirU("new@x.com", "Marketing"))
	adobe = append(adobe, adobeU("s1@x.com", "All Apps"), adobeU("s2@x.com", "All Apps"), adobeU("s3@x.com", "Other"))
	tests := []struct {
		name     string
		limit    Limit
		onlyGrp  bool
		exceeded bool
		max      int
		count    int
	}{
		{"count below", Limit{Set: true, Count: 5}, false, false, 5, 3},
		{"count equal is allowed", Limit{Set: true, Count: 3}, false, false, 3, 3},
		{"count exceeded", Limit{Set: true, Count: 2}, false, true, 2, 3},
		{"percent equal is allowed", Limit{Set: true, IsPercent: true, Percent: 30}, false, false, 3, 3},
		{"percent exceeded", Limit{Set: true, IsPercent: true, Percent: 20}, false, true, 2, 3},
		{"group_removals_only counts users with mapped groups", Limit{Set: true, Count: 2}, true, false, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustBuildPlan(t, planSnap(dir, adobe), planOpts(func(o *Options) {
				o.MaxAdobeOnly, o.AdobeOnlyAction, o.GroupRemovalsOnly = tt.limit, AdobeOnlyRemove, tt.onlyGrp
			}))
			if p.Limit == nil {
				t.Fatal("Limit = nil; want a report")
			}
			if p.Limit.Exceeded != tt.exceeded || p.Limit.Max != tt.max || p.Limit.Count != tt.count {
				t.Errorf("Limit = %+v; want exceeded %v, max %d, count %d", *p.Limit, tt.exceeded, tt.max, tt.count)
			}
			creates := []string{"primary create new@x.com", "primary add_groups new@x.com [all apps]"}
			var removes []string
			for i := 1; i <= tt.count; i++ {
				if tt.onlyGrp && i == 3 {
					continue
				}
				removes = append(removes, fmt.Sprintf("primary remove_from_org s%d@x.com", i))
			}
			var want []string
			if tt.exceeded {
				want = creates
				for _, r := range removes {
					want = append(want, "withheld "+r)
				}
				if p.Counters.StraysProcessed != 0 {
					t.Errorf("StraysProcessed = %d; want 0 when the limit blocks", p.Counters.StraysProcessed)
				}
			} else {
				want = append(append(want, creates...), removes...)
			}
			if d := cmp.Diff(want, planLines(p)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
		})
	}
}

func TestSecondaryOrgs(t *testing.T) { // §3.9, §3.10.5
	o := func(action AdobeOnlyKind) *Options {
		return planOpts(func(o *Options) {
			o.Secondaries = []string{"eu", "idle"}
			o.GroupMapping[1].AdobeGroups = []string{"Design Team", "eu::Design EU"}
			o.AdobeOnlyAction = action
		})
	}
	s := planSnap(
		[]DirectoryUser{dirU("ana@x.com", "Design"), dirU("bob@x.com", "Marketing")},
		[]AdobeUser{adobeU("ana@x.com"), adobeU("bob@x.com", "All Apps"), adobeU("gone@x.com", "All Apps"), adobeU("gone2@x.com")},
	)
	s.Adobe["eu"] = OrgSnapshot{Query: AdobeQuery{All: true}, Users: []AdobeUser{
		adobeU("bob@x.com", "Design EU"), adobeU("gone@x.com", "Design EU"), adobeU("local@x.com", "Design EU"),
	}}
	tests := []struct {
		action AdobeOnlyKind
		want   []string
	}{
		{AdobeOnlyPreserve, []string{
			"eu create ana@x.com",
			"eu add_groups ana@x.com [design eu]",
			"eu remove_groups bob@x.com [design eu]",
			"eu remove_groups gone@x.com [design eu]",
			"primary add_groups ana@x.com [design team]",
			"primary remove_groups gone@x.com [all apps]",
		}},
		{AdobeOnlyDelete, []string{
			"eu create ana@x.com",
			"eu add_groups ana@x.com [design eu]",
			"eu remove_groups bob@x.com [design eu]",
			"eu remove_from_org gone@x.com",
			"primary add_groups ana@x.com [design team]",
			"primary delete gone2@x.com",
			"primary delete gone@x.com",
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			p := mustBuildPlan(t, s, o(tt.action))
			if d := cmp.Diff(tt.want, planLines(p)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]string{"eu", "idle", PrimaryOrg}, p.Orgs); d != "" {
				t.Errorf("Orgs (-want +got):\n%s", d)
			}
			c := p.Counters
			if c.Created != 0 || c.SecondaryCreated != 1 || c.Updated != 2 {
				t.Errorf("counters created %d, secondary %d, updated %d; want 0, 1, 2", c.Created, c.SecondaryCreated, c.Updated)
			}
		})
	}
	// The idle org has no mapped group: it is not read (§3.9).
	qs := AdobeQueries(o(AdobeOnlyPreserve))
	if _, ok := qs["idle"]; ok {
		t.Errorf("AdobeQueries includes org %q without mapped groups", "idle")
	}
	if d := cmp.Diff(AdobeQuery{All: true}, qs["eu"]); d != "" {
		t.Errorf("AdobeQueries[eu] (-want +got):\n%s", d)
	}
}

func TestPushStrategy(t *testing.T) { // §3.12
	o := planOpts(func(o *Options) {
		o.Strategy = StrategyPush
		o.AdobeOnlyAction = AdobeOnlyDelete // discarded with push
		o.UpdateUserInfo = true
	})
	s := &Snapshot{Directory: DirectoryResult{Users: []DirectoryUser{dirU("ana@x.com", "Marketing"), dirU("bob@x.com")}}}
	p := mustBuildPlan(t, s, o)
	want := []string{
		"primary create ana@x.com",
		"primary remove_groups ana@x.com [design team]",
		"primary add_groups ana@x.com [all apps]",
		"primary create bob@x.com",
		"primary remove_groups bob@x.com [all apps,design team]",
	}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if got := p.Changes[0].Option; got != OptionUpdateIfExists {
		t.Errorf("push create option = %q; want %q", got, OptionUpdateIfExists)
	}
	if p.Counters.Created != 2 || p.Counters.StraysTracked {
		t.Errorf("counters = %+v; want 2 created and no Adobe-only tracking", p.Counters)
	}
	if qs := AdobeQueries(o); len(qs) != 0 {
		t.Errorf("AdobeQueries(push) = %v; want none", qs)
	}
}

// TestPushNeverRemovesExcludedOrRoleGroups: UST counts exclude groups as
// mapped, but push reads no Adobe users, so removing them (or _org_admin,
// which UMAPI refuses, skipping the create) would hit every pushed user.
func TestPushNeverRemovesExcludedOrRoleGroups(t *testing.T) { // §3.12, §3.2
	o := planOpts(func(o *Options) {
		o.Strategy = StrategyPush
		o.ExcludeAdobeGroups = []string{"_org_admin", "Protected"}
	})
	s := &Snapshot{Directory: DirectoryResult{Users: []DirectoryUser{dirU("ana@x.com", "Marketing")}}}
	p := mustBuildPlan(t, s, o)
	want := []string{
		"primary create ana@x.com",
		"primary remove_groups ana@x.com [design team]",
		"primary add_groups ana@x.com [all apps]",
	}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
}

func TestAdditionalGroups(t *testing.T) { // §3.4.4
	rule := func(src, target string) AdditionalGroupRule {
		return AdditionalGroupRule{Source: regexp.MustCompile(src), Target: target}
	}
	u := dirU("ana@x.com")
	u.MemberGroups = []string{"ACL-Finance", "Other-ACL-Legal"}
	t.Run("substitution at the start", func(t *testing.T) {
		o := planOpts(func(o *Options) {
			o.AdditionalGroups = []AdditionalGroupRule{rule(`ACL-(.*)`, `Readers \1`)}
		})
		p := mustBuildPlan(t, planSnap([]DirectoryUser{u}, []AdobeUser{adobeU("ana@x.com", "Readers Old")}), o)
		want := []string{"primary add_groups ana@x.com [readers finance]"}
		if d := cmp.Diff(want, planLines(p)); d != "" {
			t.Errorf("changes (-want +got):\n%s", d)
		}
		if got := p.Changes[0].Reasons; len(got) != 1 || !strings.Contains(got[0], "ACL-Finance") {
			t.Errorf("Reasons = %q; want the rule and member group", got)
		}
	})
	t.Run("conflict is fatal", func(t *testing.T) {
		o := planOpts(func(o *Options) {
			o.AdditionalGroups = []AdditionalGroupRule{rule(`.*ACL-.*`, `Everyone`)}
		})
		_, err := BuildPlan(context.Background(), planSnap([]DirectoryUser{u}, nil), o)
		if err == nil || !strings.Contains(err.Error(), "conflict") {
			t.Fatalf("BuildPlan = %v; want a resolution conflict error", err)
		}
		if Code(err) != CodeInvalidInput {
			t.Errorf("Code = %v; want invalid input", Code(err))
		}
	})
	for _, tt := range []struct{ in, want string }{
		{`Readers \1`, `Readers ${1}`}, {`\g<dept>-x`, `${dept}-x`}, {`cost $5`, `cost $$5`}, {`a\\b`, `a\b`},
	} {
		if got := pythonTemplate(tt.in); got != tt.want {
			t.Errorf("pythonTemplate(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestExclusions(t *testing.T) { // §3.5 step 5
	adobeID := adobeU("aid@x.com", "All Apps")
	adobeID.Type = AdobeID
	o := planOpts(func(o *Options) {
		o.AdobeOnlyAction = AdobeOnlyDelete
		o.ExcludeIdentityTypes = []IdentityType{AdobeID}
		o.ExcludeAdobeGroups = []string{"_org_admin"}
		o.ExcludeUsers = []*regexp.Regexp{regexp.MustCompile(`admin.*`)}
	})
	s := planSnap(
		[]DirectoryUser{dirU("admin@x.com", "Marketing")},
		[]AdobeUser{adobeID, adobeU("boss@x.com", "_ORG_ADMIN"), adobeU("admin@x.com"), adobeU("xadmin@x.com"), adobeU("gone@x.com")},
	)
	p := mustBuildPlan(t, s, o)
	want := []string{"primary delete gone@x.com", "primary delete xadmin@x.com"}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if p.Counters.Excluded != 3 || p.Counters.AdobeUsersRead != 5 {
		t.Errorf("excluded %d of %d read; want 3 of 5", p.Counters.Excluded, p.Counters.AdobeUsersRead)
	}
}

func TestUsersSelection(t *testing.T) { // §3.4.1, §3.4.2
	dir := []DirectoryUser{dirU("ana@x.com", "Marketing"), dirU("bob@x.com", "Design"), dirU("cat@x.com", "Other"), {Email: "nokey", Username: "nokey"}}
	tests := []struct {
		name     string
		mut      func(*Options)
		selected int
		creates  []string
	}{
		{"all", func(o *Options) {}, 3, []string{"ana@x.com", "bob@x.com", "cat@x.com"}},
		{"mapped", func(o *Options) { o.Users = UsersMapped }, 2, []string{"ana@x.com", "bob@x.com"}},
		{"group", func(o *Options) { o.Users, o.UsersGroups = UsersGroup, []string{"Design", "Other"} }, 2, []string{"bob@x.com", "cat@x.com"}},
		{"user filter full match", func(o *Options) { o.UserFilter = regexp.MustCompile(`(ANA|cat)@x\.com`) }, 2, []string{"ana@x.com", "cat@x.com"}},
		{"user filter partial does not select", func(o *Options) { o.UserFilter = regexp.MustCompile(`ana`) }, 0, nil},
		{"exclude unmapped", func(o *Options) { o.ExcludeUnmapped = true }, 3, []string{"ana@x.com", "bob@x.com"}},
		{"mapping without adobe groups selects", func(o *Options) {
			o.Users = UsersMapped
			o.GroupMapping = append(o.GroupMapping, GroupMapping{DirectoryGroup: "Other"})
		}, 3, []string{"ana@x.com", "bob@x.com", "cat@x.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := planOpts(tt.mut)
			p := mustBuildPlan(t, planSnap(dir, nil), o)
			var creates []string
			for _, c := range p.Changes {
				if c.Action == ActionCreate {
					creates = append(creates, c.User.User)
				}
			}
			if d := cmp.Diff(tt.creates, creates); d != "" {
				t.Errorf("creates (-want +got):\n%s", d)
			}
			if p.Counters.DirectoryUsersRead != 3 || p.Counters.DirectoryUsersSelected != tt.selected {
				t.Errorf("read %d, selected %d; want 3, %d", p.Counters.DirectoryUsersRead, p.Counters.DirectoryUsersSelected, tt.selected)
			}
		})
	}
}

func TestDirectoryQuery(t *testing.T) { // §3.4.1
	tests := []struct {
		name string
		mut  func(*Options)
		want SourceQuery
	}{
		{"all without process-groups reads no memberships", func(o *Options) { o.ProcessGroups = false }, SourceQuery{AllUsers: true}},
		{"all with process-groups", func(o *Options) {}, SourceQuery{AllUsers: true, Groups: []string{"Marketing", "Design"}}},
		{"group filter", func(o *Options) { o.ProcessGroups, o.Users, o.UsersGroups = false, UsersGroup, []string{"X"} }, SourceQuery{Groups: []string{"X"}}},
		{"mapped", func(o *Options) { o.ProcessGroups, o.Users = false, UsersMapped }, SourceQuery{Groups: []string{"Marketing", "Design"}}},
		{"exclude-unmapped reads the mapped groups", func(o *Options) { o.ProcessGroups, o.ExcludeUnmapped = false, true },
			SourceQuery{AllUsers: true, Groups: []string{"Marketing", "Design"}}},
		{"member groups for additional rules", func(o *Options) {
			o.ProcessGroups = false
			o.AdditionalGroups = []AdditionalGroupRule{{Source: regexp.MustCompile("x"), Target: "y"}}
		}, SourceQuery{AllUsers: true, WantMemberGroups: true}},
	}
	for _, tt := range tests {
		got := DirectoryQuery(planOpts(tt.mut))
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s: DirectoryQuery (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestAdobeQueries(t *testing.T) { // §3.5, §3.2
	tests := []struct {
		name string
		mut  func(*Options)
		want map[string]AdobeQuery
	}{
		{"all", func(o *Options) {}, map[string]AdobeQuery{PrimaryOrg: {All: true}}},
		{"mapped reads every known group", func(o *Options) {
			o.AdobeUsers = AdobeUsersMapped
			o.ExcludeAdobeGroups = []string{"_org_admin"}
		}, map[string]AdobeQuery{PrimaryOrg: {Groups: []string{"All Apps", "Design Team", "_org_admin"}}}},
		{"group per org", func(o *Options) {
			o.Secondaries = []string{"eu"}
			o.AdobeUsers, o.AdobeUsersGroups = AdobeUsersGroup, []string{"All Apps", "eu::Design EU"}
		}, map[string]AdobeQuery{PrimaryOrg: {Groups: []string{"All Apps"}}, "eu": {Groups: []string{"Design EU"}}}},
		{"adobe-only list reads nothing", func(o *Options) { o.AdobeOnlyList = []Stray{} }, nil},
	}
	for _, tt := range tests {
		got := AdobeQueries(planOpts(tt.mut))
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s: AdobeQueries (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestUpdateAttributes(t *testing.T) { // §3.6
	d := dirU("ana@x.com", "Marketing")
	d.Firstname, d.Lastname = "Ana", ""
	a := adobeU("ANA@x.com", "All Apps")
	a.Firstname, a.Lastname = "Anna", "Ruiz"
	tests := []struct {
		name     string
		attrs    []string
		want     []AttrChange
		warnings int
	}{
		{"default list updates first name; a missing last name is no difference", nil,
			[]AttrChange{{Name: "firstname", Before: "Anna", After: "Ana"}}, 0},
		{"unlisted attribute only warns", []string{"email"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustBuildPlan(t, planSnap([]DirectoryUser{d}, []AdobeUser{a}), planOpts(func(o *Options) {
				o.UpdateUserInfo, o.UpdateAttributes = true, tt.attrs
			}))
			var got []AttrChange
			for _, c := range p.Changes {
				if c.Action == ActionUpdate {
					got = append(got, c.Attrs...)
				}
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("attrs (-want +got):\n%s", d)
			}
			if len(p.Warnings) != tt.warnings {
				t.Errorf("Warnings = %q; want %d", p.Warnings, tt.warnings)
			}
		})
	}
}

func TestCreateCountryAndOptions(t *testing.T) { // §3.7
	mk := func(t IdentityType, country string) DirectoryUser {
		u := dirU("ana@x.com")
		u.Type, u.Country = t, country
		return u
	}
	tests := []struct {
		name    string
		u       DirectoryUser
		def     string
		update  bool
		country string // "" means not created
		option  string
	}{
		{"explicit country kept", mk(FederatedID, "DE"), "US", false, "DE", OptionIgnoreIfExists},
		{"default country used", mk(FederatedID, ""), "FR", false, "FR", OptionIgnoreIfExists},
		{"federated without country is skipped", mk(FederatedID, ""), "", false, "", ""},
		{"adobeID without country is added without one", mk(AdobeID, ""), "", false, "-", OptionIgnoreIfExists},
		{"enterprise gets UD", mk(EnterpriseID, ""), "", false, "UD", OptionIgnoreIfExists},
		{"update-user-info asks to update", mk(FederatedID, "DE"), "", true, "DE", OptionUpdateIfExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustBuildPlan(t, planSnap([]DirectoryUser{tt.u}, nil), planOpts(func(o *Options) {
				o.DefaultCountry, o.UpdateUserInfo = tt.def, tt.update
			}))
			if tt.country == "" {
				if len(p.Changes) != 0 || len(p.Warnings) != 1 {
					t.Errorf("changes %v, warnings %q; want none and one error", planLines(p), p.Warnings)
				}
				return
			}
			c := p.Changes[0]
			want := []AttrChange{{Name: "email", After: "ana@x.com"}, {Name: "firstname", After: "F"}, {Name: "lastname", After: "L"}, {Name: "country", After: tt.country}}
			if tt.country == "-" {
				want = want[:3]
			}
			if d := cmp.Diff(want, c.Attrs); d != "" {
				t.Errorf("create attrs (-want +got):\n%s", d)
			}
			if c.Option != tt.option {
				t.Errorf("Option = %q; want %q", c.Option, tt.option)
			}
			if c.User.UseAdobeID != (tt.u.Type == AdobeID) {
				t.Errorf("UseAdobeID = %v", c.User.UseAdobeID)
			}
		})
	}
	t.Run("username login is addressed by username and domain", func(t *testing.T) {
		u := dirU("ana@x.com")
		u.Username, u.Domain = "ana", "x.com"
		p := mustBuildPlan(t, planSnap([]DirectoryUser{u}, nil), planOpts())
		if d := cmp.Diff([]string{"primary create ana/x.com"}, planLines(p)); d != "" {
			t.Errorf("changes (-want +got):\n%s", d)
		}
	})
}

func TestAdobeIDCollision(t *testing.T) { // §3.7
	o := planOpts()
	p, err := newPlanner(context.Background(), planSnap(nil, nil), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.adobeIDEmails["ana@x.com"] = struct{}{}
	for _, typ := range []IdentityType{FederatedID, EnterpriseID, AdobeID} {
		u := dirU("Ana@X.com", "Marketing")
		u.Type = typ
		k, _ := directoryKey(&u, FederatedID)
		p.changes = changeList{}
		p.create(0, &dirRec{u: &u, k: k})
		created := p.changes.n > 0
		if want := typ == AdobeID; created != want {
			t.Errorf("create %s with a same-email Adobe ID: created = %v; want %v", typ, created, want)
		}
	}
}

func TestAutoCreate(t *testing.T) { // §3.13
	o := planOpts(func(o *Options) {
		o.AutoCreate = true
		o.ExcludeAdobeGroups = []string{"_org_admin"}
	})
	s := planSnap([]DirectoryUser{dirU("ana@x.com", "Design")}, []AdobeUser{adobeU("ana@x.com")})
	s.Adobe[PrimaryOrg] = OrgSnapshot{Users: s.Adobe[PrimaryOrg].Users, Query: AdobeQuery{All: true},
		Groups: []AdobeGroup{{Name: "ALL APPS", Type: "PRODUCT_PROFILE"}, {Name: "Team", Type: "USER_GROUP"}}}
	p := mustBuildPlan(t, s, o)
	want := []string{"primary create_group Design Team", "primary add_groups ana@x.com [design team]"}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if p.Counters.GroupsCreated != 1 {
		t.Errorf("GroupsCreated = %d; want 1", p.Counters.GroupsCreated)
	}
	if d := cmp.Diff(map[string][]string{PrimaryOrg: {"team"}}, p.UserGroups); d != "" {
		t.Errorf("UserGroups (-want +got):\n%s", d)
	}
}

// scriptHook is a scripted after_mapping_hook.
type scriptHook struct {
	calls int
	run   func(h *HookContext)
}

func (f *scriptHook) Run(_ context.Context, h *HookContext) error {
	f.calls++
	f.run(h)
	return nil
}

func TestHook(t *testing.T) { // §5
	h := &scriptHook{run: func(h *HookContext) {
		var keep []string
		for _, g := range h.TargetGroups {
			if g != "All Apps" {
				keep = append(keep, g)
			}
		}
		h.TargetGroups = append(keep, "Design Team", "Nowhere")
		h.TargetAttributes["firstname"] = "Hooked"
	}}
	o := planOpts(func(o *Options) { o.Hook, o.UpdateUserInfo = h, true })
	p := mustBuildPlan(t, planSnap([]DirectoryUser{dirU("ana@x.com", "Marketing")}, []AdobeUser{adobeU("ana@x.com", "All Apps")}), o)
	want := []string{
		"primary update ana@x.com",
		"primary remove_groups ana@x.com [all apps]",
		"primary add_groups ana@x.com [design team]",
	}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if h.calls != 1 {
		t.Errorf("hook calls = %d; want 1", h.calls)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "Nowhere") {
		t.Errorf("Warnings = %q; want the unknown group", p.Warnings)
	}
	if got := p.Changes[2].Reasons; len(got) != 1 || !strings.Contains(got[0], "hook") {
		t.Errorf("add Reasons = %q; want the hook", got)
	}
}

func TestAdobeOnlyList(t *testing.T) { // §3.11
	list := []Stray{
		{Org: PrimaryOrg, Type: FederatedID, Email: "a@x.com"},
		{Type: FederatedID, Email: "b@x.com"},
		{Org: "eu", Type: FederatedID, Email: "a@x.com"},
		{Org: "eu", Type: FederatedID, Email: "c@x.com"},
		{Type: FederatedID, User: UserRef{User: "nodomain"}},
	}
	tests := []struct {
		name   string
		action AdobeOnlyKind
		limit  Limit
		want   []string
	}{
		{"remove", AdobeOnlyRemove, Limit{Set: true, Count: 10}, []string{"eu remove_from_org a@x.com", "primary remove_from_org a@x.com", "primary remove_from_org b@x.com"}},
		{"preserve has no groups to remove", AdobeOnlyPreserve, Limit{Set: true, Count: 10}, nil},
		{"percentage limit blocks: no Adobe users are read", AdobeOnlyRemove, Limit{Set: true, IsPercent: true, Percent: 50},
			[]string{"withheld eu remove_from_org a@x.com", "withheld primary remove_from_org a@x.com", "withheld primary remove_from_org b@x.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := planOpts(func(o *Options) {
				o.Secondaries = []string{"eu"}
				o.AdobeOnlyList, o.AdobeOnlyAction, o.MaxAdobeOnly = list, tt.action, tt.limit
			})
			p := mustBuildPlan(t, &Snapshot{}, o)
			if d := cmp.Diff(tt.want, planLines(p)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
		})
	}
}

func TestDuplicatesAndInvalidAdobeUsers(t *testing.T) { // §3.5
	dup := adobeU("ana@x.com", "Design Team")
	bad := AdobeUser{Type: "bogus", Email: "z@x.com"}
	p := mustBuildPlan(t, planSnap([]DirectoryUser{dirU("ana@x.com", "Marketing")}, []AdobeUser{adobeU("ana@x.com", "All Apps"), dup, bad}), planOpts())
	if d := cmp.Diff([]string(nil), planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if p.Counters.AdobeUsersRead != 1 {
		t.Errorf("AdobeUsersRead = %d; want 1", p.Counters.AdobeUsersRead)
	}
}

func TestCountersAndSummary(t *testing.T) { // §3.16
	s := planSnap(
		[]DirectoryUser{dirU("ana@x.com", "Marketing"), dirU("bob@x.com", "Design"), dirU("new@x.com", "Design")},
		[]AdobeUser{adobeU("ana@x.com", "All Apps"), adobeU("bob@x.com", "All Apps"), adobeU("gone@x.com", "All Apps"), adobeU("admin@x.com", "_org_admin")},
	)
	o := planOpts(func(o *Options) {
		o.AdobeOnlyAction = AdobeOnlyRemove
		o.ExcludeAdobeGroups = []string{"_org_admin"}
		o.TestMode = true
	})
	p := mustBuildPlan(t, s, o)
	want := Counters{DirectoryUsersRead: 3, DirectoryUsersSelected: 3, AdobeUsersRead: 4, Excluded: 1, Unchanged: 1,
		Created: 1, Updated: 1, StraysProcessed: 1, StraysTracked: true}
	if d := cmp.Diff(want, p.Counters); d != "" {
		t.Errorf("Counters (-want +got):\n%s", d)
	}
	res := &ApplyResult{Orgs: map[string]OrgStats{PrimaryOrg: {Total: 3, Success: 2, Errors: 1}}}
	wantLines := []string{
		"---------------------------- Action Summary (TEST MODE) ----------------------------",
		"                        Number of directory users read: 3",
		"          Number of directory users selected for input: 3",
		"                            Number of Adobe users read: 4",
		"           Number of Adobe users excluded from updates: 1",
		"    Number of non-excluded Adobe users with no changes: 1",
		"                       Number of new Adobe users added: 1",
		"                Number of matching Adobe users updated: 1",
		"                   Number of Adobe user-groups created: 0",
		"                    Number of Adobe-only users removed: 1",
		"  Number of UMAPI actions sent (total, success, error): (3, 2, 1)",
		strings.Repeat("-", 84),
	}
	if d := cmp.Diff(wantLines, SummaryLines(p, res)); d != "" {
		t.Errorf("SummaryLines (-want +got):\n%s", d)
	}
	if got := len(SummaryLines(p, nil)[0]); got != 84 {
		t.Errorf("header length = %d; want 84", got)
	}
}

func TestSummaryPushAndSecondaries(t *testing.T) { // §3.16
	p := &Plan{Strategy: StrategyPush, Orgs: []string{"eu", PrimaryOrg}, Counters: Counters{DirectoryUsersRead: 2, DirectoryUsersSelected: 2, Created: 2, SecondaryCreated: 1}}
	// Labels are right-aligned to the longest label, connection lines
	// included.
	want := []string{
		"---------------------------------- Action Summary ----------------------------------",
		"                                Number of directory users read: 2",
		"                  Number of directory users selected for input: 2",
		"                     Number of directory users pushed to Adobe: 2",
		"                   Number of Adobe users pushed to secondaries: 1",
		"  Number of primary UMAPI actions sent (total, success, error): (0, 0, 0)",
		"       Number of eu UMAPI actions sent (total, success, error): (0, 0, 0)",
		strings.Repeat("-", 84),
	}
	got := SummaryLines(p, nil)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SummaryLines (-want +got):\n%s", d)
	}
}

func TestChangeOrderAndIDs(t *testing.T) { // §3.15
	o := planOpts(func(o *Options) {
		o.Secondaries = []string{"eu"}
		o.GroupMapping[1].AdobeGroups = []string{"eu::Design EU"}
		o.UpdateUserInfo = true
	})
	d := dirU("zed@x.com", "Marketing", "Design")
	d.Firstname = "Zed"
	s := planSnap([]DirectoryUser{d, dirU("amy@x.com", "Marketing")}, []AdobeUser{adobeU("zed@x.com", "Design Team")})
	s.Adobe["eu"] = OrgSnapshot{Query: AdobeQuery{All: true}}
	p := mustBuildPlan(t, s, o)
	want := []string{
		"eu create zed@x.com",
		"eu add_groups zed@x.com [design eu]",
		"primary create amy@x.com",
		"primary add_groups amy@x.com [all apps]",
		"primary update zed@x.com",
		"primary add_groups zed@x.com [all apps]",
	}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	for i, c := range p.Changes {
		if c.ID != i {
			t.Errorf("Changes[%d].ID = %d", i, c.ID)
		}
		if c.Rule == "" || len(c.Reasons) == 0 {
			t.Errorf("Changes[%d] = %+v: want a rule and reasons", i, c)
		}
	}
}

func TestDigests(t *testing.T) {
	a := DirectoryResult{Users: []DirectoryUser{dirU("a@x.com", "G1", "G2"), dirU("b@x.com")}}
	b := DirectoryResult{Users: []DirectoryUser{dirU("b@x.com"), dirU("a@x.com", "G2", "G1")}}
	if DirectoryDigest(&a) != DirectoryDigest(&b) {
		t.Error("DirectoryDigest depends on order")
	}
	c := DirectoryResult{Users: []DirectoryUser{dirU("a@x.com", "G1"), dirU("b@x.com")}}
	if DirectoryDigest(&a) == DirectoryDigest(&c) {
		t.Error("DirectoryDigest ignores a membership change")
	}
	o1 := map[string]OrgSnapshot{PrimaryOrg: {Users: []AdobeUser{adobeU("a@x.com"), adobeU("b@x.com")}}}
	o2 := map[string]OrgSnapshot{PrimaryOrg: {Users: []AdobeUser{adobeU("b@x.com"), adobeU("a@x.com")}}}
	o3 := map[string]OrgSnapshot{PrimaryOrg: {Users: []AdobeUser{adobeU("b@x.com")}}}
	if AdobeDigest(o1) != AdobeDigest(o2) || AdobeDigest(o1) == AdobeDigest(o3) {
		t.Error("AdobeDigest is not order-independent or misses a removed user")
	}
	p := mustBuildPlan(t, &Snapshot{Directory: a, Adobe: o1}, planOpts())
	if p.DirectoryDigest != DirectoryDigest(&a) || p.AdobeDigest != AdobeDigest(o1) {
		t.Error("plan digests differ from the snapshot's")
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := BuildPlan(ctx, planSnap([]DirectoryUser{dirU("a@x.com")}, nil), planOpts()); err == nil {
		t.Error("BuildPlan with a cancelled context succeeded")
	}
}

func TestAdobeUsersGroupQueries(t *testing.T) { // §3.5: de-duplication across per-group queries, §3.2
	o := planOpts(func(o *Options) {
		o.AdobeUsers, o.AdobeUsersGroups = AdobeUsersGroup, []string{"All Apps", "Legacy"}
		o.AdobeOnlyAction = AdobeOnlyPreserve
	})
	s := planSnap([]DirectoryUser{dirU("ana@x.com", "Marketing")}, nil)
	// The same account returned by two group queries is processed once;
	// "Legacy" is a mapped group because --adobe-users names it (UST quirk).
	s.Adobe[PrimaryOrg] = OrgSnapshot{Query: AdobeQuery{Groups: []string{"All Apps", "Legacy"}}, Users: []AdobeUser{
		adobeU("ana@x.com", "All Apps", "Legacy"), adobeU("old@x.com", "Legacy"), adobeU("ANA@x.com", "All Apps", "Legacy"),
	}}
	p := mustBuildPlan(t, s, o)
	want := []string{"primary remove_groups ana@x.com [legacy]", "primary remove_groups old@x.com [legacy]"}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if p.Counters.AdobeUsersRead != 2 {
		t.Errorf("AdobeUsersRead = %d; want 2", p.Counters.AdobeUsersRead)
	}
}

func TestHookRekeys(t *testing.T) { // §5, differs from UST (docs/sync-rules.md)
	h := &scriptHook{run: func(h *HookContext) {
		h.TargetAttributes["email"] = "ana@new.example.com"
		h.TargetAttributes["username"] = "ana@new.example.com"
	}}
	p := mustBuildPlan(t, planSnap([]DirectoryUser{dirU("ana@old.example.com", "Marketing")},
		[]AdobeUser{adobeU("ana@new.example.com", "All Apps")}), planOpts(func(o *Options) { o.Hook = h }))
	if d := cmp.Diff([]string(nil), planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
}

func TestTrustedAndSecondaryCounting(t *testing.T) { // §3.7 counting
	o := planOpts(func(o *Options) {
		o.TrustedConnector = true
		o.Secondaries = []string{"eu"}
		o.GroupMapping[1].AdobeGroups = []string{"eu::Design EU"}
	})
	s := planSnap([]DirectoryUser{dirU("new@x.com", "Marketing", "Design")}, nil)
	s.Adobe["eu"] = OrgSnapshot{Query: AdobeQuery{All: true}}
	p := mustBuildPlan(t, s, o)
	c := p.Counters
	if c.Created != 0 || c.SecondaryCreated != 1 || c.Updated != 1 {
		t.Errorf("created %d, secondary %d, updated %d; want 0, 1, 1 (trusted primary creates count as secondary)", c.Created, c.SecondaryCreated, c.Updated)
	}
}

func TestSecondaryExclusionFollowsPrimary(t *testing.T) { // §3.9
	o := planOpts(func(o *Options) {
		o.Secondaries = []string{"eu"}
		o.GroupMapping[1].AdobeGroups = []string{"eu::Design EU"}
		o.ExcludeUsers = []*regexp.Regexp{regexp.MustCompile(`boss@.*`)}
		o.AdobeOnlyAction = AdobeOnlyRemove
	})
	s := planSnap(nil, []AdobeUser{adobeU("boss@x.com")})
	s.Adobe["eu"] = OrgSnapshot{Query: AdobeQuery{All: true}, Users: []AdobeUser{adobeU("boss@x.com", "Design EU"), adobeU("euonly@x.com", "Design EU")}}
	p := mustBuildPlan(t, s, o)
	if d := cmp.Diff([]string(nil), planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
}

func TestPlanIndependentOfReadOrder(t *testing.T) { // §3.15: deterministic order
	// Parallel lookups run even on this small input (and under -race).
	defer func(n int) { parallelMatchMin = n }(parallelMatchMin)
	parallelMatchMin = 100
	snap, o := millionSnapshot(3000)
	o.AdobeOnlyAction = AdobeOnlyRemove
	o.MaxAdobeOnly = Limit{Set: true, IsPercent: true, Percent: 50}
	want := mustBuildPlan(t, snap, o)
	rev := &Snapshot{Directory: DirectoryResult{Users: append([]DirectoryUser(nil), snap.Directory.Users...)},
		Adobe: map[string]OrgSnapshot{PrimaryOrg: {Users: append([]AdobeUser(nil), snap.Adobe[PrimaryOrg].Users...), Query: AdobeQuery{All: true}}}}
	for i, j := 0, len(rev.Directory.Users)-1; i < j; i, j = i+1, j-1 {
		rev.Directory.Users[i], rev.Directory.Users[j] = rev.Directory.Users[j], rev.Directory.Users[i]
	}
	au := rev.Adobe[PrimaryOrg].Users
	for i, j := 0, len(au)-1; i < j; i, j = i+1, j-1 {
		au[i], au[j] = au[j], au[i]
	}
	got := mustBuildPlan(t, rev, o)
	if d := cmp.Diff(want.Changes, got.Changes); d != "" {
		t.Errorf("plan depends on read order (-want +got):\n%s", d)
	}
	if want.DirectoryDigest != got.DirectoryDigest || want.AdobeDigest != got.AdobeDigest {
		t.Error("digests depend on read order")
	}
	if len(want.Changes) == 0 {
		t.Error("no changes planned")
	}
}

func TestEveryChangeHasRuleAndReasons(t *testing.T) {
	for _, o := range []*Options{
		planOpts(func(o *Options) { o.AdobeOnlyAction, o.UpdateUserInfo, o.AutoCreate = AdobeOnlyDelete, true, true }),
		planOpts(func(o *Options) { o.Strategy = StrategyPush }),
	} {
		d := dirU("ana@x.com", "Marketing")
		d.Firstname = "Ana"
		p := mustBuildPlan(t, planSnap([]DirectoryUser{d, dirU("new@x.com", "Design")},
			[]AdobeUser{adobeU("ana@x.com", "Design Team"), adobeU("gone@x.com")}), o)
		if len(p.Changes) < 4 {
			t.Errorf("%s: only %d changes", o.Strategy, len(p.Changes))
		}
		for _, c := range p.Changes {
			if c.Rule == "" || len(c.Reasons) == 0 {
				t.Errorf("%s: change %s %s has rule %q, reasons %q", o.Strategy, c.Action, c.Key, c.Rule, c.Reasons)
			}
		}
	}
}

func TestUSTLogMessages(t *testing.T) { // §7: grep-compatible log lines, rendered from the plan
	for _, debug := range []bool{false, true} {
		o := planOpts(func(o *Options) {
			o.AdobeOnlyAction = AdobeOnlyDelete
			o.UpdateUserInfo = true
			o.DebugNotes = debug
		})
		d := dirU("ana@x.com", "Marketing")
		d.Firstname = "Ana"
		p := mustBuildPlan(t, planSnap([]DirectoryUser{d, dirU("new@x.com", "Design"), {Email: "bad"}},
			[]AdobeUser{adobeU("ana@x.com"), adobeU("gone@x.com")}), o)
		var buf strings.Builder
		LogNotes(context.Background(), slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), p.Notes)
		out := buf.String()
		want := []string{
			"level=WARN msg=\"Ignoring directory user with empty user key",
			"level=INFO msg=\"Updating info for user key: federatedID,ana@x.com,,ana@x.com changes: {'firstname': 'Ana'}\"",
			"level=INFO msg=\"Managing groups for user key: federatedID,ana@x.com,,ana@x.com added: {'all apps'} removed: set()\"",
			"level=INFO msg=\"Queuing new user with user key: federatedID,new@x.com,,new@x.com\"",
			"level=INFO msg=\"Deleting Adobe-only user: federatedID,gone@x.com,,gone@x.com\"",
		}
		at := 0
		for _, w := range want {
			i := strings.Index(out[at:], w)
			if i < 0 {
				t.Errorf("debug %v: log lacks %q after byte %d:\n%s", debug, w, at, out)
				continue
			}
			at += i + len(w)
		}
		if got := strings.Contains(out, "level=DEBUG msg=\"Found Adobe-only user: federatedID,gone@x.com"); got != debug {
			t.Errorf("DebugNotes %v: debug line logged = %v; want %v:\n%s", debug, got, debug, out)
		}
	}
}

func TestNoUpdatesForAdobeIDs(t *testing.T) { // §3.6; UMAPI refuses (error.update.adobeid.no)
	d := dirU("pat@mail.com", "Marketing")
	d.Type, d.Firstname = AdobeID, "Pat"
	a := adobeU("pat@mail.com", "All Apps")
	a.Type = AdobeID
	p := mustBuildPlan(t, planSnap([]DirectoryUser{d}, []AdobeUser{a}), planOpts(func(o *Options) { o.UpdateUserInfo = true }))
	if d := cmp.Diff([]string(nil), planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
}

func TestAdobeDuplicatesByKey(t *testing.T) { // §3.5 steps 3 (duplicate keys) and the exact-email quirk
	aid := adobeU("Pat@x.com", "All Apps")
	aid.Type = AdobeID
	p := mustBuildPlan(t, planSnap(nil, []AdobeUser{
		adobeU("Gone@x.com", "All Apps"), adobeU("gone@x.com", "All Apps"), // same key, different case
		adobeU("Pat@x.com", "All Apps"), aid, // same exact email: only the first is seen
	}), planOpts(func(o *Options) { o.AdobeOnlyAction = AdobeOnlyRemove }))
	want := []string{"primary remove_from_org gone@x.com", "primary remove_from_org pat@x.com"}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if p.Counters.AdobeUsersRead != 2 {
		t.Errorf("AdobeUsersRead = %d; want 2", p.Counters.AdobeUsersRead)
	}
}

type failingHook struct{}

func (failingHook) Run(context.Context, *HookContext) error { return errors.New("hook raised") }

// TestPlanErrorKeepsNotes: a fatal error (a failing hook) returns no plan,
// but the lines UST had logged before it still reach the log.
func TestPlanErrorKeepsNotes(t *testing.T) {
	o := planOpts(func(o *Options) { o.Hook = failingHook{} })
	_, err := BuildPlan(context.Background(), planSnap([]DirectoryUser{{Email: "bad"}, dirU("ana@x.com", "Marketing")}, nil), o)
	pe, ok := errors.AsType[*PlanError](err)
	if !ok {
		t.Fatalf("BuildPlan with a failing hook = %v; want a *PlanError", err)
	}
	if !strings.Contains(err.Error(), "hook raised") {
		t.Errorf("error %q lacks the hook's", err)
	}
	var buf strings.Builder
	LogNotes(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)), pe.Notes)
	if !strings.Contains(buf.String(), "level=WARN msg=\"Ignoring directory user with empty user key") {
		t.Errorf("the warning before the error is lost:\n%s", buf.String())
	}
}
