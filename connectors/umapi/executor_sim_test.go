package umapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core"
)

// These tests run core's executor through this client against the
// simulator over real HTTP.

func fedRef(email string) core.UserRef {
	return core.UserRef{User: email, Type: core.FederatedID, Email: email}
}

func createChange(email string) core.Change {
	return core.Change{Action: core.ActionCreate, User: fedRef(email), Option: core.OptionIgnoreIfExists,
		Attrs: []core.AttrChange{{Name: "email", After: email}, {Name: "firstname", After: "New"},
			{Name: "lastname", After: "User"}, {Name: "country", After: "US"}}}
}

func numbered(p *core.Plan) *core.Plan {
	for i := range p.Changes {
		p.Changes[i].ID = i
		if p.Changes[i].Org == "" {
			p.Changes[i].Org = core.PrimaryOrg
		}
	}
	if p.Orgs == nil {
		p.Orgs = []string{core.PrimaryOrg}
	}
	return p
}

// membership returns email → sorted lower-cased groups of the sim's state.
func membership(s *sim.Seed) map[string][]string {
	out := map[string][]string{}
	for _, u := range s.Users {
		var gs []string
		for _, g := range u.Groups {
			gs = append(gs, strings.ToLower(g))
		}
		slices.Sort(gs)
		out[strings.ToLower(u.Email)] = gs
	}
	return out
}

// TestApplyUserGroupFanInAgainstSimulator: 5,000 existing users each join
// the same 3 user groups. 15,000 memberships, at most 100 per command (10
// steps of 10 users), 10 commands per request: the minimum is 15 requests
// (a per-user packing needs 500).
func TestApplyUserGroupFanInAgainstSimulator(t *testing.T) {
	const users, minimum = 5000, 15
	seed := bigSeed(users)
	seed.Groups = append(seed.Groups, sim.SeedGroup{Name: "Sales", Type: "USER_GROUP"})
	e := startSim(t, sim.Options{Seed: seed})
	c := e.client(t, nil)
	groups, err := c.Groups(bg, nil)
	if err != nil {
		t.Fatalf("Groups: %v", err)
	}
	p := &core.Plan{UserGroups: map[string][]string{core.PrimaryOrg: core.UserGroupNames(groups)}}
	for i := range users {
		p.Changes = append(p.Changes, core.Change{Action: core.ActionAddGroups, User: fedRef(fmt.Sprintf("u%05d@example.org", i)),
			Groups: []string{"design team", "marketing", "sales"}})
	}
	numbered(p)
	if est := core.EstimatePlan(p, nil, core.RateLimit{}); est.Requests != minimum {
		t.Errorf("EstimatePlan = %d requests; want %d", est.Requests, minimum)
	}
	res, err := core.Apply(bg, p, map[string]core.Target{core.PrimaryOrg: c}, core.ApplyOptions{})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if res.Requests != minimum || e.sim.Stats().Requests.Action != minimum {
		t.Errorf("Apply sent %d requests (simulator saw %d); want the minimum %d", res.Requests, e.sim.Stats().Requests.Action, minimum)
	}
	if s := res.Orgs[core.PrimaryOrg]; s.Success != users || s.Errors != 0 {
		t.Errorf("org stats = %+v; want %d successes", s, users)
	}
	for email, gs := range membership(e.sim.State()) {
		if strings.HasPrefix(email, "u") && !slices.Equal(gs, []string{"design team", "marketing", "sales"}) {
			t.Fatalf("%s is in %v; want the three groups", email, gs)
		}
	}
}

