// Package fake is an in-memory tui.Backend with a small, realistic org: a
// plan with creates, updates, group additions and removals, Adobe-only
// removals and deletions, optionally a safety limit that withholds them,
// and an apply that is throttled on an injected clock, so that tests drive
// the whole console without a network and without sleeping.
package fake

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/tui"
)

// Config shapes the fake org and its behaviour.
type Config struct {
	// Clock drives throttle waits; nil means the system clock.
	Clock core.Clock
	// ThrottleRequest makes the apply wait ThrottleWait (429 Retry-After)
	// before sending request number ThrottleRequest (1-based); 0 never.
	ThrottleRequest int
	ThrottleWait    time.Duration
	// FetchThrottle makes the Adobe read wait ThrottleWait after page 1.
	FetchThrottle bool
	// FetchErr makes Fetch fail with this error.
	FetchErr error
	// LimitExceeded withholds the Adobe-only changes, as when
	// max_adobe_only_users is exceeded.
	LimitExceeded bool
	// TestMode marks the plan as a test-mode plan.
	TestMode bool
	// Synthetic, when positive, replaces the plan by that many generated
	// changes (for benchmarks).
	Synthetic int
	// Gate, when set, is received from before each request is sent, so a
	// test can hold the apply at a known point.
	Gate <-chan struct{}
	// Hold, when set, is received from while each request is in flight
	// (sent, not yet answered); cancelling does not interrupt it, as it
	// does not interrupt a real request.
	Hold <-chan struct{}
}

// Backend is the fake tui.Backend. It is safe for concurrent use.
type Backend struct {
	cfg  Config
	snap *core.Snapshot

	mu         sync.Mutex
	index      *planIndex
	exclusions []core.Exclusion
	runs       []tui.RunDetail
	applied    []int // change IDs applied successfully, in order
}

var _ tui.Backend = (*Backend)(nil)

// Epoch is the fixed time the fake org's snapshots and runs are dated.
var Epoch = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

// New returns a fake backend.
func New(cfg Config) *Backend {
	if cfg.Clock == nil {
		cfg.Clock = core.SystemClock{}
	}
	if cfg.ThrottleWait == 0 {
		cfg.ThrottleWait = 42 * time.Second
	}
	b := &Backend{cfg: cfg, snap: snapshot()}
	b.runs = []tui.RunDetail{{
		Summary: tui.RunSummary{ID: "run-20261121-0200", Started: Epoch.Add(-31*time.Hour - 30*time.Minute),
			Finished: Epoch.Add(-31*time.Hour - 29*time.Minute), Command: "sync", Changes: 3, Requests: 1, Succeeded: 3},
		Changes: []core.Change{
			{ID: 0, Org: core.PrimaryOrg, Action: core.ActionCreate, Key: "federatedID,nina.patel@example.org,", User: core.UserRef{User: "nina.patel@example.org", Email: "nina.patel@example.org"}},
			{ID: 1, Org: core.PrimaryOrg, Action: core.ActionAddGroups, Key: "federatedID,omar.haddad@example.org,", User: core.UserRef{User: "omar.haddad@example.org", Email: "omar.haddad@example.org"}, Groups: []string{"design team"}},
			{ID: 2, Org: core.PrimaryOrg, Action: core.ActionUpdate, Key: "federatedID,lea.martin@example.org,", User: core.UserRef{User: "lea.martin@example.org", Email: "lea.martin@example.org"}},
		},
		Results: []core.ChangeResult{
			{ChangeID: 0, Org: core.PrimaryOrg, Outcome: core.OutcomeSucceeded},
			{ChangeID: 1, Org: core.PrimaryOrg, Outcome: core.OutcomeSucceeded},
			{ChangeID: 2, Org: core.PrimaryOrg, Outcome: core.OutcomeSucceeded},
		},
	}}
	return b
}

type person struct {
	first, last, country string
	groups               []string
}

