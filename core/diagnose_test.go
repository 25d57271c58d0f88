package core

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestValidateEmail(t *testing.T) {
	for _, tc := range []struct {
		email string
		ok    bool
	}{
		{"ana@example.org", true},
		{"a.b+c@sub.example.org", true},
		{"@", false},
		{"x@", false},
		{"@example.org", false},
		{"a b@example.org", false},
		{"ana\x00@example.org", false},
		{"ana\t@example.org", false},
		{"ana@@example.org", false},
		{"ana@example", false},
		{"", false},
		{strings.Repeat("a", 61) + "@example.org", false},
	} {
		if got := ValidateEmail(tc.email); (got == "") != tc.ok {
			t.Errorf("ValidateEmail(%q) = %q; want ok=%v", tc.email, got, tc.ok)
		}
	}
}

func TestValidateDirectoryUser(t *testing.T) {
	good := dirU("ana@example.org")
	if ps := ValidateDirectoryUser(&good); ps != nil {
		t.Errorf("ValidateDirectoryUser(good) = %v; want none", ps)
	}
	for _, tc := range []struct {
		field string
		mut   func(*DirectoryUser)
	}{
		{"country", func(u *DirectoryUser) { u.Country = "XX" }},
		{"firstname", func(u *DirectoryUser) { u.Firstname = "A\x00na" }},
		{"lastname", func(u *DirectoryUser) { u.Lastname = strings.Repeat("x", 10<<20) }},
		{"email", func(u *DirectoryUser) { u.Email, u.Username = "x@", "x@" }},
	} {
		u := dirU("ana@example.org")
		tc.mut(&u)
		ps := ValidateDirectoryUser(&u)
		if len(ps) != 1 || ps[0].Field != tc.field {
			t.Errorf("ValidateDirectoryUser(bad %s) = %v; want one problem with %s", tc.field, ps, tc.field)
		}
	}
}

func TestNearest(t *testing.T) {
	for _, tc := range []struct {
		s    string
		in   []string
		want string
	}{
		{"Video", []string{"designers", "Video Team", "Engineering"}, "Video Team"},
		{"Video Team", []string{"Video", "designers"}, "Video"},
		{"Acrobat Standard", []string{"Design Team", "All Apps", "Acrobat Pro"}, ""},
		{"Desgn Team", []string{"Design Team", "All Apps"}, "Design Team"},
		{"Sales", []string{"Engineering"}, ""},
	} {
		if got := Nearest(tc.s, tc.in); got != tc.want {
			t.Errorf("Nearest(%q, %q) = %q; want %q", tc.s, tc.in, got, tc.want)
		}
	}
}

// troubleSnap is the case of docs/troubleshooting.md.
func troubleSnap() (*Snapshot, *Options) {
	emil := dirU("emil@example.org", "Video")
	emil.Origin = "users.csv:4"
	bad := dirU("xx@example.org", "Engineering")
	bad.Country, bad.Origin = "XX", "users.csv:7"
	s := planSnap([]DirectoryUser{dirU("ana@example.org", "designers"), dirU("greg@example.org", "Engineering", "Finance"),
		dirU("ida@example.org", "Engineering"), bad},
		[]AdobeUser{adobeU("emil@example.org", "All Apps"), adobeU("xx@example.org", "Acrobat Pro")})
	s.Directory.Unselected = []DirectoryUser{emil}
	s.Directory.MissingGroups = []string{"Video Team"}
	org := s.Adobe[PrimaryOrg]
	org.Groups = []AdobeGroup{{Name: "Design Team", Type: "USER_GROUP"}, {Name: "All Apps", Type: "PRODUCT_PROFILE"}, {Name: "Acrobat Pro", Type: "PRODUCT_PROFILE"}}
	s.Adobe[PrimaryOrg] = org
	o := planOpts(func(o *Options) {
		o.Users = UsersMapped
		o.AdobeOnlyAction = AdobeOnlyRemove
		o.GroupMapping = []GroupMapping{
			{DirectoryGroup: "designers", AdobeGroups: []string{"Design Team"}},
			{DirectoryGroup: "Video Team", AdobeGroups: []string{"All Apps"}},
			{DirectoryGroup: "Engineering", AdobeGroups: []string{"Acrobat Pro"}},
			{DirectoryGroup: "Finance", AdobeGroups: []string{"Acrobat Standard"}},
		}
	})
	return s, o
}

