package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/google/go-cmp/cmp"
	"github.com/muesli/termenv"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/run"
)

// stub is a Backend that holds nothing and does nothing, for tests of the
// model's own logic (stale messages, countdowns, parsing).
type stub struct{}

func (stub) Fetch(context.Context, core.Reporter) (*core.Snapshot, error) {
	return &core.Snapshot{}, nil
}
func (stub) Plan(context.Context, *core.Snapshot) (*core.Plan, error)    { return &core.Plan{}, nil }
func (stub) Mappings(*core.Snapshot, *core.Plan) []MappingRow            { return nil }
func (stub) Estimate(*core.Plan, map[int]bool) Cost                      { return Cost{} }
func (stub) Detail(*core.Snapshot, *core.Plan, core.Change) ChangeDetail { return ChangeDetail{} }
func (stub) Explain(context.Context, *core.Snapshot, string) (*core.Explanation, error) {
	return &core.Explanation{}, nil
}
func (stub) Apply(context.Context, *core.Plan, map[int]bool, core.Reporter) *run.Outcome {
	return &run.Outcome{}
}
func (stub) History(context.Context) ([]RunSummary, error)   { return nil, nil }
func (stub) Run(context.Context, string) (*RunDetail, error) { return nil, nil }
func (stub) Exclusions() ([]core.Exclusion, error)           { return nil, nil }
func (stub) RememberExclusion(core.Exclusion) error          { return nil }
func (stub) ForgetExclusion(core.Exclusion) error            { return nil }
func (stub) GroupMapping() []core.GroupMapping               { return nil }
func (stub) Replan(context.Context, *core.Snapshot, []core.GroupMapping) (*Replanned, error) {
	return &Replanned{Plan: &core.Plan{}}, nil
}
func (stub) MappingChanges(*core.Plan, []core.GroupMapping, string) []int { return nil }
func (stub) WriteMapping(context.Context, *core.Snapshot, []config.MappingEdit) (string, *Replanned, error) {
	return "", nil, nil
}
func (stub) Release(context.Context, *core.Plan, run.Release) (*core.Plan, error) { return nil, nil }

func newTestModel(t *testing.T) *Model {
	t.Helper()
	m := NewModel(context.Background(), stub{}, Options{NoColor: true, Now: func() time.Time { return time.Unix(0, 0) }})
	return m
}

// TestStaleMessagesDropped checks that messages of a run that is no
// longer current change nothing.
func TestStaleMessagesDropped(t *testing.T) {
	m := newTestModel(t)
	m.fetch = fetchState{run: 7, running: true}
	m.apply = applyState{run: 9, running: true, progress: map[string]core.Progress{}}

	m.Update(progressMsg{run: 6, p: core.Progress{Phase: core.PhaseDirectory, Users: 99}})
	if m.fetch.dir.Users != 0 {
		t.Errorf("stale fetch progress was applied: dir.Users = %d; want 0", m.fetch.dir.Users)
	}
	m.Update(progressMsg{run: 7, p: core.Progress{Phase: core.PhaseDirectory, Users: 5}})
	if m.fetch.dir.Users != 5 {
		t.Errorf("current fetch progress: dir.Users = %d; want 5", m.fetch.dir.Users)
	}
	m.Update(planReadyMsg{run: 6, err: context.Canceled})
	if !m.fetch.running || m.fetch.err != nil {
		t.Errorf("a stale planReadyMsg ended the current fetch")
	}
	m.Update(changeDoneMsg{run: 8, r: core.ChangeResult{Outcome: core.OutcomeFailed}})
	m.Update(throttleMsg{run: 8, w: core.ThrottleWait{Wait: time.Second}})
	if len(m.apply.results) != 0 || m.apply.throttle != nil {
		t.Errorf("stale apply events were applied: results %v, throttle %v", m.apply.results, m.apply.throttle)
	}
	m.Update(appliedMsg{run: 8})
	if !m.apply.running {
		t.Errorf("a stale appliedMsg ended the current apply")
	}
	m.Update(explainedMsg{run: 3, ex: &core.Explanation{Query: "old"}})
	if m.explain.ex != nil {
		t.Errorf("a stale explanation was shown")
	}
	m.review.detailRun = 20
	m.Update(detailMsg{run: 19, row: 3, d: ChangeDetail{Hook: []string{"old"}}})
	if m.review.haveDetail {
		t.Errorf("a stale detail was shown")
	}
	m.review.estRun, m.review.est = 21, Cost{Estimate: core.Estimate{Requests: 5}}
	m.Update(estimateMsg{run: 18, est: Cost{Estimate: core.Estimate{Requests: 99}}})
	if m.review.est.Requests != 5 {
		t.Errorf("a stale estimate replaced the current one")
	}
	m.Update(tickMsg{run: 12345})
	if m.ticking {
		t.Errorf("a stale tick started ticking")
	}
}