var directory = []person{
	{"Ana", "Ruiz", "ES", []string{"Design", "Marketing"}},
	{"Ben", "Okafor", "NG", []string{"Design"}},
	{"Chloé", "Durand", "FR", []string{"Marketing"}},
	{"Dev", "Sharma", "IN", []string{"Engineering"}},
	{"Eva", "Nowak", "PL", []string{"Sales"}},
	{"Finn", "Berg", "XX", []string{"Design"}},
	{"Gia", "Rossi", "IT", []string{"Sales", "Design"}},
	{"Hana", "Sato", "JP", []string{"Marketing"}},
	{"Ivan", "Petrov", "BG", []string{"Engineering", "Design"}},
	{"Jo", "Smith", "GB", []string{"Sales"}},
	{"Kai", "Müller", "DE", []string{"Design"}},
	{"Lea", "Martin", "FR", []string{"Design"}},
	{"Mia", "Jensen", "DK", []string{"Marketing"}},
	{"Nina", "Patel", "GB", []string{"Sales"}},
	{"Omar", "Haddad", "AE", []string{"Design"}},
	{"Pia", "Lind", "SE", []string{"Engineering"}},
}

func email(p person) string {
	return strings.ToLower(strings.NewReplacer("é", "e", "ü", "ue").Replace(p.first+"."+p.last)) + "@example.org"
}

// mapping is the fake config's directory_users.groups.
var mapping = []struct {
	dir   string
	adobe []string // qualified names
}{
	{"Design", []string{"Design Team", "All Apps"}},
	{"Marketing", []string{"Marketing Team"}},
	{"Sales", []string{"Acrobat Pro"}},
	{"Engineering", []string{"secondary::Dev Tools"}},
	{"Contractors", []string{"Contractor Access"}},
}