// TestApplyThrottledWithoutPacing lets the simulator's realistic limit
// answer 429 (time-scaled to a one-second window) and checks that the client
// waits as told and every change lands.
func TestApplyThrottledWithoutPacing(t *testing.T) {
	e := startSim(t, sim.Options{Throttle: "realistic", TimeScale: 60})
	c := e.client(t, func(o *Options) { o.Clock = core.SystemClock{}; o.Retries = 5 })
	p := &core.Plan{}
	for i := range 150 {
		p.Changes = append(p.Changes, createChange(fmt.Sprintf("t%03d@example.org", i)))
	}
	numbered(p)
	rep := &recReporter{}
	res, err := core.Apply(bg, p, map[string]core.Target{core.PrimaryOrg: c}, core.ApplyOptions{Reporter: rep})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if s := res.Orgs[core.PrimaryOrg]; s.Success != 150 {
		t.Errorf("org stats = %+v; want 150 successes", s)
	}
	if e.sim.Stats().Throttled == 0 || len(rep.throttles) == 0 {
		t.Errorf("no 429 seen (%d) or reported (%d); the test needs the limit to bite", e.sim.Stats().Throttled, len(rep.throttles))
	}
	for _, w := range rep.waits(t) {
		if w.Kind != core.WaitThrottled || w.Cause != "429 Retry-After" || w.Wait > 1100*time.Millisecond {
			t.Errorf("throttle report %+v; want a 429 Retry-After wait within the one-second window", w)
		}
	}
}

// TestApplyPacedNeverThrottled: with pacing at the (time-scaled) limit,
// the simulator never has to answer 429.
func TestApplyPacedNeverThrottled(t *testing.T) {
	e := startSim(t, sim.Options{Throttle: "realistic", TimeScale: 60})
	c := e.client(t, func(o *Options) {
		o.Clock = core.SystemClock{}
		o.NoPacing = false
		o.ActionRate = core.RateLimit{Requests: 10, Window: time.Minute / 60}
	})
	p := &core.Plan{}
	for i := range 210 {
		p.Changes = append(p.Changes, createChange(fmt.Sprintf("p%03d@example.org", i)))
	}
	numbered(p)
	rep := &recReporter{}
	res, err := core.Apply(bg, p, map[string]core.Target{core.PrimaryOrg: c}, core.ApplyOptions{Reporter: rep})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if res.Requests != 21 || e.sim.Stats().Throttled != 0 {
		t.Errorf("%d requests, %d throttled; want 21 and none", res.Requests, e.sim.Stats().Throttled)
	}
	paced := 0
	for _, w := range rep.waits(t) {
		if w.Kind != core.WaitPacing || w.Org != core.PrimaryOrg {
			t.Errorf("wait %+v; want only pacing waits of the primary org", w)
		}
		paced++
	}
	if paced < 2 {
		t.Errorf("%d rate-limit waits reported; want at least 2 (21 requests span 3 one-second windows)", paced)
	}
}

