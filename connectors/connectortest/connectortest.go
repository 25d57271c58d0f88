package connectortest

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/core"
)

// Harness builds the source under test from the canonical data set. See the
// package documentation for what each method must do.
type Harness interface {
	// Features says which optional parts of the suite apply.
	Features() Features
	// NewSource returns a source that reads a directory holding d. It may
	// start servers and register their shutdown with t.Cleanup.
	NewSource(t *testing.T, d Data) core.Source
	// Unreadable returns a source whose input cannot be read: a missing
	// file, a server that refuses the connection or the credentials.
	Unreadable(t *testing.T) core.Source
}

// Features are the optional capabilities of a source.
type Features struct {
	// AllUsers is set when the source can enumerate every user
	// (core.SourceQuery.AllUsers). Okta cannot.
	AllUsers bool
	// ExtendedAttributes is set when the source reads extra attributes
	// named in core.SourceQuery.ExtendedAttributes.
	ExtendedAttributes bool
}

// Data is a directory: its groups and its users.
type Data struct {
	// Groups are every group of the directory.
	Groups []string
	Users  []User
}

// User is one directory entry.
type User struct {
	Email     string
	Username  string // "" means the email
	Domain    string
	Type      core.IdentityType
	Firstname string
	Lastname  string
	Country   string // upper case already
	// Groups are the groups (of Data.Groups) the user is a member of.
	Groups []string
	// Extended are extra attributes, read only when asked for.
	Extended map[string]string
	// Service marks a service account that the source must not return.
	Service bool
}

// Group names of the canonical data set.
const (
	GroupDesign    = "Design Team"
	GroupMarketing = "Marketing"
	GroupCafe      = "Équipe Café"
	// GroupMissing is never in the directory.
	GroupMissing = "No Such Group"
	// AttrDepartment is the extended attribute of the data set.
	AttrDepartment = "department"
)

// Canonical returns the data set every source is tested with: a user in two
// groups, a user in no group, a user with a non-email username, names and a
// group outside ASCII, a user without the extended attribute, and a service
// account.
func Canonical() Data {
	return Data{
		Groups: []string{GroupDesign, GroupMarketing, GroupCafe},
		Users: []User{
			{Email: "ana.ruiz@example.org", Type: core.FederatedID, Firstname: "Ana", Lastname: "Ruiz", Country: "ES",
				Groups: []string{GroupDesign, GroupMarketing}, Extended: map[string]string{AttrDepartment: "Design"}},
			{Email: "bo.lind@example.org", Type: core.FederatedID, Firstname: "Bo", Lastname: "Lindqvist", Country: "SE",
				Groups: []string{GroupDesign}, Extended: map[string]string{AttrDepartment: "Product"}},
			{Email: "zoe.orsted@example.org", Username: "zoe.orsted", Domain: "example.org", Type: core.FederatedID,
				Firstname: "Zoë", Lastname: "Ørsted", Country: "DK",
				Groups: []string{GroupCafe}, Extended: map[string]string{AttrDepartment: "Ventes"}},
			{Email: "wei.li@example.org", Type: core.FederatedID, Firstname: "伟", Lastname: "李", Country: "CN",
				Groups: []string{GroupMarketing, GroupCafe}},
			{Email: "nils.nobody@example.org", Type: core.FederatedID, Firstname: "Nils", Lastname: "Nobody", Country: "NO",
				Extended: map[string]string{AttrDepartment: "Ops"}},
			{Email: "svc-backup@example.org", Type: core.FederatedID, Firstname: "Backup", Lastname: "Service", Country: "US",
				Groups: []string{GroupDesign}, Service: true},
		},
	}
}