func snapshot() *core.Snapshot {
	s := &core.Snapshot{FetchedAt: Epoch, Adobe: map[string]core.OrgSnapshot{}}
	for i, p := range directory {
		s.Directory.Users = append(s.Directory.Users, core.DirectoryUser{
			Type: core.FederatedID, Username: email(p), Domain: "example.org", Email: email(p),
			Firstname: p.first, Lastname: p.last, Country: p.country, Groups: p.groups,
			Origin: fmt.Sprintf("users.csv:%d", i+2),
		})
	}
	s.Directory.MissingGroups = []string{"Contractors"}
	adobe := func(p person, groups ...string) core.AdobeUser {
		return core.AdobeUser{Type: core.FederatedID, Username: email(p), Domain: "example.org", Email: email(p),
			Firstname: p.first, Lastname: p.last, Country: p.country, Groups: groups, Status: "active"}
	}
	d := directory
	prim := core.OrgSnapshot{Query: core.AdobeQuery{All: true}}
	prim.Users = []core.AdobeUser{
		adobe(d[9], "acrobat pro"),
		adobe(d[10], "design team", "all apps"),
		adobe(d[11], "design team", "all apps"),
		adobe(d[12], "marketing team"),
		adobe(d[13], "acrobat pro"),
		adobe(d[14], "design team", "all apps"),
		adobe(d[15]),
		adobe(person{"Zoe", "Adams", "US", nil}, "design team"),
		adobe(person{"Yuri", "Ivanov", "US", nil}, "acrobat pro"),
		adobe(person{"Xena", "Wolf", "US", nil}),
		adobe(person{"Walt", "Kim", "US", nil}, "all apps"),
		adobe(person{"Vera", "Cruz", "US", nil}, "acrobat pro"),
	}
	prim.Users[1].Lastname = "Mueller" // directory says Müller: an update
	prim.Users[3].Lastname = "Jenssen"
	prim.Users[4].Groups = []string{"acrobat pro", "design team"} // design team to remove
	prim.Groups = []core.AdobeGroup{
		{Name: "Design Team", Type: "USER_GROUP", MemberCount: 4},
		{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud", MemberCount: 4},
		{Name: "Acrobat Pro", Type: "PRODUCT_PROFILE", ProductName: "Acrobat", MemberCount: 4},
	}
	s.Adobe[core.PrimaryOrg] = prim
	s.Adobe["secondary"] = core.OrgSnapshot{
		Query:  core.AdobeQuery{Groups: []string{"dev tools"}},
		Users:  []core.AdobeUser{adobe(d[15], "dev tools")},
		Groups: []core.AdobeGroup{{Name: "Dev Tools", Type: "PRODUCT_PROFILE", ProductName: "Substance", MemberCount: 1}},
	}
	return s
}

func key(email string) string { return "federatedID," + email + "," }

func ref(email string) core.UserRef {
	return core.UserRef{User: email, Type: core.FederatedID, Email: email}
}

// plan is the fake org's plan, made by hand to match snapshot().
func (b *Backend) plan() *core.Plan {
	if b.cfg.Synthetic > 0 {
		return Synthetic(b.cfg.Synthetic)
	}
	d := directory
	var cs []core.Change
	add := func(c core.Change) {
		c.ID = len(cs)
		if c.Org == "" {
			c.Org = core.PrimaryOrg
		}
		cs = append(cs, c)
	}
	add(core.Change{Action: core.ActionCreateGroup, Key: "marketing team", Group: "Marketing Team",
		Rule: "mapped user group missing in Adobe (auto_create)", Reasons: []string{`directory group "Marketing" → "Marketing Team"`}})
	for _, i := range []int{0, 1, 2, 4, 5, 6, 7} {
		p := d[i]
		var groups []string
		var reasons []string
		for _, g := range p.groups {
			for _, mp := range mapping {
				if mp.dir == g {
					for _, a := range mp.adobe {
						if _, grp := core.SplitQualifiedGroup(a); grp == a {
							groups = append(groups, core.NormalizeGroup(a))
							reasons = append(reasons, fmt.Sprintf("directory group %q → %q", g, a))
						}
					}
				}
			}
		}
		add(core.Change{Action: core.ActionCreate, Key: key(email(p)), User: ref(email(p)), Groups: groups,
			Option: core.OptionIgnoreIfExists, Attrs: []core.AttrChange{{Name: "firstname", After: p.first}, {Name: "lastname", After: p.last}, {Name: "country", After: p.country}},
			Rule: "directory user has no Adobe account", Reasons: reasons})
	}
	for _, i := range []int{3, 8} {
		p := d[i]
		add(core.Change{Org: "secondary", Action: core.ActionCreate, Key: key(email(p)), User: ref(email(p)), Groups: []string{"dev tools"},
			Option: core.OptionIgnoreIfExists, Rule: "directory user has no account in org secondary",
			Reasons: []string{`directory group "Engineering" → "secondary::Dev Tools"`}})
	}
	add(core.Change{Action: core.ActionUpdate, Key: key(email(d[10])), User: ref(email(d[10])),
		Attrs: []core.AttrChange{{Name: "lastname", Before: "Mueller", After: "Müller"}}, Rule: "attributes differ (update_user_info)"})
	add(core.Change{Action: core.ActionUpdate, Key: key(email(d[12])), User: ref(email(d[12])),
		Attrs: []core.AttrChange{{Name: "lastname", Before: "Jenssen", After: "Jensen"}}, Rule: "attributes differ (update_user_info)"})
	add(core.Change{Action: core.ActionAddGroups, Key: key(email(d[9])), User: ref(email(d[9])), Groups: []string{"acrobat pro"},
		Rule: "mapped groups missing in Adobe", Reasons: []string{`directory group "Sales" → "Acrobat Pro"`}})
	add(core.Change{Action: core.ActionAddGroups, Key: key(email(d[12])), User: ref(email(d[12])), Groups: []string{"marketing team"},
		Rule: "mapped groups missing in Adobe", Reasons: []string{`directory group "Marketing" → "Marketing Team"`}})
	add(core.Change{Action: core.ActionRemoveGroups, Key: key(email(d[13])), User: ref(email(d[13])), Groups: []string{"design team"},
		Rule: "member of a mapped group the directory no longer gives", Reasons: []string{`not in directory group "Design" (→ "Design Team")`}})
	strays := []core.Change{
		{Action: core.ActionDelete, Key: key("zoe.adams@example.org"), User: ref("zoe.adams@example.org"), AdobeOnly: true,
			Rule: "Adobe-only user (adobe_only_user_action: delete)"},
		{Action: core.ActionDelete, Key: key("yuri.ivanov@example.org"), User: ref("yuri.ivanov@example.org"), AdobeOnly: true,
			Rule: "Adobe-only user (adobe_only_user_action: delete)"},
		{Action: core.ActionDelete, Key: key("xena.wolf@example.org"), User: ref("xena.wolf@example.org"), AdobeOnly: true,
			Rule: "Adobe-only user (adobe_only_user_action: delete)"},
	}
	p := &core.Plan{Version: 1, CreatedAt: Epoch, Strategy: core.StrategySync, TestMode: b.cfg.TestMode,
		Orgs: []string{"secondary", core.PrimaryOrg}, AdobeOnlyAction: core.AdobeOnlyDelete,
		Counters: core.Counters{DirectoryUsersRead: len(d), DirectoryUsersSelected: len(d), AdobeUsersRead: 13,
			Unchanged: 4, Created: 9, Updated: 2, GroupsCreated: 1, StraysProcessed: 3, StraysTracked: true},
		Warnings: []string{`directory group "Contractors" is mapped but not found in the directory`},
	}
	if b.cfg.LimitExceeded {
		for i := range strays {
			strays[i].ID = len(cs) + i
			strays[i].Org = core.PrimaryOrg
		}
		p.Withheld = strays
		p.Limit = &core.LimitReport{Setting: "2", Count: 3, Max: 2, Exceeded: true}
		p.Counters.StraysProcessed = 0
	} else {
		for _, c := range strays {
			add(c)
		}
	}
	p.Changes = cs
	return p
}

// Synthetic returns a plan of n generated changes over two orgs.
func Synthetic(n int) *core.Plan {
	actions := []core.Action{core.ActionCreate, core.ActionUpdate, core.ActionAddGroups, core.ActionRemoveGroups, core.ActionRemoveFromOrg}
	groups := []string{"design team", "all apps", "acrobat pro", "marketing team", "sales"}
	cs := make([]core.Change, n)
	for i := range cs {
		e := fmt.Sprintf("user%06d@example.org", i)
		org := core.PrimaryOrg
		if i%10 == 9 {
			org = "secondary"
		}
		a := actions[i%len(actions)]
		cs[i] = core.Change{ID: i, Org: org, Action: a, Key: key(e), User: ref(e),
			Groups: []string{groups[i%len(groups)], groups[(i/5)%len(groups)]}, Rule: "generated", AdobeOnly: a == core.ActionRemoveFromOrg}
	}
	return &core.Plan{Version: 1, CreatedAt: Epoch, Orgs: []string{"secondary", core.PrimaryOrg}, Changes: cs}
}

// Fetch reports a paged read of both sides.
func (b *Backend) Fetch(ctx context.Context, r core.Reporter) (*core.Snapshot, error) {
	n := len(b.snap.Directory.Users)
	r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: n / 2, Groups: 2, Pages: 1})
	r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: n, Groups: 4, Pages: 2, PagesTotal: 2, Done: true})
	if b.cfg.FetchErr != nil {
		return nil, b.cfg.FetchErr
	}
	prim := b.snap.Adobe[core.PrimaryOrg]
	r.Progress(core.Progress{Phase: core.PhaseAdobe, Org: core.PrimaryOrg, Users: 10, Groups: len(prim.Groups), Pages: 1, PagesTotal: 2})
	if b.cfg.FetchThrottle {
		w := b.cfg.ThrottleWait
		r.Throttled(core.ThrottleWait{Org: core.PrimaryOrg, Wait: w, Until: b.cfg.Clock.Now().Add(w), Cause: "429 Retry-After", Attempt: 1})
		select {
		case <-b.cfg.Clock.After(w):
		case <-ctx.Done():
			return nil, core.Errorf(core.CodeCanceled, "umapi users page 2", "%v", ctx.Err())
		}
	}
	r.Progress(core.Progress{Phase: core.PhaseAdobe, Org: core.PrimaryOrg, Users: len(prim.Users), Groups: len(prim.Groups), Pages: 2, PagesTotal: 2, Done: true})
	sec := b.snap.Adobe["secondary"]
	r.Progress(core.Progress{Phase: core.PhaseAdobe, Org: "secondary", Users: len(sec.Users), Groups: len(sec.Groups), Pages: 1, PagesTotal: 1, Done: true})
	return b.snap, nil
}