// TestApplyUnderFaults: with 10% gateway errors, 5% dropped connections
// (half of them after the server applied the request) and 5% spurious 429s,
// a 2,000-change plan ends with the simulator in exactly the planned state,
// nothing applied twice harmfully (every resend is idempotent, so the
// server reports no error at all), and every failure retried or reported.
func TestApplyUnderFaults(t *testing.T) {
	seed := bigSeed(1500, "Design Team")
	e := startSim(t, sim.Options{Seed: seed, Faults: "5xx=0.1,reset=0.05,429=0.05", FaultSeed: 7})
	c := e.client(t, func(o *Options) { o.Retries = 10; o.Backoff = time.Millisecond })

	want := membership(seed)
	names := map[string]string{}
	p := &core.Plan{UserGroups: map[string][]string{core.PrimaryOrg: {"design team", "marketing"}}}
	add := func(ch core.Change) { p.Changes = append(p.Changes, ch) }
	u := func(i int) string { return fmt.Sprintf("u%05d@example.org", i) }
	for i := range 500 { // 1,000 changes: new users, each into a user group
		email := fmt.Sprintf("n%03d@example.org", i)
		add(createChange(email))
		add(core.Change{Action: core.ActionAddGroups, User: fedRef(email), Groups: []string{"design team"}})
		want[email] = []string{"design team"}
	}
	for i := range 400 { // existing users join Marketing: usergroup commands
		add(core.Change{Action: core.ActionAddGroups, User: fedRef(u(i)), Groups: []string{"marketing"}})
		want[u(i)] = []string{"design team", "marketing"}
	}
	for i := 400; i < 600; i++ { // and others leave Design Team
		add(core.Change{Action: core.ActionRemoveGroups, User: fedRef(u(i)), Groups: []string{"design team"}})
		want[u(i)] = nil
	}
	for i := 600; i < 700; i++ {
		add(core.Change{Action: core.ActionUpdate, User: fedRef(u(i)), Attrs: []core.AttrChange{{Name: "firstname", Before: "U", After: "Renamed"}}})
		names[u(i)] = "Renamed"
	}
	for i := 700; i < 800; i++ {
		add(core.Change{Action: core.ActionRemoveFromOrg, User: fedRef(u(i)), AdobeOnly: true})
		delete(want, u(i))
	}
	for i := 800; i < 900; i++ {
		add(core.Change{Action: core.ActionDelete, User: fedRef(u(i)), AdobeOnly: true})
		delete(want, u(i))
	}
	for i := 900; i < 1000; i++ { // product profiles stay in user commands
		add(core.Change{Action: core.ActionAddGroups, User: fedRef(u(i)), Groups: []string{"acrobat"}})
		want[u(i)] = []string{"acrobat", "design team"}
	}
	numbered(p)
	if len(p.Changes) != 2000 {
		t.Fatalf("plan has %d changes; want 2000", len(p.Changes))
	}
	rep := &recReporter{}
	res, err := core.Apply(bg, p, map[string]core.Target{core.PrimaryOrg: c}, core.ApplyOptions{Reporter: rep})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(res.Results) != 2000 || len(rep.done) != 2000 {
		t.Fatalf("%d results, %d ChangeDone; want 2000 of each", len(res.Results), len(rep.done))
	}
	// Anything that failed after its retries must be reported as such;
	// the next run (here: applying the same plan minus what succeeded)
	// must then converge.
	done := map[int]bool{}
	for _, r := range res.Results {
		switch r.Outcome {
		case core.OutcomeSucceeded:
			done[r.ChangeID] = true
		case core.OutcomeFailed:
			if r.Code != core.ResultSendFailed {
				t.Errorf("change %d failed at the server: %s %s", r.ChangeID, r.Code, r.Message)
			}
		default:
			t.Errorf("change %d: outcome %s", r.ChangeID, r.Outcome)
		}
	}
	if len(done) < 2000 {
		t.Logf("%d changes failed after every retry; applying them again", 2000-len(done))
		if _, err := core.Apply(bg, p, map[string]core.Target{core.PrimaryOrg: c}, core.ApplyOptions{Done: done}); err != nil {
			t.Fatalf("second Apply: %v", err)
		}
	}
	state := e.sim.State()
	if diff := cmp.Diff(want, membership(state)); diff != "" {
		t.Errorf("simulator state differs from the plan (-want +got):\n%s", diff)
	}
	for _, su := range state.Users {
		if n, ok := names[su.Email]; ok && su.Firstname != n {
			t.Errorf("%s firstname = %q; want %q", su.Email, su.Firstname, n)
		}
	}
	st := e.sim.Stats()
	if st.Errors != 0 {
		t.Errorf("the simulator reported %d command errors; a resend must never fail", st.Errors)
	}
	if !strings.Contains(e.logText(), "Next retry") {
		t.Errorf("no retry happened; the faults did not bite")
	}
	t.Logf("%d action requests for %d planned (%d throttled by the fault injector)", st.Requests.Action, res.Requests, st.Throttled)
}