// TestThrottleExpires checks that a throttle wait disappears once its time
// has come, on the next tick.
func TestThrottleExpires(t *testing.T) {
	m := newTestModel(t)
	now := time.Unix(100, 0)
	m.now = func() time.Time { return now }
	m.apply = applyState{run: 2, running: true, progress: map[string]core.Progress{}}
	m.Update(throttleMsg{run: 2, w: core.ThrottleWait{Wait: 3 * time.Second, Until: now.Add(3 * time.Second), Cause: "429 Retry-After"}})
	if m.apply.throttle == nil || !m.ticking {
		t.Fatalf("throttle = %v, ticking = %v; want a wait and a tick loop", m.apply.throttle, m.ticking)
	}
	if got := m.countdown(m.apply.throttle); got != "⏳ waiting 3s (429 Retry-After)" {
		t.Errorf("countdown = %q; want 3s", got)
	}
	now = now.Add(1500 * time.Millisecond)
	if got := m.countdown(m.apply.throttle); got != "⏳ waiting 2s (429 Retry-After)" {
		t.Errorf("countdown after 1.5s = %q; want 2s (rounded up)", got)
	}
	now = now.Add(2 * time.Second)
	m.Update(tickMsg{run: m.tickRun})
	if m.apply.throttle != nil {
		t.Errorf("throttle still shown after its end")
	}
}

func TestNoColorEnv(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	m := NewModel(context.Background(), stub{}, Options{})
	if m.profile != termenv.Ascii {
		t.Errorf("with NO_COLOR set, profile = %v; want Ascii", m.profile)
	}
}

func TestParseQueryAndNarrows(t *testing.T) {
	tests := []struct {
		prev, next string
		want       bool
	}{
		{"", "ana", true},
		{"an", "ana", true},
		{"ana", "ana org:p", true},
		{"org", "org:", false},
		{"org:pri", "org:prim", true},
		{"group:des", "group:design x", true},
		{"ana x", "ana", false},
		{"is:ex", "is:exc", true},
	}
	for _, tt := range tests {
		if got := narrows(parseQuery(tt.prev), parseQuery(tt.next)); got != tt.want {
			t.Errorf("narrows(%q, %q) = %v; want %v", tt.prev, tt.next, got, tt.want)
		}
	}
	if got, want := parseQuery("Ana GROUP:Design nope:x"), []term{{"", "ana"}, {"group", "design"}, {"", "nope:x"}}; !cmp.Equal(got, want, cmp.AllowUnexported(term{})) {
		t.Errorf("parseQuery = %v; want %v", got, want)
	}
}

// TestFilterStackMatchesScan checks that incremental filtering gives the
// same rows as filtering from scratch, for every prefix typed and erased.
func TestFilterStackMatchesScan(t *testing.T) {
	p := &core.Plan{}
	users := []string{"ana@x.org", "anna@x.org", "bob@y.org", "ana.b@y.org", "carl@x.org"}
	for i, u := range users {
		a := []core.Action{core.ActionCreate, core.ActionDelete, core.ActionAddGroups}[i%3]
		p.Changes = append(p.Changes, core.Change{ID: i, Org: []string{"primary", "second"}[i%2], Action: a,
			Key: u, User: core.UserRef{User: u, Email: u}, Groups: []string{"design", "sales"}[i%2 : i%2+1]})
	}
	l := newChangeList(p, nil)
	scan := func(q string) []int32 {
		ts := parseQuery(q)
		var out []int32
		for _, i := range l.order(sortAction) {
			if l.match(i, ts) {
				out = append(out, i)
			}
		}
		return out
	}
	st := filterStack{{rows: l.order(sortAction)}}
	for _, q := range []string{"a", "an", "ana", "ana ", "ana o", "ana or", "ana org", "ana org:", "ana org:s",
		"ana org:", "ana", "an", "", "action:del", "action:delete", "action:de", "group:s", "x"} {
		st = st.apply(l, q)
		got := st[len(st)-1].rows
		if want := scan(q); !cmp.Equal(got, want, cmp.Comparer(func(a, b []int32) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })) {
			t.Errorf("query %q: stack gives %v; scan gives %v", q, got, want)
		}
	}
}