// Plan returns the fake plan.
func (b *Backend) Plan(ctx context.Context, snap *core.Snapshot) (*core.Plan, error) {
	return b.plan(), nil
}

// commands groups the plan's changes into commands, one per org and user,
// and returns them by org with the IDs each carries.
type command struct {
	org string
	cmd core.Command
	ids []int
}

func commands(p *core.Plan, exclude map[int]bool) []command {
	var out []command
	at := map[string]int{}
	for _, c := range p.Changes {
		if exclude[c.ID] {
			continue
		}
		k := c.Org + "\x00" + c.Key
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			root := core.Command{User: c.User.User}
			if c.Action == core.ActionCreateGroup {
				root = core.Command{UserGroup: c.Group}
			}
			out = append(out, command{org: c.Org, cmd: root})
		}
		out[i].ids = append(out[i].ids, c.ID)
		out[i].cmd.Steps = append(out[i].cmd.Steps, steps(c)...)
	}
	// Secondary orgs first, as the executor sends them.
	sort.SliceStable(out, func(i, j int) bool { return orgRank(p, out[i].org) < orgRank(p, out[j].org) })
	for i := range out {
		out[i].cmd.RequestID = fmt.Sprintf("action_%d", i+1)
	}
	return out
}

func orgRank(p *core.Plan, org string) int {
	for i, o := range p.Orgs {
		if o == org {
			return i
		}
	}
	return len(p.Orgs)
}

