package adobeconsole

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
)

// fakeTarget is an in-memory org. Send fails the test: the source org is
// only ever read.
type fakeTarget struct {
	t       *testing.T
	users   []core.AdobeUser
	groups  []core.AdobeGroup
	err     error
	queries []core.AdobeQuery
}

func (f *fakeTarget) Users(ctx context.Context, q core.AdobeQuery, r core.Reporter) ([]core.AdobeUser, error) {
	f.queries = append(f.queries, q)
	if f.err != nil {
		return nil, f.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Progress(core.Progress{Phase: core.PhaseAdobe, Org: "primary", Users: len(f.users), Pages: 1, Done: true})
	return f.users, nil
}

func (f *fakeTarget) Groups(ctx context.Context, r core.Reporter) ([]core.AdobeGroup, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.groups, nil
}

func (f *fakeTarget) Send(context.Context, core.ActionRequest, core.Reporter) (core.ActionResponse, error) {
	f.t.Fatalf("Send called on the source org")
	return core.ActionResponse{}, nil
}

type recorder struct {
	mu       sync.Mutex
	progress []core.Progress
}

func (r *recorder) Progress(p core.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, p)
}
func (r *recorder) Throttled(core.ThrottleWait)  {}
func (r *recorder) ChangeDone(core.ChangeResult) {}

func fixture(t *testing.T) *fakeTarget {
	return &fakeTarget{
		t: t,
		groups: []core.AdobeGroup{
			{Name: "Design Team", Type: "USER_GROUP"}, {Name: "All Apps", Type: "PRODUCT_PROFILE"}, {Name: "_org_admin"},
		},
		users: []core.AdobeUser{
			{Type: core.FederatedID, Email: "ana@example.org", Username: "ana@example.org", Domain: "example.org",
				Firstname: "Ana", Lastname: "Ruiz", Country: "ES", Groups: []string{"Design Team", "_org_admin"}},
			{Type: core.EnterpriseID, Email: "bo@example.org", Username: "bo", Domain: "example.org",
				Firstname: "Bo", Country: "SE", Groups: []string{"design team", "All Apps"}},
			{Type: core.AdobeID, Email: "cy@gmail.example", Username: "cy@gmail.example", Groups: []string{"All Apps"}},
			{Type: core.FederatedID, Email: "dee@example.org", Username: "dee@example.org", Domain: "example.org"},
			{Type: "unknownID", Email: "odd@example.org", Username: "odd@example.org", Groups: []string{"Design Team"}},
		},
	}
}

func emails(users []core.DirectoryUser) []string {
	var out []string
	for _, u := range users {
		out = append(out, u.Email)
	}
	return out
}

func TestUsers(t *testing.T) {
	tests := []struct {
		name        string
		filter      core.IdentityType
		q           core.SourceQuery
		wantEmails  []string
		wantMissing []string
	}{
		{name: "members of a group, case-insensitive", q: core.SourceQuery{Groups: []string{"DESIGN TEAM"}},
			wantEmails: []string{"ana@example.org", "bo@example.org"}},
		{name: "two groups", q: core.SourceQuery{Groups: []string{"Design Team", "all apps", "Gone"}},
			wantEmails: []string{"ana@example.org", "bo@example.org", "cy@gmail.example"}, wantMissing: []string{"Gone"}},
		{name: "all users", q: core.SourceQuery{AllUsers: true},
			wantEmails: []string{"ana@example.org", "bo@example.org", "cy@gmail.example", "dee@example.org"}},
		{name: "identity type filter", filter: core.FederatedID, q: core.SourceQuery{AllUsers: true, Groups: []string{"All Apps"}},
			wantEmails: []string{"ana@example.org", "dee@example.org"}},
		{name: "only a missing group", q: core.SourceQuery{Groups: []string{"Gone"}}, wantMissing: []string{"Gone"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := fixture(t)
			src := New(Config{OrgID: "SRC@AdobeOrg", IdentityTypeFilter: tc.filter}, ft, nil)
			rec := &recorder{}
			got, err := src.Users(context.Background(), tc.q, rec)
			if err != nil {
				t.Fatalf("Users: %v", err)
			}
			if diff := cmp.Diff(tc.wantEmails, emails(got.Users)); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMissing, got.MissingGroups); diff != "" {
				t.Errorf("MissingGroups (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]core.AdobeQuery{{All: true}}, ft.queries); diff != "" {
				t.Errorf("target queries (-want +got):\n%s", diff)
			}
			last := rec.progress[len(rec.progress)-1]
			if last.Phase != core.PhaseDirectory || !last.Done {
				t.Errorf("last progress = %+v; want directory, done", last)
			}
			for _, p := range rec.progress[:len(rec.progress)-1] {
				if p.Phase != core.PhaseDirectory || p.Done {
					t.Errorf("forwarded progress = %+v; want directory phase, not done", p)
				}
			}
		})
	}
}

func TestUsersConvertsAndReportsGroups(t *testing.T) {
	src := New(Config{OrgID: "SRC@AdobeOrg"}, fixture(t), nil)
	got, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design Team", "design TEAM", "All Apps"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := core.DirectoryUser{
		Type: core.EnterpriseID, Email: "bo@example.org", Username: "bo", Domain: "example.org", Firstname: "Bo", Country: "SE",
		Groups:       []string{"Design Team", "design TEAM", "All Apps"},
		MemberGroups: []string{"design team", "All Apps"},
		Origin:       "adobe org SRC@AdobeOrg user bo",
		Attributes: map[string]any{"email": "bo@example.org", "type": "enterpriseID", "username": "bo", "domain": "example.org",
			"firstname": "Bo", "lastname": nil, "country": "SE"},
	}
	if diff := cmp.Diff(want, got.Users[1]); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
}

func TestUsersErrorsAreNeverShortLists(t *testing.T) {
	ft := fixture(t)
	ft.err = &core.Error{Code: core.CodeUnavailable, Op: "umapi users page 3", Err: errors.New("503")}
	got, err := New(Config{OrgID: "SRC@AdobeOrg"}, ft, nil).Users(context.Background(), core.SourceQuery{AllUsers: true}, nil)
	if core.Code(err) != core.CodeUnavailable || !strings.Contains(err.Error(), "SRC@AdobeOrg") || len(got.Users) != 0 {
		t.Fatalf("Users() = %d users, %v; want an unavailable error naming the org and no users", len(got.Users), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ft.err = nil
	if _, err := New(Config{}, ft, nil).Users(ctx, core.SourceQuery{AllUsers: true}, nil); core.Code(err) != core.CodeCanceled {
		t.Errorf("cancelled Users() error = %v; want canceled", err)
	}
}

func TestUsersWarnsAboutExtendedAttributes(t *testing.T) {
	var logs strings.Builder
	src := New(Config{OrgID: "SRC@AdobeOrg"}, fixture(t), slog.New(slog.NewTextHandler(&logs, nil)))
	got, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Design Team"}, ExtendedAttributes: []string{"department"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "extended attributes are not supported") {
		t.Errorf("log = %q; want the extended-attributes warning", logs.String())
	}
	if !strings.Contains(logs.String(), "invalid identity type") {
		t.Errorf("log = %q; want the skipped user with an invalid type", logs.String())
	}
	for _, u := range got.Users {
		if _, ok := u.Attributes["department"]; ok {
			t.Errorf("user %s has a department attribute", u.Email)
		}
	}
}