// BenchmarkCreate10k applies 10,000 creates against the simulator with
// --throttle realistic --time-scale 60: the action limit is then 10
// requests a second. 1,000 requests are the minimum (10 creates a command
// cannot share, 10 commands a request), and with the first 10 sent at
// once, the rate limit allows them in 99 windows: 99 s.
func BenchmarkCreate10k(b *testing.B) {
	const scale = 60
	for b.Loop() {
		b.StopTimer()
		e := startSim(b, sim.Options{Throttle: "realistic", TimeScale: scale})
		c := e.client(b, func(o *Options) {
			o.Clock = core.SystemClock{}
			o.NoPacing = false
			o.ActionRate = core.RateLimit{Requests: 10, Window: time.Minute / scale}
		})
		p := &core.Plan{}
		for i := range 10000 {
			p.Changes = append(p.Changes, createChange(fmt.Sprintf("c%05d@example.org", i)))
		}
		numbered(p)
		est := core.EstimatePlan(p, nil, core.RateLimit{Requests: 10, Window: time.Minute / scale})
		b.StartTimer()
		start := time.Now()
		res, err := core.Apply(context.Background(), p, map[string]core.Target{core.PrimaryOrg: c}, core.ApplyOptions{})
		wall := time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatalf("Apply: %v", err)
		}
		st := e.sim.Stats()
		if res.Requests != 1000 || st.Requests.Action != 1000 || res.Orgs[core.PrimaryOrg].Success != 10000 {
			b.Fatalf("sent %d requests (simulator saw %d, %d throttled), %d successes; want 1000 and 10000",
				res.Requests, st.Requests.Action, st.Throttled, res.Orgs[core.PrimaryOrg].Success)
		}
		ratio := wall.Seconds() / est.Duration.Seconds()
		b.ReportMetric(float64(res.Requests), "requests")
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(est.Duration.Seconds(), "ratelimit-s")
		b.ReportMetric(ratio, "wall/ratelimit")
		b.Logf("1000 requests in %v; the rate limit allows %v (ratio %.3f, %d throttled)", wall.Round(time.Millisecond), est.Duration, ratio, st.Throttled)
		if ratio < 0.95 || ratio > 1.05 {
			b.Errorf("wall time %v is not within 5%% of the %v the rate limit allows", wall, est.Duration)
		}
		b.StartTimer()
	}
}

// TestApplyTwoOrgsInTestMode: a test-mode plan over a secondary and the
// primary org changes nothing, reports what would succeed, and sends the
// secondary's requests first.
func TestApplyTwoOrgsInTestMode(t *testing.T) {
	prim, sec := startSim(t, sim.Options{}), startSim(t, sim.Options{})
	p := &core.Plan{Orgs: []string{"partner", core.PrimaryOrg}, TestMode: true, Changes: []core.Change{
		{Org: core.PrimaryOrg, Action: core.ActionAddGroups, User: fedRef("ana@example.org"), Groups: []string{"acrobat"}},
		{Org: "partner", Action: core.ActionRemoveFromOrg, User: fedRef("ana@example.org")},
		{Org: "partner", Action: core.ActionAddGroups, User: fedRef("li@ent.example.com"), Groups: []string{"no such profile"}},
	}}
	for i := range p.Changes {
		p.Changes[i].ID = i
	}
	var order []string
	mark := func(name string, e *env) {
		e.rec.intercept = func(n int, w http.ResponseWriter, r *http.Request) bool {
			if strings.Contains(r.URL.Path, "/action/") {
				order = append(order, name)
			}
			return false
		}
	}
	mark("partner", sec)
	mark(core.PrimaryOrg, prim)
	targets := map[string]core.Target{core.PrimaryOrg: prim.client(t, nil), "partner": sec.client(t, func(o *Options) { o.Name = "partner" })}
	before := membership(prim.sim.State())
	res, err := core.Apply(bg, p, targets, core.ApplyOptions{})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if diff := cmp.Diff([]string{"partner", core.PrimaryOrg}, order); diff != "" {
		t.Errorf("request order (-want +got):\n%s", diff)
	}
	want := []core.Outcome{core.OutcomeSucceeded, core.OutcomeSucceeded, core.OutcomeFailed}
	for i, r := range res.Results {
		if r.Outcome != want[i] {
			t.Errorf("change %d = %+v; want %s", i, r, want[i])
		}
	}
	if diff := cmp.Diff(before, membership(prim.sim.State())); diff != "" {
		t.Errorf("test mode changed the primary org (-before +after):\n%s", diff)
	}
	if q := prim.rec.requests("/v2/usermanagement/action/")[0].Query; q != "testOnly=true" {
		t.Errorf("query = %q; want testOnly=true", q)
	}
}