func steps(c core.Change) []core.Step {
	switch c.Action {
	case core.ActionCreateGroup:
		return []core.Step{{Kind: core.StepCreateUserGroup, Option: core.OptionIgnoreIfExists, Description: "Automatically created by usersync"}}
	case core.ActionCreate:
		attrs := map[string]string{"email": c.User.Email}
		for _, a := range c.Attrs {
			attrs[a.Name] = a.After
		}
		s := []core.Step{{Kind: core.StepCreateFederatedID, Attrs: attrs, Option: c.Option}}
		if len(c.Groups) > 0 {
			s = append(s, core.Step{Kind: core.StepAdd, Groups: c.Groups})
		}
		return s
	case core.ActionUpdate:
		attrs := map[string]string{}
		for _, a := range c.Attrs {
			attrs[a.Name] = a.After
		}
		return []core.Step{{Kind: core.StepUpdate, Attrs: attrs}}
	case core.ActionAddGroups:
		return []core.Step{{Kind: core.StepAdd, Groups: c.Groups}}
	case core.ActionRemoveGroups:
		return []core.Step{{Kind: core.StepRemove, Groups: c.Groups}}
	case core.ActionRemoveAllGroups:
		return []core.Step{{Kind: core.StepRemove, All: true}}
	case core.ActionRemoveFromOrg:
		return []core.Step{{Kind: core.StepRemoveFromOrg}}
	case core.ActionDelete:
		return []core.Step{{Kind: core.StepRemoveFromOrg, DeleteAccount: true}}
	}
	return nil
}

// planIndex is a plan's commands, computed once per plan, as a real
// executor would keep them, so that Detail and Estimate stay quick on
// plans of 100,000 changes.
type planIndex struct {
	plan  *core.Plan
	cmds  []command
	cmdOf []int // change ID → index in cmds
}

func (b *Backend) indexOf(p *core.Plan) *planIndex {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.index != nil && b.index.plan == p {
		return b.index
	}
	x := &planIndex{plan: p, cmds: commands(p, nil), cmdOf: make([]int, len(p.Changes))}
	for i, c := range x.cmds {
		for _, id := range c.ids {
			x.cmdOf[id] = i
		}
	}
	b.index = x
	return x
}

// Estimate counts requests of ten commands at ten requests a minute.
func (b *Backend) Estimate(p *core.Plan, exclude map[int]bool) core.Estimate {
	x := b.indexOf(p)
	perOrgCmds := map[string]int{}
	seen := make([]bool, len(x.cmds))
	cmds := 0
	for _, c := range p.Changes {
		if exclude[c.ID] {
			continue
		}
		if k := x.cmdOf[c.ID]; !seen[k] {
			seen[k] = true
			perOrgCmds[c.Org]++
			cmds++
		}
	}
	e := core.Estimate{Commands: cmds, PerOrg: map[string]int{}}
	for org, n := range perOrgCmds {
		r := (n + core.MaxCommandsPerRequest - 1) / core.MaxCommandsPerRequest
		e.PerOrg[org] = r
		e.Requests += r
	}
	rl := core.DefaultRateLimit
	e.Duration = time.Duration(e.Requests) * rl.Window / time.Duration(rl.Requests)
	return e
}