func TestDiagnose(t *testing.T) {
	s, o := troubleSnap()
	fs := Diagnose(s, o)
	byKind := map[FindingKind][]Finding{}
	for _, f := range fs {
		byKind[f.Kind] = append(byKind[f.Kind], f)
	}
	check := func(k FindingKind, group, suggestion string) {
		t.Helper()
		for _, f := range byKind[k] {
			if f.Group == group {
				if f.Suggestion != suggestion {
					t.Errorf("%s %q suggests %q; want %q", k, group, f.Suggestion, suggestion)
				}
				return
			}
		}
		t.Errorf("no %s finding for %q in %+v", k, group, fs)
	}
	check(FindingDirectoryGroupMissing, "Video Team", "Video")
	check(FindingAdobeGroupMissing, "Acrobat Standard", "")
	check(FindingUnmappedGroup, "Video", "Video Team")
	if f := byKind[FindingUnmappedGroup]; len(f) != 1 || f[0].Members != 1 || !slices.Equal(f[0].Origins, []string{"users.csv:4"}) || f[0].Severity != SeverityWarning {
		t.Errorf("unmapped group findings = %+v; want Video with 1 member from users.csv:4, a warning", f)
	}
	if f := byKind[FindingInvalidUser]; len(f) != 1 || f[0].User != "xx@example.org" || !strings.Contains(f[0].Message, "users.csv:7") {
		t.Errorf("invalid user findings = %+v; want xx@example.org at users.csv:7", f)
	}
	if fs[len(fs)-1].Severity != SeverityWarning {
		// All of these are warnings; notices would sort last.
		t.Errorf("findings not sorted warnings first: %+v", fs)
	}
}

func TestDuplicateUsersFinding(t *testing.T) {
	a, b := dirU("ana@example.org"), dirU("ANA@example.org")
	a.Origin, b.Origin, b.Country = "cn=ana,ou=a", "cn=ana,ou=b", "ES"
	fs := Diagnose(planSnap([]DirectoryUser{a, b}, nil), planOpts())
	if len(fs) != 1 || fs[0].Kind != FindingDuplicateUser || !strings.Contains(fs[0].Message, "the last one (cn=ana,ou=b) is used") {
		t.Errorf("Diagnose(duplicates) = %+v; want one duplicate finding naming the record used", fs)
	}
}