// Run runs the conformance suite against the sources h builds.
func Run(t *testing.T, h Harness) {
	t.Helper()
	data := Canonical()
	f := h.Features()

	queries := []struct {
		name    string
		q       core.SourceQuery
		missing []string
		needAll bool
	}{
		{name: "all users, no groups", q: core.SourceQuery{AllUsers: true}, needAll: true},
		{name: "all users with groups", q: core.SourceQuery{AllUsers: true, Groups: []string{GroupDesign, GroupCafe}}, needAll: true},
		{name: "one group", q: core.SourceQuery{Groups: []string{GroupDesign}}},
		{name: "two groups sharing a user", q: core.SourceQuery{Groups: []string{GroupDesign, GroupMarketing}}},
		{name: "non-ASCII group", q: core.SourceQuery{Groups: []string{GroupCafe}}},
		{name: "missing group", q: core.SourceQuery{Groups: []string{GroupMarketing, GroupMissing}}, missing: []string{GroupMissing}},
		{name: "only a missing group", q: core.SourceQuery{Groups: []string{GroupMissing}}, missing: []string{GroupMissing}},
	}

	// The source is built once, on the parent test, so that servers the
	// harness starts live until every subtest is done.
	src := h.NewSource(t, data)
	if src == nil {
		t.Fatal("harness returned a nil source")
	}
	source := func(*testing.T) core.Source { return src }

	for _, tc := range queries {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needAll && !f.AllUsers {
				t.Skip("source cannot enumerate all users")
			}
			rep := &Recorder{}
			got, err := source(t).Users(context.Background(), tc.q, rep)
			if err != nil {
				t.Fatalf("Users(%+v): %v", tc.q, err)
			}
			checkResult(t, data, tc.q, got)
			if diff := cmp.Diff(sorted(tc.missing), sorted(got.MissingGroups)); diff != "" {
				t.Errorf("Users(%+v).MissingGroups differ (-want +got):\n%s", tc.q, diff)
			}
			checkProgress(t, rep)
		})
	}

	t.Run("extended attributes", func(t *testing.T) {
		if !f.ExtendedAttributes {
			t.Skip("source has no extended attributes")
		}
		q := core.SourceQuery{Groups: []string{GroupDesign, GroupMarketing, GroupCafe}, ExtendedAttributes: []string{AttrDepartment}}
		got, err := source(t).Users(context.Background(), q, &Recorder{})
		if err != nil {
			t.Fatalf("Users(%+v): %v", q, err)
		}
		checkResult(t, data, q, got)
		for _, u := range got.Users {
			want := expected(data, u.Email)
			if want == nil {
				continue
			}
			v, ok := want.Extended[AttrDepartment]
			gotV, gotOK := attrString(u.Attributes[AttrDepartment])
			switch {
			case !ok && u.Attributes[AttrDepartment] != nil:
				t.Errorf("user %s: Attributes[%q] = %#v; want nil", u.Email, AttrDepartment, u.Attributes[AttrDepartment])
			case ok && (!gotOK || gotV != v):
				t.Errorf("user %s: Attributes[%q] = %#v; want %q", u.Email, AttrDepartment, u.Attributes[AttrDepartment], v)
			}
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		q := core.SourceQuery{AllUsers: f.AllUsers, Groups: []string{GroupDesign}}
		got, err := source(t).Users(ctx, q, &Recorder{})
		if err == nil {
			t.Fatalf("Users with a cancelled context = %d users, no error; want an error", len(got.Users))
		}
		if !errors.Is(err, context.Canceled) && core.Code(err) != core.CodeCanceled {
			t.Errorf("Users with a cancelled context: error %q is neither context.Canceled nor core.CodeCanceled", err)
		}
	})

	t.Run("unreadable input", func(t *testing.T) {
		s := h.Unreadable(t)
		q := core.SourceQuery{AllUsers: f.AllUsers, Groups: []string{GroupDesign}}
		got, err := s.Users(context.Background(), q, &Recorder{})
		if err == nil {
			t.Fatalf("Users on unreadable input = %d users, no error; want an error", len(got.Users))
		}
		if len(got.Users) != 0 {
			t.Errorf("Users on unreadable input returned %d users along with the error; want none", len(got.Users))
		}
	})
}

// view is the part of a DirectoryUser the suite compares.
type view struct {
	Email, Username, Domain string
	Type                    core.IdentityType
	Firstname, Lastname     string
	Country                 string
	RequestedGroups         []string
}

func checkResult(t *testing.T, d Data, q core.SourceQuery, got core.DirectoryResult) {
	t.Helper()
	requested := map[string]bool{}
	for _, g := range q.Groups {
		requested[g] = true
	}
	var want []view
	for _, u := range d.Users {
		if u.Service {
			continue
		}
		in := false
		for _, g := range u.Groups {
			in = in || requested[g]
		}
		if !q.AllUsers && !in {
			continue
		}
		want = append(want, viewOf(u.Email, u.Username, u.Domain, u.Type, u.Firstname, u.Lastname, u.Country, u.Groups, requested))
	}
	var have []view
	for _, u := range got.Users {
		have = append(have, viewOf(u.Email, u.Username, u.Domain, u.Type, u.Firstname, u.Lastname, u.Country, u.Groups, requested))
		if u.Origin == "" {
			t.Errorf("user %s has no Origin", u.Email)
		}
		for i, g := range u.Groups {
			if slices.Contains(u.Groups[:i], g) {
				t.Errorf("user %s lists group %q twice", u.Email, g)
			}
		}
		if exp := expected(d, u.Email); exp != nil {
			for _, g := range u.Groups {
				if !slices.Contains(exp.Groups, g) {
					t.Errorf("user %s reported in group %q, which it is not a member of", u.Email, g)
				}
			}
		}
	}
	byEmail := func(a, b view) int { return strings.Compare(a.Email, b.Email) }
	slices.SortFunc(want, byEmail)
	slices.SortFunc(have, byEmail)
	if diff := cmp.Diff(want, have); diff != "" {
		t.Errorf("Users(%+v) differ (-want +got):\n%s", q, diff)
	}
}

func viewOf(email, username, domain string, typ core.IdentityType, first, last, country string, groups []string, requested map[string]bool) view {
	if username == "" {
		username = email
	}
	if strings.Contains(username, "@") {
		domain = "" // not part of the user key then (UST §3.3)
	}
	var rg []string
	for _, g := range groups {
		if requested[g] && !slices.Contains(rg, g) {
			rg = append(rg, g)
		}
	}
	return view{Email: email, Username: username, Domain: domain, Type: typ, Firstname: first, Lastname: last,
		Country: country, RequestedGroups: sorted(rg)}
}

func expected(d Data, email string) *User {
	for i := range d.Users {
		if d.Users[i].Email == email {
			return &d.Users[i]
		}
	}
	return nil
}

func attrString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []string:
		if len(v) == 1 {
			return v[0], true
		}
	}
	return "", false
}

func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// checkProgress checks the directory progress contract on what a Recorder
// received.
func checkProgress(t *testing.T, r *Recorder) {
	t.Helper()
	progress := r.Reports()
	if len(progress) == 0 {
		t.Error("no progress was reported")
		return
	}
	last := progress[len(progress)-1]
	if last.Phase != core.PhaseDirectory || !last.Done {
		t.Errorf("last progress report = %+v; want phase %q with Done set", last, core.PhaseDirectory)
	}
}