func (b *Backend) findDir(q string) *core.DirectoryUser {
	q = strings.ToLower(strings.TrimSpace(q))
	for i, u := range b.snap.Directory.Users {
		if strings.ToLower(u.Email) == q || strings.ToLower(u.Username) == q || key(strings.ToLower(u.Email)) == q {
			return &b.snap.Directory.Users[i]
		}
	}
	return nil
}

func (b *Backend) findAdobe(org, q string) *core.AdobeUser {
	q = strings.ToLower(strings.TrimSpace(q))
	us := b.snap.Adobe[org].Users
	for i, u := range us {
		if strings.ToLower(u.Email) == q || key(strings.ToLower(u.Email)) == q {
			return &us[i]
		}
	}
	return nil
}

// Detail returns the records, hook effect and commands of change c.
func (b *Backend) Detail(snap *core.Snapshot, p *core.Plan, c core.Change) tui.ChangeDetail {
	var d tui.ChangeDetail
	if c.Action != core.ActionCreateGroup {
		d.Directory = b.findDir(c.User.Email)
		d.Adobe = b.findAdobe(c.Org, c.User.Email)
		if d.Directory != nil && d.Directory.Country == "XX" {
			d.Hook = []string{`after_mapping_hook left country "XX" unchanged (no rule for it)`}
		} else if d.Directory != nil {
			d.Hook = []string{"after_mapping_hook changed nothing"}
		}
	}
	if x := b.indexOf(p); c.ID >= 0 && c.ID < len(x.cmdOf) && p.Changes[c.ID].Key == c.Key {
		d.Commands = []core.Command{x.cmds[x.cmdOf[c.ID]].cmd}
	}
	return d
}

// Explain tells the fake story of one user.
func (b *Backend) Explain(ctx context.Context, snap *core.Snapshot, query string) (*core.Explanation, error) {
	ex := &core.Explanation{Query: query}
	du := b.findDir(query)
	if du == nil {
		ex.Adobe = b.findAdobe(core.PrimaryOrg, query)
		ex.Steps = append(ex.Steps, core.ExplainStep{Stage: "source", Outcome: "not found",
			Detail: "No directory user has this email or username. Check the spelling, and whether the source reads this user (the LDAP filter, --users)."})
		if ex.Adobe != nil {
			ex.Steps = append(ex.Steps, core.ExplainStep{Stage: "adobe-only", Outcome: "Adobe-only user",
				Detail: "The account exists in Adobe but not in the directory; adobe_only_user_action is delete."})
		}
	} else {
		ex.Directory = du
		ex.Adobe = b.findAdobe(core.PrimaryOrg, du.Email)
		ex.Steps = append(ex.Steps,
			core.ExplainStep{Stage: "source", Outcome: "found", Detail: "Read from " + du.Origin + "."},
			core.ExplainStep{Stage: "selection", Outcome: "selected", Detail: "--users mapped: member of the mapped group(s) " + strings.Join(du.Groups, ", ") + "."},
		)
		var ms []string
		for _, g := range du.Groups {
			for _, mp := range mapping {
				if mp.dir == g {
					ms = append(ms, fmt.Sprintf("%q → %s", g, strings.Join(mp.adobe, ", ")))
				}
			}
		}
		ex.Steps = append(ex.Steps,
			core.ExplainStep{Stage: "mapping", Outcome: fmt.Sprintf("%d groups", len(ms)), Detail: strings.Join(ms, "; ") + "."},
			core.ExplainStep{Stage: "hook", Outcome: "no change", Detail: "after_mapping_hook ran and changed nothing."},
		)
		if ex.Adobe != nil {
			ex.Steps = append(ex.Steps, core.ExplainStep{Stage: "match", Outcome: "matched", Detail: "Adobe account " + ex.Adobe.Email + " has the same user key."})
		} else {
			ex.Steps = append(ex.Steps, core.ExplainStep{Stage: "match", Outcome: "no account", Detail: "No Adobe account has this user key, so one is created."})
		}
	}
	for _, c := range b.plan().Changes {
		if strings.EqualFold(c.User.Email, query) || (du != nil && c.User.Email == du.Email) {
			ex.Changes = append(ex.Changes, c)
		}
	}
	b.mu.Lock()
	for _, e := range b.exclusions {
		for _, c := range ex.Changes {
			if e.Matches(c) {
				ex.Steps = append(ex.Steps, core.ExplainStep{Stage: "exclusion", Outcome: "excluded", Detail: "A remembered exclusion covers " + string(c.Action) + "."})
			}
		}
	}
	b.mu.Unlock()
	verdict := "in sync"
	if len(ex.Changes) > 0 {
		verdict = fmt.Sprintf("%d changes", len(ex.Changes))
	}
	ex.Steps = append(ex.Steps, core.ExplainStep{Stage: "result", Outcome: verdict, Detail: "See the planned changes below."})
	return ex, nil
}

