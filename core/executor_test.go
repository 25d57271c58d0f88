package core

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeTarget answers every request with respond (or plain success) and
// records what it was sent.
type fakeTarget struct {
	mu      sync.Mutex
	reqs    []ActionRequest
	respond func(n int, req ActionRequest) (ActionResponse, error)
	onSend  func(n int)
	// wait, when set, is called with the reporter Send was given, as a
	// target that waits reports it.
	wait func(n int, r Reporter)
}

func (f *fakeTarget) Users(context.Context, AdobeQuery, Reporter) ([]AdobeUser, error) {
	return nil, nil
}

func (f *fakeTarget) Groups(context.Context, Reporter) ([]AdobeGroup, error) { return nil, nil }

func (f *fakeTarget) Send(_ context.Context, req ActionRequest, r Reporter) (ActionResponse, error) {
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.wait != nil {
		f.wait(n, r)
	}
	if f.onSend != nil {
		f.onSend(n)
	}
	if f.respond != nil {
		return f.respond(n, req)
	}
	return ActionResponse{Result: "success", Completed: len(req.Commands)}, nil
}

// planOf numbers the changes and returns a plan over the primary org.
func planOf(userGroups []string, changes ...Change) *Plan {
	p := &Plan{Orgs: []string{PrimaryOrg}, UserGroups: map[string][]string{PrimaryOrg: userGroups}}
	for i, c := range changes {
		c.ID = i
		if c.Org == "" {
			c.Org = PrimaryOrg
		}
		p.Changes = append(p.Changes, c)
	}
	return p
}

func fed(email string) UserRef {
	return UserRef{User: email, Type: FederatedID, Email: email}
}