func TestPlanBlocksAddsToMissingGroupsAndSkipsInvalidUsers(t *testing.T) {
	s, o := troubleSnap()
	p := mustBuildPlan(t, s, o)
	if len(p.Findings) == 0 {
		t.Error("plan has no findings")
	}
	var greg []Change
	for _, c := range p.Changes {
		if c.User.User == "greg@example.org" {
			greg = append(greg, c)
		}
		if c.User.User == "xx@example.org" {
			t.Errorf("plan has a change for the invalid user: %+v", c)
		}
	}
	var blocked, sendable []string
	for _, c := range greg {
		if c.Action != ActionAddGroups {
			continue
		}
		if c.Blocked != "" {
			blocked = append(blocked, c.Groups...)
		} else {
			sendable = append(sendable, c.Groups...)
		}
	}
	if !slices.Equal(blocked, []string{"acrobat standard"}) || !slices.Equal(sendable, []string{"acrobat pro"}) {
		t.Errorf("greg's adds: blocked %q, sendable %q; want [acrobat standard] and [acrobat pro]", blocked, sendable)
	}
	// The blocked change is recorded as failed and never sent; Greg's
	// create and valid add go.
	ft := &fakeTarget{}
	res, err := Apply(context.Background(), p, map[string]Target{PrimaryOrg: ft}, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ft.reqs {
		for _, c := range r.Commands {
			for _, st := range c.Steps {
				if slices.Contains(st.Groups, "acrobat standard") {
					t.Errorf("sent a step naming acrobat standard: %+v", c)
				}
			}
		}
	}
	failed := 0
	for _, r := range res.Results {
		if r.Outcome == OutcomeFailed {
			failed++
			if r.Code != ResultBlocked || !strings.Contains(r.Message, "acrobat standard") {
				t.Errorf("failed result %+v; want %s naming acrobat standard", r, ResultBlocked)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed results; want 1: %+v", failed, res.Results)
	}
}

func TestExplainUnselectedUser(t *testing.T) {
	s, o := troubleSnap()
	ex, err := Explain(context.Background(), s, o, "emil@example.org")
	if err != nil {
		t.Fatal(err)
	}
	text := ""
	for _, st := range ex.Steps {
		text += st.Stage + ":" + st.Outcome + " " + st.Detail + "\n"
	}
	for _, w := range []string{"users.csv:4", `near "Video"`, `"Video Team"`, "selection:not selected", "adobe-only"} {
		if !strings.Contains(text, w) {
			t.Errorf("explanation lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "not found") {
		t.Errorf("explanation says not found:\n%s", text)
	}
	if ex.Directory == nil || ex.Directory.Origin != "users.csv:4" {
		t.Errorf("Directory = %+v; want the record from users.csv:4", ex.Directory)
	}
}

type lookupSource struct {
	u *DirectoryUser
}

func (lookupSource) Users(context.Context, SourceQuery, Reporter) (DirectoryResult, error) {
	return DirectoryResult{}, nil
}

func (l lookupSource) LookupUser(_ context.Context, q string, _ SourceQuery) (*DirectoryUser, string, error) {
	if l.u != nil && strings.EqualFold(q, l.u.Email) {
		return l.u, "LDAP ldap://dir, base \"dc=x\", filter \"(objectClass=person)\"", nil
	}
	return nil, "LDAP ldap://dir, base \"dc=x\", filter \"(objectClass=person)\"", nil
}

func TestExplainFromLooksUpUnreadUser(t *testing.T) {
	s, o := troubleSnap()
	emil := s.Directory.Unselected[0]
	emil.Origin = "cn=emil,dc=x"
	s.Directory.Unselected = nil
	ex, err := ExplainFrom(context.Background(), s, lookupSource{&emil}, o, "emil@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Directory == nil || ex.Directory.Origin != "cn=emil,dc=x" {
		t.Errorf("ExplainFrom found %+v; want the looked-up record", ex.Directory)
	}
	ex, err = ExplainFrom(context.Background(), s, lookupSource{}, o, "nobody@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if d := ex.Steps[0].Detail; ex.Steps[0].Outcome != "not found" || !strings.Contains(d, `base "dc=x"`) {
		t.Errorf("ExplainFrom(nobody) first step = %+v; want not found naming the base searched", ex.Steps[0])
	}
}

func TestApplyResendsStepsSkippedAfterARefusedGroupStep(t *testing.T) {
	u := fed("greg@example.org")
	p := planOf(nil,
		Change{Action: ActionRemoveGroups, User: u, Groups: []string{"gone"}}, // refused
		Change{Action: ActionAddGroups, User: u, Groups: []string{"acrobat pro"}},
	)
	ft := &fakeTarget{respond: func(n int, req ActionRequest) (ActionResponse, error) {
		if n == 0 {
			return ActionResponse{Result: "partial", NotCompleted: 1, Errors: []ActionIssue{
				{Index: 0, Step: 0, Code: "error.group.not_found", Message: "Group gone was not found"}}}, nil
		}
		if len(req.Commands) != 1 || len(req.Commands[0].Steps) != 1 || req.Commands[0].Steps[0].Kind != StepAdd {
			t.Errorf("resend = %+v; want the add alone", req.Commands)
		}
		return ActionResponse{Result: "success", Completed: 1}, nil
	}}
	res, err := Apply(context.Background(), p, map[string]Target{PrimaryOrg: ft}, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]Outcome{}
	for _, r := range res.Results {
		got[r.ChangeID] = r.Outcome
	}
	if got[0] != OutcomeFailed || got[1] != OutcomeSucceeded || len(ft.reqs) != 2 {
		t.Errorf("outcomes %v after %d requests; want the removal failed, the add resent alone and succeeded", got, len(ft.reqs))
	}
}

func TestApplyNeverSendsACreateWithAnInvalidCountry(t *testing.T) {
	bad, good := fed("xx@example.org"), fed("ok@example.org")
	p := planOf(nil,
		Change{Action: ActionCreate, User: bad, Attrs: []AttrChange{{Name: "email", After: bad.Email}, {Name: "country", After: "XX"}}},
		Change{Action: ActionAddGroups, User: bad, Groups: []string{"acrobat pro"}},
		Change{Action: ActionCreate, User: good, Attrs: []AttrChange{{Name: "email", After: good.Email}, {Name: "country", After: "SE"}}},
	)
	ft := &fakeTarget{}
	res, err := Apply(context.Background(), p, map[string]Target{PrimaryOrg: ft}, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ft.reqs {
		for _, c := range r.Commands {
			if c.User == bad.User {
				t.Errorf("sent a command for %s: %+v", bad.User, c)
			}
		}
	}
	got := map[int]string{}
	for _, r := range res.Results {
		got[r.ChangeID] = string(r.Outcome) + " " + r.Code
	}
	want := map[int]string{0: "failed " + ResultBlocked, 1: "failed " + ResultBlocked, 2: "succeeded "}
	if !maps.Equal(got, want) {
		t.Errorf("results %v; want %v", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"flaw", "lawn", 2}, {"zoë", "zoe", 1}, {"same", "same", 0},
	}
	for _, tc := range tests {
		if got := EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