// Mappings lists the fake config's group mapping.
func (b *Backend) Mappings(snap *core.Snapshot, p *core.Plan) []tui.MappingRow {
	members := map[string]int{}
	for _, u := range snap.Directory.Users {
		for _, g := range u.Groups {
			members[g]++
		}
	}
	adobeMembers := func(org, name string) (int, bool) {
		for _, g := range snap.Adobe[org].Groups {
			if strings.EqualFold(g.Name, name) {
				return g.MemberCount, true
			}
		}
		return 0, false
	}
	var rows []tui.MappingRow
	for _, mp := range mapping {
		row := tui.MappingRow{DirectoryGroup: mp.dir, DirectoryMembers: members[mp.dir]}
		for _, m := range snap.Directory.MissingGroups {
			if m == mp.dir {
				row.DirectoryMissing = true
			}
		}
		for _, q := range mp.adobe {
			org, name := core.SplitQualifiedGroup(q)
			if org == "" {
				org = core.PrimaryOrg
			}
			n, ok := adobeMembers(org, name)
			g := tui.MappedGroup{Org: org, Name: name, Members: n, Missing: !ok}
			for _, c := range p.Changes {
				if c.Action == core.ActionCreateGroup && c.Org == org && strings.EqualFold(c.Group, name) {
					g.WillCreate = true
				}
			}
			row.Adobe = append(row.Adobe, g)
		}
		rows = append(rows, row)
	}
	return rows
}

// failure says whether the fake server refuses change c, and why.
func failure(c core.Change) (code, msg string, failed bool) {
	if c.Action == core.ActionCreate && strings.HasPrefix(c.User.Email, "finn.") {
		return "error.user.invalid_country", `country "XX" is not a valid ISO 3166 code`, true
	}
	return "", "", false
}

// Apply sends the plan in requests of ten commands, waiting on the clock
// where the config says the server throttles.
func (b *Backend) Apply(ctx context.Context, p *core.Plan, exclude map[int]bool, r core.Reporter) (core.ApplyResult, error) {
	cmds := commands(p, exclude)
	res := core.ApplyResult{Orgs: map[string]core.OrgStats{}}
	type request struct {
		org  string
		cmds []command
	}
	var reqs []request
	for _, c := range cmds {
		if n := len(reqs); n > 0 && reqs[n-1].org == c.org && len(reqs[n-1].cmds) < core.MaxCommandsPerRequest {
			reqs[n-1].cmds = append(reqs[n-1].cmds, c)
			continue
		}
		reqs = append(reqs, request{org: c.org, cmds: []command{c}})
	}
	started := b.cfg.Clock.Now()
	var ok, failed int
	sent := map[string]int{}
	total := map[string]int{}
	for _, q := range reqs {
		total[q.org]++
	}
	stopped := func(from int) {
		res.Cancelled = true
		for _, q := range reqs[from:] {
			for _, c := range q.cmds {
				res.NotSent = append(res.NotSent, c.ids...)
			}
		}
	}
	for n, q := range reqs {
		if ctx.Err() != nil {
			stopped(n)
			break
		}
		if b.cfg.Gate != nil {
			select {
			case <-b.cfg.Gate:
			case <-ctx.Done():
				stopped(n)
			}
			if res.Cancelled {
				break
			}
		}
		if n+1 == b.cfg.ThrottleRequest {
			w := b.cfg.ThrottleWait
			r.Throttled(core.ThrottleWait{Org: q.org, Wait: w, Until: b.cfg.Clock.Now().Add(w), Cause: "429 Retry-After", Attempt: 1})
			select {
			case <-b.cfg.Clock.After(w):
			case <-ctx.Done():
				stopped(n)
			}
			if res.Cancelled {
				break
			}
		}
		if b.cfg.Hold != nil {
			<-b.cfg.Hold
		}
		res.Requests++
		sent[q.org]++
		st := res.Orgs[q.org]
		for _, c := range q.cmds {
			cmdFailed := false
			for _, id := range c.ids {
				cr := core.ChangeResult{ChangeID: id, Org: q.org, Outcome: core.OutcomeSucceeded}
				if code, msg, bad := failure(p.Changes[id]); bad {
					cr.Outcome, cr.Code, cr.Message = core.OutcomeFailed, code, msg
					cmdFailed = true
				} else {
					b.mu.Lock()
					b.applied = append(b.applied, id)
					b.mu.Unlock()
				}
				res.Results = append(res.Results, cr)
				r.ChangeDone(cr)
			}
			st.Total++
			if cmdFailed {
				failed++
				st.Errors++
			} else {
				ok++
				st.Success++
			}
		}
		res.Orgs[q.org] = st
		r.Progress(core.Progress{Phase: core.PhaseApply, Org: q.org, RequestsSent: sent[q.org], RequestsTotal: total[q.org],
			CommandsSucceeded: res.Orgs[q.org].Success, CommandsFailed: res.Orgs[q.org].Errors})
	}
	for org := range total {
		st := res.Orgs[org]
		r.Progress(core.Progress{Phase: core.PhaseApply, Org: org, RequestsSent: sent[org], RequestsTotal: total[org],
			CommandsSucceeded: st.Success, CommandsFailed: st.Errors, Done: true})
	}
	b.record(p, exclude, res, started)
	return res, nil
}