func TestBuildRequestsOneCommandPerUser(t *testing.T) {
	u := fed("ana@example.org")
	p := planOf(nil,
		Change{Action: ActionAddGroups, User: u, Groups: []string{"all apps", "acrobat"}},
		Change{Action: ActionCreate, User: u, Attrs: []AttrChange{{Name: "email", After: u.Email},
			{Name: "firstname", After: "Ana"}, {Name: "country", After: "ES"}}},
		Change{Action: ActionUpdate, User: fed("bo@example.org"), Attrs: []AttrChange{{Name: "lastname", Before: "B", After: "Bo"},
			{Name: "country", After: "FR"}}},
		Change{Action: ActionRemoveGroups, User: fed("bo@example.org"), Groups: []string{"old"}},
		Change{Action: ActionDelete, User: fed("cy@example.org")},
		Change{Action: ActionRemoveAllGroups, User: fed("dee@example.org")},
	)
	got := BuildRequests(p, nil)
	want := []PackedRequest{{
		Org: PrimaryOrg,
		Request: ActionRequest{SyncStart: true, Commands: []Command{
			{User: "ana@example.org", RequestID: "action_1", Steps: []Step{
				{Kind: StepCreateFederatedID, Attrs: map[string]string{"email": "ana@example.org", "firstname": "Ana", "country": "ES"}, Option: OptionIgnoreIfExists},
				{Kind: StepAdd, Groups: []string{"all apps", "acrobat"}},
			}},
			{User: "bo@example.org", RequestID: "action_2", Steps: []Step{
				{Kind: StepUpdate, Attrs: map[string]string{"lastname": "Bo"}},
				{Kind: StepRemove, Groups: []string{"old"}},
			}},
			{User: "cy@example.org", RequestID: "action_3", Steps: []Step{{Kind: StepRemoveFromOrg, DeleteAccount: true}}},
			{User: "dee@example.org", RequestID: "action_4", Steps: []Step{{Kind: StepRemove, All: true}}},
		}},
		Carries: [][][]int{{{1}, {0}}, {{2}, {3}}, {{4}}, {{5}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BuildRequests mismatch (-want +got):\n%s", diff)
	}
}

func TestBuildRequestsSplitsLongCommands(t *testing.T) {
	var groups []string
	for i := range 105 {
		groups = append(groups, fmt.Sprintf("profile %03d", i))
	}
	u := fed("ana@example.org")
	p := planOf(nil,
		Change{Action: ActionCreate, User: u, Attrs: []AttrChange{{Name: "email", After: u.Email}, {Name: "country", After: "ES"}}},
		Change{Action: ActionAddGroups, User: u, Groups: groups},
	)
	got := BuildRequests(p, nil)
	// 1 create + 11 add steps = 12 steps: two commands; the second must not
	// share a request with the create, whose order the server does not keep.
	if len(got) != 2 {
		t.Fatalf("BuildRequests made %d requests; want 2", len(got))
	}
	first, second := got[0].Request.Commands, got[1].Request.Commands
	if len(first) != 1 || len(first[0].Steps) != 10 || first[0].Steps[0].Kind != StepCreateFederatedID {
		t.Errorf("first request = %+v; want one command of 10 steps starting with the create", first)
	}
	if len(second) != 1 || len(second[0].Steps) != 2 || second[0].User != u.User || second[0].RequestID != first[0].RequestID {
		t.Errorf("second request = %+v; want the 2-step continuation with the same root", second)
	}
	for _, c := range append(first, second...) {
		for _, s := range c.Steps {
			if len(s.Groups) > MaxEntriesPerList {
				t.Errorf("step has %d groups; want at most %d", len(s.Groups), MaxEntriesPerList)
			}
		}
	}
}

// TestBuildRequestsUserGroupFanIn: 5,000 existing users each joining the
// same 3 user groups. Each (user, group) pair must appear in some list; a
// list holds at most 10 entries and a command at most 10 steps, so a
// command carries at most 100 pairs: 15,000 pairs need at least 150
// commands, and 10 commands a request make the minimum 15 requests. Packing
// per user would need 5,000 commands, 500 requests.
func TestBuildRequestsUserGroupFanIn(t *testing.T) {
	const users, minimum = 5000, 15
	var changes []Change
	for i := range users {
		changes = append(changes, Change{Action: ActionAddGroups, User: fed(fmt.Sprintf("u%04d@example.org", i)),
			Groups: []string{"design", "marketing", "all staff"}})
	}
	p := planOf([]string{"design", "marketing", "all staff", "other"}, changes...)
	got := BuildRequests(p, nil)
	if len(got) != minimum {
		t.Errorf("BuildRequests sent %d requests; want the minimum %d", len(got), minimum)
	}
	members := map[string]map[string]bool{}
	for _, r := range got {
		for i, c := range r.Request.Commands {
			if c.UserGroup == "" || c.User != "" {
				t.Fatalf("command %+v is not usergroup-rooted", c)
			}
			for j, s := range c.Steps {
				if s.Kind != StepAdd || len(s.Users) == 0 || len(s.Users) > MaxEntriesPerList {
					t.Fatalf("step %+v is not an add of 1..10 users", s)
				}
				if len(r.Carries[i][j]) != len(s.Users) {
					t.Errorf("step carries %d changes for %d users", len(r.Carries[i][j]), len(s.Users))
				}
				if members[c.UserGroup] == nil {
					members[c.UserGroup] = map[string]bool{}
				}
				for _, u := range s.Users {
					members[c.UserGroup][u] = true
				}
			}
		}
	}
	for _, g := range []string{"design", "marketing", "all staff"} {
		if len(members[g]) != users {
			t.Errorf("group %q gains %d users; want %d", g, len(members[g]), users)
		}
	}
}

func TestBuildRequestsUserGroupOnlyWhenCheaper(t *testing.T) {
	tests := []struct {
		name       string
		userGroups []string
		changes    []Change
		wantRoots  []string // "u:" or "g:" plus the root, in order
	}{{
		name:       "one user, several groups: a user command",
		userGroups: []string{"a", "b", "c"},
		changes:    []Change{{Action: ActionAddGroups, User: fed("x@e.org"), Groups: []string{"a", "b", "c"}}},
		wantRoots:  []string{"u:x@e.org"},
	}, {
		name:       "product profiles are never usergroup roots",
		userGroups: nil,
		changes: []Change{
			{Action: ActionAddGroups, User: fed("x@e.org"), Groups: []string{"all apps"}},
			{Action: ActionAddGroups, User: fed("y@e.org"), Groups: []string{"all apps"}},
			{Action: ActionAddGroups, User: fed("z@e.org"), Groups: []string{"all apps"}},
		},
		wantRoots: []string{"u:x@e.org", "u:y@e.org", "u:z@e.org"},
	}, {
		name:       "three users into one user group: one usergroup command",
		userGroups: []string{"a"},
		changes: []Change{
			{Action: ActionAddGroups, User: fed("x@e.org"), Groups: []string{"a"}},
			{Action: ActionAddGroups, User: fed("y@e.org"), Groups: []string{"a"}},
			{Action: ActionRemoveGroups, User: fed("z@e.org"), Groups: []string{"a"}},
		},
		wantRoots: []string{"g:a"},
	}, {
		name:       "new users keep their memberships after their create",
		userGroups: []string{"a"},
		changes: []Change{
			{Action: ActionCreate, User: fed("x@e.org"), Attrs: []AttrChange{{Name: "country", After: "US"}}},
			{Action: ActionAddGroups, User: fed("x@e.org"), Groups: []string{"a"}},
			{Action: ActionAddGroups, User: fed("y@e.org"), Groups: []string{"a"}},
			{Action: ActionAddGroups, User: fed("z@e.org"), Groups: []string{"a"}},
		},
		wantRoots: []string{"u:x@e.org", "g:a"},
	}, {
		name:       "useAdobeID users stay user-rooted",
		userGroups: []string{"a"},
		changes: []Change{
			{Action: ActionAddGroups, User: UserRef{User: "x@e.org", Email: "x@e.org", UseAdobeID: true, Type: AdobeID}, Groups: []string{"a"}},
			{Action: ActionAddGroups, User: fed("y@e.org"), Groups: []string{"a"}},
			{Action: ActionAddGroups, User: fed("z@e.org"), Groups: []string{"a"}},
		},
		wantRoots: []string{"u:x@e.org", "g:a"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range BuildRequests(planOf(tt.userGroups, tt.changes...), nil) {
				for _, c := range r.Request.Commands {
					if c.User != "" {
						got = append(got, "u:"+c.User)
					} else {
						got = append(got, "g:"+c.UserGroup)
					}
				}
			}
			if diff := cmp.Diff(tt.wantRoots, got); diff != "" {
				t.Errorf("command roots mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRequestsCreatedGroupsFirst(t *testing.T) {
	var changes []Change
	changes = append(changes, Change{Action: ActionCreateGroup, Group: "New Team", Key: "new team"})
	for i := range 12 {
		u := fed(fmt.Sprintf("n%02d@e.org", i))
		changes = append(changes,
			Change{Action: ActionCreate, User: u, Attrs: []AttrChange{{Name: "country", After: "US"}}},
			Change{Action: ActionAddGroups, User: u, Groups: []string{"new team"}})
	}
	changes = append(changes, Change{Action: ActionUpdate, User: fed("old@e.org"), Attrs: []AttrChange{{Name: "firstname", After: "O"}}})
	got := BuildRequests(planOf(nil, changes...), nil)
	if len(got) != 3 {
		t.Fatalf("BuildRequests made %d requests; want 3", len(got))
	}
	r0 := got[0].Request.Commands
	if r0[0].UserGroup != "New Team" || r0[0].Steps[0].Kind != StepCreateUserGroup || r0[0].Steps[0].Option != OptionIgnoreIfExists {
		t.Errorf("first command = %+v; want the createUserGroup", r0[0])
	}
	// The update does not depend on the new group and may share its request;
	// the new users may not.
	if len(r0) != 2 || r0[1].User != "old@e.org" {
		t.Errorf("first request = %+v; want the group creation and the unrelated update", r0)
	}
	if !got[0].Request.SyncStart || got[0].Request.SyncEnd || !got[2].Request.SyncEnd || got[1].Request.SyncStart {
		t.Errorf("sync signals: %v/%v, %v/%v, %v/%v; want start on the first request and end on the last",
			got[0].Request.SyncStart, got[0].Request.SyncEnd, got[1].Request.SyncStart, got[1].Request.SyncEnd,
			got[2].Request.SyncStart, got[2].Request.SyncEnd)
	}
}

func TestBuildRequestsOrgOrderAndExclusions(t *testing.T) {
	p := &Plan{Orgs: []string{"sec", PrimaryOrg}, TestMode: true}
	for i, org := range []string{PrimaryOrg, "sec", PrimaryOrg} {
		p.Changes = append(p.Changes, Change{ID: i, Org: org, Action: ActionRemoveFromOrg, User: fed(fmt.Sprintf("u%d@e.org", i))})
	}
	got := BuildRequests(p, map[int]bool{2: true})
	var orgs []string
	for _, r := range got {
		orgs = append(orgs, r.Org)
		if !r.Request.TestOnly {
			t.Errorf("request for %s is not test-only in a test-mode plan", r.Org)
		}
	}
	if diff := cmp.Diff([]string{"sec", PrimaryOrg}, orgs); diff != "" {
		t.Errorf("org order mismatch (-want +got):\n%s", diff)
	}
	if ids := got[1].ChangeIDs(); !slices.Equal(ids, []int{0}) {
		t.Errorf("primary request carries %v; want [0] (2 is excluded)", ids)
	}
}

type recReporter struct {
	mu       sync.Mutex
	done     []ChangeResult
	progress []Progress
}

func (r *recReporter) Progress(p Progress) {
	r.mu.Lock()
	r.progress = append(r.progress, p)
	r.mu.Unlock()
}
func (r *recReporter) Throttled(ThrottleWait) {}
func (r *recReporter) ChangeDone(c ChangeResult) {
	r.mu.Lock()
	r.done = append(r.done, c)
	r.mu.Unlock()
}

type recJournal struct {
	events []string
}

func (j *recJournal) Sending(seq int, org string, req ActionRequest, ids []int) error {
	j.events = append(j.events, fmt.Sprintf("sending %d %s %v", seq, org, ids))
	return nil
}

func (j *recJournal) Sent(seq int, results []ChangeResult) error {
	var s []string
	for _, r := range results {
		s = append(s, fmt.Sprintf("%d:%s", r.ChangeID, r.Outcome))
	}
	j.events = append(j.events, fmt.Sprintf("sent %d %v", seq, s))
	return nil
}

func TestApplyMapsErrorsToChanges(t *testing.T) {
	p := planOf([]string{"team"},
		Change{Action: ActionCreate, User: fed("a@e.org"), Attrs: []AttrChange{{Name: "country", After: "US"}}},  // 0
		Change{Action: ActionAddGroups, User: fed("a@e.org"), Groups: []string{"missing"}},                       // 1
		Change{Action: ActionRemoveFromOrg, User: fed("b@e.org")},                                                // 2
		Change{Action: ActionAddGroups, User: fed("c@e.org"), Groups: []string{"team"}},                          // 3
		Change{Action: ActionAddGroups, User: fed("d@e.org"), Groups: []string{"team"}},                          // 4
		Change{Action: ActionAddGroups, User: fed("f@e.org"), Groups: []string{"team"}},                          // 5
		Change{Action: ActionUpdate, User: fed("g@e.org"), Attrs: []AttrChange{{Name: "firstname", After: "G"}}}, // 6
		Change{Action: ActionAddGroups, User: fed("g@e.org"), Groups: []string{"x"}},                             // 7
		Change{Action: ActionCreate, User: UserRef{User: "h@e.org"}},                                             // 8: no type
	)
	ft := &fakeTarget{respond: func(n int, req ActionRequest) (ActionResponse, error) {
		if n == 1 {
			// The usergroup failure resent user by user: only c fails.
			if len(req.Commands) != 3 || req.Commands[0].User != "c@e.org" {
				t.Errorf("resend = %+v; want user commands for c, d and f", req.Commands)
			}
			return ActionResponse{Result: "partial", Completed: 2, NotCompleted: 1, Errors: []ActionIssue{
				{Index: 0, Step: 0, Code: "error.usergroup.readonly.add_user_not_allowed", Message: "read-only"}}}, nil
		}
		// Commands: a (create, add), b, g (update, add), usergroup team.
		return ActionResponse{Result: "partial", Completed: 1, NotCompleted: 3, Errors: []ActionIssue{
			{Index: 0, Step: 1, Code: "error.group.not_found", Message: "Group missing was not found"},
			{Index: 2, Step: 0, Code: "error.user.not_found", Message: "no such user"},
			{Index: 3, Step: 0, Code: "error.usergroup.readonly.add_user_not_allowed", Message: "read-only"},
		}, Warnings: []ActionIssue{{Index: 1, Step: 0, Code: "warning.x", Message: "careful"}}}, nil
	}}
	rep := &recReporter{}
	j := &recJournal{}
	res, err := Apply(context.Background(), p, map[string]Target{PrimaryOrg: ft}, ApplyOptions{Reporter: rep, Journal: j})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []ChangeResult{
		{ChangeID: 0, Org: PrimaryOrg, Outcome: OutcomeSucceeded},
		{ChangeID: 1, Org: PrimaryOrg, Outcome: OutcomeFailed, Code: "error.group.not_found", Message: "Group missing was not found"},
		{ChangeID: 2, Org: PrimaryOrg, Outcome: OutcomeSucceeded, Warnings: []string{"warning.x: careful"}},
		{ChangeID: 3, Org: PrimaryOrg, Outcome: OutcomeFailed, Code: "error.usergroup.readonly.add_user_not_allowed", Message: "read-only"},
		{ChangeID: 4, Org: PrimaryOrg, Outcome: OutcomeSucceeded},
		{ChangeID: 5, Org: PrimaryOrg, Outcome: OutcomeSucceeded},
		{ChangeID: 6, Org: PrimaryOrg, Outcome: OutcomeFailed, Code: "error.user.not_found", Message: "no such user"},
		{ChangeID: 7, Org: PrimaryOrg, Outcome: OutcomeFailed, Code: ResultNotRun, Message: "not applied: step 0 of the same command failed first"},
		{ChangeID: 8, Org: PrimaryOrg, Outcome: OutcomeFailed, Code: "usersync.invalid_change", Message: `cannot create a user of identity type ""`},
	}
	if diff := cmp.Diff(want, res.Results); diff != "" {
		t.Errorf("Apply results mismatch (-want +got):\n%s", diff)
	}
	if len(rep.done) != len(want) {
		t.Errorf("ChangeDone called %d times; want %d", len(rep.done), len(want))
	}
	if got, want := res.Orgs[PrimaryOrg], (OrgStats{Total: 9, Success: 4, Errors: 5}); got != want {
		t.Errorf("org stats = %+v; want %+v", got, want)
	}
	last := rep.progress[len(rep.progress)-1]
	if !last.Done || last.RequestsSent != 2 || last.RequestsTotal != 2 || last.CommandsFailed != 4 || last.CommandsSucceeded != 3 {
		t.Errorf("final progress = %+v; want done, 2/2 requests, 3 commands succeeded, 4 failed", last)
	}
	wantJournal := []string{"sending 0 primary [0 1 2 3 4 5 6 7]", "sent 0 [0:succeeded 1:failed 2:succeeded 3:failed 4:failed 5:failed 6:failed 7:failed]",
		"sending 1 primary [3 4 5]", "sent 1 [3:failed 4:succeeded 5:succeeded]"}
	if diff := cmp.Diff(wantJournal, j.events); diff != "" {
		t.Errorf("journal mismatch (-want +got):\n%s", diff)
	}
}

func TestApplySkipsExcludedAndDone(t *testing.T) {
	p := planOf(nil,
		Change{Action: ActionRemoveFromOrg, User: fed("a@e.org")},
		Change{Action: ActionRemoveFromOrg, User: fed("b@e.org")},
		Change{Action: ActionRemoveFromOrg, User: fed("c@e.org")},
	)
	ft := &fakeTarget{}
	res, err := Apply(context.Background(), p, map[string]Target{PrimaryOrg: ft},
		ApplyOptions{Exclude: map[int]bool{0: true}, Done: map[int]bool{1: true}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []ChangeResult{
		{ChangeID: 0, Org: PrimaryOrg, Outcome: OutcomeSkipped, Message: "excluded"},
		{ChangeID: 2, Org: PrimaryOrg, Outcome: OutcomeSucceeded},
	}
	if diff := cmp.Diff(want, res.Results); diff != "" {
		t.Errorf("Apply results mismatch (-want +got):\n%s", diff)
	}
	if len(ft.reqs) != 1 || len(ft.reqs[0].Commands) != 1 || ft.reqs[0].Commands[0].User != "c@e.org" {
		t.Errorf("sent %+v; want one command for c@e.org", ft.reqs)
	}
}

func TestApplyCancelFinishesRequestInFlight(t *testing.T) {
	var changes []Change
	for i := range 35 {
		changes = append(changes, Change{Action: ActionRemoveFromOrg, User: fed(fmt.Sprintf("u%02d@e.org", i))})
	}
	p := planOf(nil, changes...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ft := &fakeTarget{onSend: func(n int) {
		if n == 1 {
			cancel() // during the second request
		}
	}}
	res, err := Apply(ctx, p, map[string]Target{PrimaryOrg: ft}, ApplyOptions{})
	if Code(err) != CodeCanceled {
		t.Errorf("Apply error = %v; want a canceled error", err)
	}
	if !res.Cancelled || res.Requests != 2 || len(ft.reqs) != 2 {
		t.Errorf("Cancelled=%v Requests=%d sent=%d; want cancelled after 2 requests", res.Cancelled, res.Requests, len(ft.reqs))
	}
	if len(res.Results) != 20 {
		t.Errorf("%d results; want 20 (the two requests sent)", len(res.Results))
	}
	var want []int
	for i := 20; i < 35; i++ {
		want = append(want, i)
	}
	if diff := cmp.Diff(want, res.NotSent); diff != "" {
		t.Errorf("NotSent mismatch (-want +got):\n%s", diff)
	}
}

// TestApplyCancelDuringPacing cancels while the target waits to send the
// third request (pacing to the rate limit): that request never reached
// the server, so it is not counted, and its changes are not sent.
func TestApplyCancelDuringPacing(t *testing.T) {
	var changes []Change
	for i := range 25 {
		changes = append(changes, Change{Action: ActionRemoveFromOrg, User: fed(fmt.Sprintf("u%02d@e.org", i))})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ft := &fakeTarget{respond: func(n int, req ActionRequest) (ActionResponse, error) {
		if n == 2 {
			cancel()
			return ActionResponse{}, Errorf(CodeCanceled, "umapi action", "cancelled while pacing")
		}
		return ActionResponse{Result: "success", Completed: len(req.Commands)}, nil
	}}
	res, _ := Apply(ctx, planOf(nil, changes...), map[string]Target{PrimaryOrg: ft}, ApplyOptions{})
	if !res.Cancelled || res.Requests != 2 {
		t.Errorf("Cancelled=%v Requests=%d; want cancelled with the 2 requests that reached the server", res.Cancelled, res.Requests)
	}
	if len(res.NotSent) != 5 {
		t.Errorf("NotSent = %v; want the 5 changes of the cancelled request", res.NotSent)
	}
}

func TestApplyRequestFailures(t *testing.T) {
	var changes []Change
	for i := range 25 {
		changes = append(changes, Change{Action: ActionRemoveFromOrg, User: fed(fmt.Sprintf("u%02d@e.org", i))})
	}
	t.Run("unavailable fails the request and goes on", func(t *testing.T) {
		ft := &fakeTarget{respond: func(n int, req ActionRequest) (ActionResponse, error) {
			if n == 0 {
				return ActionResponse{}, Errorf(CodeUnavailable, "umapi action", "giving up after 3 attempts")
			}
			return ActionResponse{Result: "success", Completed: len(req.Commands)}, nil
		}}
		res, err := Apply(context.Background(), planOf(nil, changes...), map[string]Target{PrimaryOrg: ft}, ApplyOptions{})
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if got, want := res.Orgs[PrimaryOrg], (OrgStats{Total: 25, Success: 15, Errors: 10}); got != want {
			t.Errorf("org stats = %+v; want %+v", got, want)
		}
		if res.Results[0].Code != ResultSendFailed {
			t.Errorf("result 0 code = %q; want %q", res.Results[0].Code, ResultSendFailed)
		}
	})
	t.Run("unauthenticated stops the run", func(t *testing.T) {
		ft := &fakeTarget{respond: func(n int, req ActionRequest) (ActionResponse, error) {
			return ActionResponse{}, Errorf(CodeUnauthenticated, "umapi action", "token refused")
		}}
		res, err := Apply(context.Background(), planOf(nil, changes...), map[string]Target{PrimaryOrg: ft}, ApplyOptions{})
		if Code(err) != CodeUnauthenticated {
			t.Errorf("Apply error = %v; want unauthenticated", err)
		}
		if len(ft.reqs) != 1 || len(res.NotSent) != 15 {
			t.Errorf("sent %d requests, NotSent %d; want 1 and 15", len(ft.reqs), len(res.NotSent))
		}
	})
	t.Run("missing target is refused before sending", func(t *testing.T) {
		_, err := Apply(context.Background(), planOf(nil, changes...), map[string]Target{}, ApplyOptions{})
		if Code(err) != CodeInvalidInput {
			t.Errorf("Apply error = %v; want invalid input", err)
		}
	})
}

func TestApplyUserGroupChangeSpreadOverRequests(t *testing.T) {
	// 150 users join groups a and b: 300 pairs, 4 usergroup commands in one
	// request; a user's change is done only when both groups are.
	var changes []Change
	for i := range 150 {
		changes = append(changes, Change{Action: ActionAddGroups, User: fed(fmt.Sprintf("u%03d@e.org", i)), Groups: []string{"a", "b"}})
	}
	p := planOf([]string{"a", "b"}, changes...)
	ft := &fakeTarget{respond: func(n int, req ActionRequest) (ActionResponse, error) {
		var errs []ActionIssue
		for i, c := range req.Commands {
			if c.UserGroup == "b" {
				errs = append(errs, ActionIssue{Index: i, Step: 0, Code: "error.usergroup.not_found", Message: "gone"})
			}
		}
		return ActionResponse{Result: "partial", Errors: errs}, nil
	}}
	rep := &recReporter{}
	res, err := Apply(context.Background(), p, map[string]Target{PrimaryOrg: ft}, ApplyOptions{Reporter: rep})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(rep.done) != 150 || len(res.Results) != 150 {
		t.Fatalf("ChangeDone %d times, %d results; want 150", len(rep.done), len(res.Results))
	}
	// Group b's commands failed for everyone; resent one user a command
	// (15 more requests), every change succeeds.
	for _, r := range res.Results {
		if r.Outcome != OutcomeSucceeded {
			t.Fatalf("change %d = %+v; want succeeded after the resend", r.ChangeID, r)
		}
	}
	if len(ft.reqs) != 16 || res.Requests != 16 {
		t.Errorf("%d requests (%d counted); want 1 + 15", len(ft.reqs), res.Requests)
	}
}

func TestEstimatePlan(t *testing.T) {
	var changes []Change
	for i := range 10000 {
		u := fed(fmt.Sprintf("u%05d@e.org", i))
		changes = append(changes, Change{Action: ActionCreate, User: u, Attrs: []AttrChange{{Name: "country", After: "US"}}})
	}
	p := planOf(nil, changes...)
	got := EstimatePlan(p, nil, RateLimit{})
	want := Estimate{Requests: 1000, Commands: 10000, PerOrg: map[string]int{PrimaryOrg: 1000}, Duration: 99 * time.Minute, RateLimit: DefaultRateLimit}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EstimatePlan mismatch (-want +got):\n%s", diff)
	}
	if got := EstimatePlan(p, nil, RateLimit{Requests: 10, Window: time.Second}).Duration; got != 99*time.Second {
		t.Errorf("EstimatePlan at 10/s = %v; want 99s", got)
	}
	if got := EstimatePlan(&Plan{}, nil, RateLimit{}); got.Requests != 0 || got.Duration != 0 {
		t.Errorf("EstimatePlan(empty) = %+v; want nothing", got)
	}
}

func BenchmarkBuildRequests(b *testing.B) {
	var changes []Change
	for i := range 100000 {
		u := fed(fmt.Sprintf("u%06d@e.org", i))
		changes = append(changes, Change{Action: ActionAddGroups, User: u, Groups: []string{"a", "b", "all apps"}})
	}
	p := planOf([]string{"a", "b"}, changes...)
	for b.Loop() {
		BuildRequests(p, nil)
	}
}

// stillClock never moves.
type stillClock struct{ t time.Time }

func (c stillClock) Now() time.Time                       { return c.t }
func (c stillClock) After(time.Duration) <-chan time.Time { return nil }

func TestApplyCoalescesProgress(t *testing.T) {
	var changes []Change
	for i := range 50 {
		changes = append(changes, Change{Action: ActionRemoveFromOrg, User: fed(fmt.Sprintf("u%02d@e.org", i))})
	}
	rep := &recReporter{}
	_, err := Apply(context.Background(), planOf(nil, changes...), map[string]Target{PrimaryOrg: &fakeTarget{}},
		ApplyOptions{Reporter: rep, Clock: stillClock{time.Unix(1e9, 0)}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	// Five requests in no time: the first report, then only the final one.
	if len(rep.progress) != 2 {
		t.Fatalf("%d progress reports; want 2: %+v", len(rep.progress), rep.progress)
	}
	if last := rep.progress[1]; !last.Done || last.RequestsSent != 5 || last.RequestsTotal != 5 || last.CommandsSucceeded != 50 {
		t.Errorf("final progress = %+v; want done with 5/5 requests and 50 commands", last)
	}
}

// tickClock never moves on its own; tick fires the pending After.
type tickClock struct {
	t    time.Time
	tick chan time.Time
}

func (c *tickClock) Now() time.Time                       { return c.t }
func (c *tickClock) After(time.Duration) <-chan time.Time { return c.tick }

// TestApplyDeliversHeldProgressDuringAWait: snapshots held back by
// coalescing reach the reporter while the executor waits (for the rate
// limit, inside Send), not only when the next request completes.
func TestApplyDeliversHeldProgressDuringAWait(t *testing.T) {
	var changes []Change
	for i := range 30 {
		changes = append(changes, Change{Action: ActionRemoveFromOrg, User: fed(fmt.Sprintf("u%02d@e.org", i))})
	}
	clock := &tickClock{t: time.Unix(1e9, 0), tick: make(chan time.Time)}
	release := make(chan struct{})
	rep := &recReporter{}
	target := &fakeTarget{onSend: func(n int) {
		if n == 2 {
			<-release // the third request waits, as for the rate limit
		}
	}}
	done := make(chan error)
	go func() {
		_, err := Apply(context.Background(), planOf(nil, changes...), map[string]Target{PrimaryOrg: target},
			ApplyOptions{Reporter: rep, Clock: clock})
		done <- err
	}()
	// Wait until the third Send blocks, then let the flusher tick.
	for {
		target.mu.Lock()
		n := len(target.reqs)
		target.mu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	clock.tick <- clock.t
	clock.tick <- clock.t // the second tick returns only after the first flush
	rep.mu.Lock()
	got := append([]Progress(nil), rep.progress...)
	rep.mu.Unlock()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].RequestsSent != 2 || got[1].Done {
		t.Fatalf("progress during the wait = %+v; want the first report and the held one with 2 requests sent", got)
	}
}
