package hook_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/hook"
)

// TestBuildPlanWithDocumentationExample runs the documentation's hook
// through the planner: a new user whose bc attribute starts with "US" is
// created with country US and added to the hook's extended group as well
// as the mapped one.
func TestBuildPlanWithDocumentationExample(t *testing.T) {
	h, err := hook.Compile("extension-config.yml", 8, docExample, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := &core.Snapshot{
		Directory: core.DirectoryResult{Users: []core.DirectoryUser{
			{Type: core.FederatedID, Email: "ana@example.org", Username: "ana@example.org", Firstname: "Ana", Lastname: "Ruiz",
				Groups: []string{"Design"}, Attributes: map[string]any{"bc": "US-1234", "subco": "West"}},
			{Type: core.FederatedID, Email: "bo@example.org", Username: "bo@example.org", Firstname: "Bo", Lastname: "Lind",
				Country: "SE", Groups: []string{"Design"}, Attributes: map[string]any{"bc": nil, "subco": nil}},
		}},
		Adobe: map[string]core.OrgSnapshot{core.PrimaryOrg: {
			Groups: []core.AdobeGroup{{Name: "Design Team", Type: "USER_GROUP"}, {Name: "Undefined subco", Type: "USER_GROUP"}},
			Query:  core.AdobeQuery{All: true},
		}},
	}
	opts := &core.Options{
		Strategy: core.StrategySync, Users: core.UsersAll, AdobeUsers: core.AdobeUsersAll,
		ProcessGroups: true, AdobeOnlyAction: core.AdobeOnlyPreserve,
		DefaultIdentityType: core.FederatedID,
		GroupMapping:        []core.GroupMapping{{DirectoryGroup: "Design", AdobeGroups: []string{"Design Team"}}},
		Hook:                h, ExtendedAttributes: []string{"bc", "subco"},
		ExtendedAdobeGroups: []string{"Undefined subco"},
	}
	plan, err := core.BuildPlan(context.Background(), snap, opts)
	if err != nil {
		t.Fatalf("BuildPlan: %v", err)
	}
	type summary struct {
		country string
		groups  []string
	}
	got := map[string]*summary{}
	for _, c := range plan.Changes {
		email := c.User.Email
		if email == "" {
			email = c.User.User
		}
		s := got[email]
		if s == nil {
			s = &summary{}
			got[email] = s
		}
		switch c.Action {
		case core.ActionCreate:
			for _, a := range c.Attrs {
				if a.Name == "country" {
					s.country = a.After
				}
			}
		case core.ActionAddGroups:
			s.groups = append(s.groups, c.Groups...)
		}
	}
	ana, bo := got["ana@example.org"], got["bo@example.org"]
	if ana == nil || bo == nil {
		t.Fatalf("plan has changes for %v; want changes for both users:\n%+v", keys(got), plan.Changes)
	}
	slices.Sort(ana.groups)
	if ana.country != "US" || !slices.Equal(ana.groups, []string{"design team", "undefined subco"}) {
		t.Errorf("ana: country %q, groups %q; want US and [design team undefined subco]", ana.country, ana.groups)
	}
	if bo.country != "SE" || !slices.Equal(bo.groups, []string{"design team"}) {
		t.Errorf("bo: country %q, groups %q; want SE and [design team]", bo.country, bo.groups)
	}
}

// TestBuildPlanHookError checks that a hook failing for one user stops the
// plan with an error naming the extension file and line.
func TestBuildPlanHookError(t *testing.T) {
	h, err := hook.Compile("extension-config.yml", 8, "x = source_attributes['bc'].upper()\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := &core.Snapshot{
		Directory: core.DirectoryResult{Users: []core.DirectoryUser{
			{Type: core.FederatedID, Email: "ana@example.org", Attributes: map[string]any{"bc": "x"}},
			{Type: core.FederatedID, Email: "bo@example.org", Attributes: map[string]any{"bc": nil}},
		}},
		Adobe: map[string]core.OrgSnapshot{core.PrimaryOrg: {Query: core.AdobeQuery{All: true}}},
	}
	opts := &core.Options{Strategy: core.StrategySync, Users: core.UsersAll, AdobeUsers: core.AdobeUsersAll,
		DefaultIdentityType: core.FederatedID, Hook: h}
	plan, err := core.BuildPlan(context.Background(), snap, opts)
	if err == nil {
		t.Fatalf("BuildPlan = %d changes, no error; want the hook's error", len(plan.Changes))
	}
	for _, want := range []string{"bo@example.org", "extension-config.yml:8:", "has no .upper field or method"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("BuildPlan error = %q; want it to contain %q", err, want)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