func (b *Backend) record(p *core.Plan, exclude map[int]bool, res core.ApplyResult, started time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := tui.RunSummary{ID: fmt.Sprintf("run-%s", started.UTC().Format("20060102-150405")), Started: started,
		Finished: b.cfg.Clock.Now(), Command: "console", TestMode: p.TestMode, Changes: len(p.Changes),
		Requests: res.Requests, Excluded: len(exclude), Skipped: len(res.NotSent), Cancelled: res.Cancelled}
	for _, r := range res.Results {
		switch r.Outcome {
		case core.OutcomeSucceeded:
			s.Succeeded++
		case core.OutcomeFailed:
			s.Failed++
		}
	}
	d := tui.RunDetail{Summary: s, Changes: p.Changes, Results: res.Results}
	for _, c := range p.Changes {
		if exclude[c.ID] {
			d.Exclusions = append(d.Exclusions, core.Exclusion{Org: c.Org, Key: c.Key, Action: c.Action})
		}
	}
	b.runs = append([]tui.RunDetail{d}, b.runs...)
}

// Applied returns the IDs of the changes applied successfully so far.
func (b *Backend) Applied() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.applied...)
}

// History lists the recorded runs, newest first.
func (b *Backend) History(ctx context.Context) ([]tui.RunSummary, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]tui.RunSummary, len(b.runs))
	for i, r := range b.runs {
		out[i] = r.Summary
	}
	return out, nil
}

// Run returns one recorded run.
func (b *Backend) Run(ctx context.Context, id string) (*tui.RunDetail, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.runs {
		if r.Summary.ID == id {
			d := r
			return &d, nil
		}
	}
	return nil, core.Errorf(core.CodeNotFound, "history", "no run %q", id)
}

// Exclusions returns the remembered exclusions.
func (b *Backend) Exclusions() ([]core.Exclusion, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]core.Exclusion(nil), b.exclusions...), nil
}

// RememberExclusion remembers e.
func (b *Backend) RememberExclusion(e core.Exclusion) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.exclusions {
		if x == e {
			return nil
		}
	}
	b.exclusions = append(b.exclusions, e)
	return nil
}

// ForgetExclusion forgets e.
func (b *Backend) ForgetExclusion(e core.Exclusion) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.exclusions[:0]
	for _, x := range b.exclusions {
		if x != e {
			out = append(out, x)
		}
	}
	b.exclusions = out
	return nil
}

// Clock is a manual core.Clock: time moves only when Advance is called.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives once the clock has advanced by d.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

// Advance moves the clock forward by d, firing the waits that end.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	rest := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			rest = append(rest, w)
		}
	}
	c.waiters = rest
}

// Waiting reports how many waits are pending.
func (c *Clock) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}