func TestFmt(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {42 * time.Second, "42s"}, {90 * time.Second, "1m30s"}, {3*time.Hour + 5*time.Minute, "3h05m"}} {
		if got := fmtDuration(tt.d); got != tt.want {
			t.Errorf("fmtDuration(%v) = %q; want %q", tt.d, got, tt.want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", -1234: "-1,234"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q; want %q", n, got, want)
		}
	}
}

// TestCommandJSON checks the wire form of the commands the detail pane
// shows (protocol reference §4.2–4.4).
func TestCommandJSON(t *testing.T) {
	tests := []struct {
		name string
		cmd  core.Command
		want []string
	}{
		{"create and add", core.Command{User: "ana@example.org", RequestID: "action_1", Steps: []core.Step{
			{Kind: core.StepCreateFederatedID, Attrs: map[string]string{"email": "ana@example.org", "country": "ES"}, Option: core.OptionIgnoreIfExists},
			{Kind: core.StepAdd, Groups: []string{"design team"}},
		}}, []string{
			`{"user":"ana@example.org","requestID":"action_1","do":[`,
			`  {"createFederatedID":{"country":"ES","email":"ana@example.org","option":"ignoreIfAlreadyExists"}},`,
			`  {"add":{"group":["design team"]}}`,
			`]}`,
		}},
		{"username with domain, remove all, delete", core.Command{User: "jdoe", Domain: "example.org", Steps: []core.Step{
			{Kind: core.StepRemove, All: true},
			{Kind: core.StepRemoveFromOrg, DeleteAccount: true},
		}}, []string{
			`{"user":"jdoe","domain":"example.org","do":[`,
			`  {"remove":"all"},`,
			`  {"removeFromOrg":{"deleteAccount":true}}`,
			`]}`,
		}},
		{"adobe id leaves the org", core.Command{User: "bo@gmail.com", UseAdobeID: true, Steps: []core.Step{
			{Kind: core.StepRemoveFromOrg},
		}}, []string{
			`{"user":"bo@gmail.com","useAdobeID":true,"do":[`,
			`  {"removeFromOrg":{"deleteAccount":false}}`,
			`]}`,
		}},
		{"user group", core.Command{UserGroup: "Design & Video", Steps: []core.Step{
			{Kind: core.StepCreateUserGroup, Option: core.OptionIgnoreIfExists},
			{Kind: core.StepAdd, Users: []string{"a@x.org", "b@x.org"}},
		}}, []string{
			`{"usergroup":"Design & Video","do":[`,
			`  {"createUserGroup":{"option":"ignoreIfAlreadyExists"}},`,
			`  {"add":{"user":["a@x.org","b@x.org"]}}`,
			`]}`,
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, commandJSON(tt.cmd)); diff != "" {
			t.Errorf("%s: commandJSON diff (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestEmptyPlan checks the review of a plan with nothing to do.
func TestEmptyPlan(t *testing.T) {
	m := newTestModel(t)
	m.fetch = fetchState{run: 4, running: true}
	p := &core.Plan{Orgs: []string{core.PrimaryOrg}}
	m.Update(planReadyMsg{run: 4, snap: &core.Snapshot{}, plan: p, list: newChangeList(p, nil)})
	if m.screen != scrReview {
		t.Fatalf("screen = %v; want the review", m.screen)
	}
	v := m.View()
	for _, want := range []string{"Nothing to change: both sides agree.", "Nothing to do: the directory and Adobe agree."} {
		if !strings.Contains(v, want) {
			t.Errorf("empty review lacks %q:\n%s", want, v)
		}
	}
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("A")})
	if m.review.dialog != nil || !strings.Contains(m.status, "Nothing to apply") {
		t.Errorf("A on an empty plan: dialog %v, status %q", m.review.dialog, m.status)
	}
	for _, k := range []string{"j", "k", "G", " ", "a", "x", "enter", "e", "s"} {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
	}
	_ = m.View()
}
