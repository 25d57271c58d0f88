package core

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// PackedRequest is one action request of a packed plan, with the plan
// changes that each of its steps carries, so that the server's errors[]
// (command index, step index) map back to individual changes.
type PackedRequest struct {
	Org     string
	Request ActionRequest
	// Carries[i][j] lists the IDs of the changes that step j of command i
	// carries. A usergroup step carries one change per user in its list.
	Carries [][][]int
}

// ChangeIDs returns the IDs of every change the request carries, sorted.
func (r PackedRequest) ChangeIDs() []int {
	var ids []int
	for _, cmd := range r.Carries {
		for _, step := range cmd {
			ids = append(ids, step...)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// UserGroupNames returns the normalised names of the writable user groups
// among groups: the names a plan lists in Plan.UserGroups.
func UserGroupNames(groups []AdobeGroup) []string {
	var names []string
	for _, g := range groups {
		if g.Type == "USER_GROUP" && !g.ReadOnly {
			names = append(names, NormalizeGroup(g.Name))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// BuildRequests packs the changes of p, except those in exclude, into the
// action requests Apply sends, in sending order. It is pure: EstimatePlan
// and Apply call it on the same plan and get the same requests.
//
// The packing sends the fewest requests the documented limits allow (10
// commands a request, 10 steps a command, 10 entries a list):
//   - all of one user's changes in one org go into one command, steps in the
//     order create, update, remove, add, removeFromOrg; a command is split
//     only when it would exceed 10 steps, and its continuation carries the
//     same root;
//   - memberships of existing users in writable user groups are sent as
//     usergroup commands ({"usergroup": G, "do": [{"add": {"user": [...]}}]},
//     up to 100 users a command) when that needs fewer commands overall;
//   - user groups the plan creates come first, and nothing that depends on a
//     creation shares its request, because the server does not promise to run
//     the commands of one request in order;
//   - orgs are sent in Plan.Orgs order (secondaries before the primary); the
//     first request of an org carries the sync-start signal and, when there
//     are several, the last carries sync-end, as UST does.
func BuildRequests(p *Plan, exclude map[int]bool) []PackedRequest {
	return pack(p, exclude).requests
}

// packing is BuildRequests' result plus the changes that could not be
// turned into a step at all.
type packing struct {
	requests []PackedRequest
	// invalid are changes that cannot be sent (for example a create with no
	// identity type), with the reason.
	invalid []ChangeResult
}

// wireStep is a step under construction with the changes it carries.
type wireStep struct {
	step Step
	ids  []int
}

// wireCommand is a command under construction.
type wireCommand struct {
	cmd   Command
	steps []wireStep
	// after lists the indices (within the org) of commands that must be in
	// an earlier request than this one.
	after []int
}

// packEntry is one name in an add or remove list and the changes asking
// for it.
type packEntry struct {
	name string
	ids  []int
}

// packList is a list of names without duplicates (compared
// case-insensitively, as the server does).
type packList struct {
	entries []packEntry
	index   map[string]int
}

func (l *packList) add(name string, id int) {
	i := -1
	if l.index != nil {
		if j, ok := l.index[strings.ToLower(name)]; ok {
			i = j
		}
	} else {
		// Most lists are short: search them instead of allocating a map.
		for j := range l.entries {
			if strings.EqualFold(l.entries[j].name, name) {
				i = j
				break
			}
		}
	}
	if i >= 0 {
		if !slices.Contains(l.entries[i].ids, id) {
			l.entries[i].ids = append(l.entries[i].ids, id)
		}
		return
	}
	l.entries = append(l.entries, packEntry{name: name, ids: []int{id}})
	switch {
	case l.index != nil:
		l.index[strings.ToLower(name)] = len(l.entries) - 1
	case len(l.entries) > 16:
		l.index = make(map[string]int, len(l.entries)*2)
		for j, e := range l.entries {
			l.index[strings.ToLower(e.name)] = j
		}
	}
}

// chunks splits the list into steps of at most MaxEntriesPerList entries.
func (l *packList) chunks(mk func(names []string) Step) []wireStep {
	var out []wireStep
	for start := 0; start < len(l.entries); start += MaxEntriesPerList {
		part := l.entries[start:min(start+MaxEntriesPerList, len(l.entries))]
		names := make([]string, len(part))
		var ids []int
		for i, e := range part {
			names[i] = e.name
			ids = append(ids, e.ids...)
		}
		slices.Sort(ids)
		out = append(out, wireStep{step: mk(names), ids: slices.Compact(ids)})
	}
	return out
}

// userWork gathers every change of one user in one org.
type userWork struct {
	ref        UserRef
	create     *Change
	createIDs  []int
	update     map[string]string
	updateKeys []string
	updateIDs  []int
	remove     packList
	removeAll  []int
	add        packList
	rfo        []int
	deleteAcct bool
	// changeIDs are all of the user's change IDs.
	changeIDs []int
}

func packUserKey(r UserRef) string {
	return strings.ToLower(r.User) + "\x00" + strings.ToLower(r.Domain) + "\x00" + fmt.Sprint(r.UseAdobeID)
}

// membershipOnly reports whether the user's changes are all additions to or
// removals from groups, so they could travel in usergroup commands.
func (u *userWork) membershipOnly() bool {
	return u.create == nil && len(u.updateIDs) == 0 && len(u.removeAll) == 0 && len(u.rfo) == 0 &&
		(len(u.add.entries) > 0 || len(u.remove.entries) > 0)
}

// steps returns the user's steps in the documented order.
func (u *userWork) steps() []wireStep {
	var out []wireStep
	if u.create != nil {
		out = append(out, wireStep{step: packCreateStep(u.create), ids: u.createIDs})
	}
	if len(u.updateKeys) > 0 {
		attrs := make(map[string]string, len(u.updateKeys))
		for _, k := range u.updateKeys {
			attrs[k] = u.update[k]
		}
		out = append(out, wireStep{step: Step{Kind: StepUpdate, Attrs: attrs}, ids: u.updateIDs})
	}
	out = append(out, u.remove.chunks(func(names []string) Step { return Step{Kind: StepRemove, Groups: names} })...)
	if len(u.removeAll) > 0 {
		out = append(out, wireStep{step: Step{Kind: StepRemove, All: true}, ids: u.removeAll})
	}
	out = append(out, u.add.chunks(func(names []string) Step { return Step{Kind: StepAdd, Groups: names} })...)
	if len(u.rfo) > 0 {
		out = append(out, wireStep{step: Step{Kind: StepRemoveFromOrg, DeleteAccount: u.deleteAcct}, ids: u.rfo})
	}
	return out
}

// packCreateKinds maps identity types to their create step.
var packCreateKinds = map[IdentityType]StepKind{
	AdobeID:      StepAddAdobeID,
	EnterpriseID: StepCreateEnterpriseID,
	FederatedID:  StepCreateFederatedID,
}

// packCreateAttrs are the parameters a create step may carry.
var packCreateAttrs = []string{"email", "firstname", "lastname", "country"}

// packUpdateAttrs are the parameters an update step may carry; country cannot
// be updated (protocol reference §6.5).
var packUpdateAttrs = map[string]bool{"email": true, "firstname": true, "lastname": true, "username": true}

func packCreateStep(c *Change) Step {
	attrs := map[string]string{}
	for _, a := range c.Attrs {
		if slices.Contains(packCreateAttrs, a.Name) && a.After != "" {
			attrs[a.Name] = a.After
		}
	}
	if attrs["email"] == "" && c.User.Email != "" {
		attrs["email"] = c.User.Email
	}
	// A create always carries an option so that resending it (after a
	// connection error whose outcome is unknown) is harmless.
	opt := c.Option
	if opt == "" {
		opt = OptionIgnoreIfExists
	}
	return Step{Kind: packCreateKinds[c.User.Type], Attrs: attrs, Option: opt}
}

// groupWork gathers the usergroup-rooted work of one user group.
type groupWork struct {
	name      string
	create    []int // ActionCreateGroup change IDs
	add       packList
	remove    packList
	firstSeen int
}

func (g *groupWork) steps() []wireStep {
	var out []wireStep
	if len(g.create) > 0 {
		out = append(out, wireStep{step: Step{Kind: StepCreateUserGroup, Option: OptionIgnoreIfExists,
			Description: "Automatically created by usersync"}, ids: g.create})
	}
	out = append(out, g.remove.chunks(func(names []string) Step { return Step{Kind: StepRemove, Users: names} })...)
	out = append(out, g.add.chunks(func(names []string) Step { return Step{Kind: StepAdd, Users: names} })...)
	return out
}

// orgWork is everything one org will receive.
type orgWork struct {
	users     []*userWork
	byUser    map[string]*userWork
	groups    map[string]*groupWork
	userGroup map[string]bool // writable user groups, normalised
}

func pack(p *Plan, exclude map[int]bool) packing {
	var out packing
	orgs := map[string]*orgWork{}
	orgOf := func(name string) *orgWork {
		o := orgs[name]
		if o == nil {
			o = &orgWork{byUser: map[string]*userWork{}, groups: map[string]*groupWork{}, userGroup: map[string]bool{}}
			for _, g := range p.UserGroups[name] {
				o.userGroup[NormalizeGroup(g)] = true
			}
			orgs[name] = o
		}
		return o
	}
	// uncreated holds the users whose create is not sent: their other
	// changes would only be refused.
	uncreated := map[string]bool{}
	for i := range p.Changes {
		c := &p.Changes[i]
		if exclude[c.ID] {
			continue
		}
		o := orgOf(c.Org)
		if c.Action == ActionCreateGroup {
			name := c.Group
			if name == "" {
				name = c.Key
			}
			g := o.group(name, i)
			g.create = append(g.create, c.ID)
			o.userGroup[NormalizeGroup(name)] = true
			continue
		}
		if reason := packInvalidReason(c); reason != "" {
			code := "usersync.invalid_change"
			if packBlocked(c) {
				code = ResultBlocked
			}
			out.invalid = append(out.invalid, ChangeResult{ChangeID: c.ID, Org: c.Org, Outcome: OutcomeFailed,
				Code: code, Message: reason})
			if c.Action == ActionCreate {
				uncreated[c.Org+"\x00"+packUserKey(c.User)] = true
			}
			continue
		}
		if uncreated[c.Org+"\x00"+packUserKey(c.User)] {
			out.invalid = append(out.invalid, ChangeResult{ChangeID: c.ID, Org: c.Org, Outcome: OutcomeFailed,
				Code: ResultBlocked, Message: "not sent: the account's create was not sent"})
			continue
		}
		k := packUserKey(c.User)
		u := o.byUser[k]
		if u == nil {
			u = &userWork{ref: c.User}
			o.byUser[k] = u
			o.users = append(o.users, u)
		}
		u.changeIDs = append(u.changeIDs, c.ID)
		switch c.Action {
		case ActionCreate:
			if u.create == nil {
				u.create = c
			}
			u.createIDs = append(u.createIDs, c.ID)
		case ActionUpdate:
			if u.update == nil {
				u.update = map[string]string{}
			}
			for _, a := range c.Attrs {
				if !packUpdateAttrs[a.Name] || a.After == "" {
					continue
				}
				if _, ok := u.update[a.Name]; !ok {
					u.updateKeys = append(u.updateKeys, a.Name)
				}
				u.update[a.Name] = a.After
			}
			u.updateIDs = append(u.updateIDs, c.ID)
		case ActionRemoveGroups:
			for _, g := range c.Groups {
				u.remove.add(g, c.ID)
			}
		case ActionAddGroups:
			for _, g := range c.Groups {
				u.add.add(g, c.ID)
			}
		case ActionRemoveAllGroups:
			u.removeAll = append(u.removeAll, c.ID)
		case ActionRemoveFromOrg, ActionDelete:
			u.rfo = append(u.rfo, c.ID)
			u.deleteAcct = u.deleteAcct || c.Action == ActionDelete
		}
	}

	for _, name := range packOrgOrder(p, orgs) {
		o := orgs[name]
		o.chooseUserGroupRoots()
		reqs := packCommands(o.commands())
		for i := range reqs {
			reqs[i].Org = name
			reqs[i].Request.TestOnly = p.TestMode
		}
		// UST's sync signals: start on the org's first request, end on its
		// last when there are several.
		if n := len(reqs); n > 0 {
			reqs[0].Request.SyncStart = true
			reqs[n-1].Request.SyncEnd = n > 1
		}
		out.requests = append(out.requests, reqs...)
	}
	return out
}

// packBlocked reports whether a change is refused because the org would
// refuse it (rather than because the change itself is malformed).
func packBlocked(c *Change) bool {
	return c.Blocked != "" || (c.Action == ActionCreate && strings.HasPrefix(packInvalidReason(c), "not sent:"))
}

// packInvalidReason says why a change cannot be sent, or "" when it can.
func packInvalidReason(c *Change) string {
	if c.Blocked != "" {
		return c.Blocked
	}
	if c.User.User == "" {
		return "the change names no user"
	}
	switch c.Action {
	case ActionCreate:
		if _, ok := packCreateKinds[c.User.Type]; !ok {
			return fmt.Sprintf("cannot create a user of identity type %q", c.User.Type)
		}
		for _, a := range c.Attrs {
			if a.Name == "country" && a.After != "" && !ValidCountry(a.After) {
				return fmt.Sprintf("not sent: country %q is not an ISO 3166-1 alpha-2 code, UMAPI would refuse the create", a.After)
			}
			if a.Name == "email" && a.After != "" {
				if why := ValidateEmail(a.After); why != "" {
					return fmt.Sprintf("not sent: email %q %s, UMAPI would refuse the create", a.After, why)
				}
			}
		}
	case ActionUpdate:
		for _, a := range c.Attrs {
			if packUpdateAttrs[a.Name] && a.After != "" {
				return ""
			}
		}
		return "the update changes no attribute UMAPI can update (email, username, firstname, lastname)"
	case ActionAddGroups, ActionRemoveGroups:
		if len(c.Groups) == 0 {
			return "the change names no group"
		}
	case ActionRemoveAllGroups, ActionRemoveFromOrg, ActionDelete:
	default:
		return fmt.Sprintf("unknown action %q", c.Action)
	}
	return ""
}

// packOrgOrder returns the orgs with work in Plan.Orgs order; orgs the plan
// does not list come after, sorted, with the primary last.
func packOrgOrder(p *Plan, orgs map[string]*orgWork) []string {
	var names []string
	seen := map[string]bool{}
	for _, n := range p.Orgs {
		if orgs[n] != nil && !seen[n] {
			names = append(names, n)
			seen[n] = true
		}
	}
	var rest []string
	for n := range orgs {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	slices.SortFunc(rest, func(a, b string) int {
		if (a == PrimaryOrg) != (b == PrimaryOrg) {
			if a == PrimaryOrg {
				return 1
			}
			return -1
		}
		return cmp.Compare(a, b)
	})
	return append(names, rest...)
}

func (o *orgWork) group(name string, seen int) *groupWork {
	k := NormalizeGroup(name)
	g := o.groups[k]
	if g == nil {
		g = &groupWork{name: name, firstSeen: seen}
		o.groups[k] = g
	}
	return g
}

// packCommandCost is the number of commands n steps need.
func packCommandCost(steps int) int {
	return (steps + MaxStepsPerCommand - 1) / MaxStepsPerCommand
}

func packListSteps(n int) int {
	return (n + MaxEntriesPerList - 1) / MaxEntriesPerList
}

// chooseUserGroupRoots decides which users' memberships travel in usergroup
// commands. A user qualifies when all its changes are memberships of
// writable user groups, it is addressed by a plain email, and it is not an
// Adobe ID addressed with useAdobeID (a usergroup list names users by email,
// and the server then prefers the non-Adobe-ID account). New users, users
// being removed and users whose email changes never qualify: the server does
// not order the commands of a request, so their memberships must stay after
// the create (or before the removal) in their own command.
//
// Starting with every qualifying user moved, it puts back, group by group
// from the least used, the users of any group whose usergroup commands cost
// more than the user commands they replace; ties favour user commands, whose
// errors name one user.
func (o *orgWork) chooseUserGroupRoots() {
	type cand struct {
		u      *userWork
		groups []string // normalised groups it touches
		moved  bool
	}
	var cands []*cand
	byGroup := map[string][]*cand{}
	type load struct{ add, remove int }
	loads := map[string]*load{}
	for _, u := range o.users {
		if !u.membershipOnly() || u.ref.Email == "" || !strings.Contains(u.ref.Email, "@") || u.ref.UseAdobeID {
			continue
		}
		ok := true
		var gs []string
		for _, l := range []*packList{&u.add, &u.remove} {
			for _, e := range l.entries {
				k := NormalizeGroup(e.name)
				if !o.userGroup[k] {
					ok = false
				}
				gs = append(gs, k)
			}
		}
		if !ok {
			continue
		}
		slices.Sort(gs)
		gs = slices.Compact(gs)
		c := &cand{u: u, groups: gs, moved: true}
		cands = append(cands, c)
		for _, g := range gs {
			byGroup[g] = append(byGroup[g], c)
		}
		for _, e := range u.add.entries {
			k := NormalizeGroup(e.name)
			if loads[k] == nil {
				loads[k] = &load{}
			}
			loads[k].add++
		}
		for _, e := range u.remove.entries {
			k := NormalizeGroup(e.name)
			if loads[k] == nil {
				loads[k] = &load{}
			}
			loads[k].remove++
		}
	}
	if len(cands) == 0 {
		return
	}
	created := func(g string) int {
		if gw := o.groups[g]; gw != nil && len(gw.create) > 0 {
			return 1
		}
		return 0
	}
	groupCost := func(g string, l load) int {
		return packCommandCost(created(g) + packListSteps(l.add) + packListSteps(l.remove))
	}
	userCost := func(u *userWork) int {
		return packCommandCost(len(u.steps()))
	}
	order := make([]string, 0, len(loads))
	for g := range loads {
		order = append(order, g)
	}
	slices.SortFunc(order, func(a, b string) int {
		la, lb := loads[a], loads[b]
		if c := cmp.Compare(la.add+la.remove, lb.add+lb.remove); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, g := range order {
		var affected []*cand
		for _, c := range byGroup[g] {
			if c.moved {
				affected = append(affected, c)
			}
		}
		if len(affected) == 0 {
			continue
		}
		// Cost change if these users go back to user commands.
		after := map[string]load{}
		delta := 0
		for _, c := range affected {
			delta += userCost(c.u)
			for _, e := range c.u.add.entries {
				k := NormalizeGroup(e.name)
				l, ok := after[k]
				if !ok {
					l = *loads[k]
				}
				l.add--
				after[k] = l
			}
			for _, e := range c.u.remove.entries {
				k := NormalizeGroup(e.name)
				l, ok := after[k]
				if !ok {
					l = *loads[k]
				}
				l.remove--
				after[k] = l
			}
		}
		for k, l := range after {
			delta += groupCost(k, l) - groupCost(k, *loads[k])
		}
		if delta > 0 {
			continue
		}
		for _, c := range affected {
			c.moved = false
		}
		for k, l := range after {
			*loads[k] = l
		}
	}
	for _, c := range cands {
		if !c.moved {
			continue
		}
		u := c.u
		for _, e := range u.add.entries {
			g := o.group(e.name, slices.Min(u.changeIDs))
			for _, id := range e.ids {
				g.add.add(u.ref.Email, id)
			}
		}
		for _, e := range u.remove.entries {
			g := o.group(e.name, slices.Min(u.changeIDs))
			for _, id := range e.ids {
				g.remove.add(u.ref.Email, id)
			}
		}
		u.add, u.remove = packList{}, packList{}
	}
}

// commands builds the org's commands in sending order: created groups
// (with any usergroup work for them), user commands, other usergroup
// commands.
func (o *orgWork) commands() []wireCommand {
	var cmds []wireCommand
	requestID := 0
	nextID := func() string {
		requestID++
		return fmt.Sprintf("action_%d", requestID)
	}
	groups := make([]*groupWork, 0, len(o.groups))
	for _, g := range o.groups {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b *groupWork) int {
		if ca, cb := len(a.create) > 0, len(b.create) > 0; ca != cb {
			if ca {
				return -1 // creates first
			}
			return 1
		}
		return cmp.Compare(a.firstSeen, b.firstSeen)
	})
	createCmd := map[string]int{}
	emitGroup := func(g *groupWork) {
		steps := g.steps()
		if len(steps) == 0 {
			return
		}
		root := Command{UserGroup: g.name, RequestID: nextID()}
		first := len(cmds)
		for i := 0; i < len(steps); i += MaxStepsPerCommand {
			wc := wireCommand{cmd: root, steps: steps[i:min(i+MaxStepsPerCommand, len(steps))]}
			if i > 0 && len(g.create) > 0 {
				wc.after = []int{first}
			}
			cmds = append(cmds, wc)
		}
		if len(g.create) > 0 {
			createCmd[NormalizeGroup(g.name)] = first
		}
	}
	for _, g := range groups {
		if len(g.create) > 0 {
			emitGroup(g)
		}
	}
	for _, u := range o.users {
		steps := u.steps()
		if len(steps) == 0 {
			continue
		}
		root := Command{User: u.ref.User, Domain: u.ref.Domain, UseAdobeID: u.ref.UseAdobeID, RequestID: nextID()}
		// Commands adding to or removing from a group created in this run
		// must come after the creation.
		var deps []int
		for _, l := range []*packList{&u.add, &u.remove} {
			for _, e := range l.entries {
				if i, ok := createCmd[NormalizeGroup(e.name)]; ok && !slices.Contains(deps, i) {
					deps = append(deps, i)
				}
			}
		}
		ordered := u.create != nil || len(u.rfo) > 0
		for i := 0; i < len(steps); i += MaxStepsPerCommand {
			wc := wireCommand{cmd: root, steps: steps[i:min(i+MaxStepsPerCommand, len(steps))], after: deps}
			if i > 0 && ordered {
				wc.after = append(slices.Clone(deps), len(cmds)-1)
			}
			cmds = append(cmds, wc)
		}
	}
	for _, g := range groups {
		if len(g.create) == 0 {
			emitGroup(g)
		}
	}
	return cmds
}

// packCommands fills requests with up to MaxCommandsPerRequest commands in
// order, deferring a command whose prerequisite sits in the request being
// filled to the next one.
func packCommands(cmds []wireCommand) []PackedRequest {
	var out []PackedRequest
	reqOf := make([]int, len(cmds))
	for i := range reqOf {
		reqOf[i] = -1
	}
	var deferred []int
	next := 0
	for len(deferred) > 0 || next < len(cmds) {
		cur := len(out)
		var r PackedRequest
		full := func() bool { return len(r.Request.Commands) == MaxCommandsPerRequest }
		tryAdd := func(ci int) bool {
			for _, d := range cmds[ci].after {
				if reqOf[d] < 0 || reqOf[d] == cur {
					return false
				}
			}
			reqOf[ci] = cur
			cmd := cmds[ci].cmd
			cmd.Steps = make([]Step, len(cmds[ci].steps))
			carries := make([][]int, len(cmds[ci].steps))
			for j, s := range cmds[ci].steps {
				cmd.Steps[j] = s.step
				carries[j] = s.ids
			}
			r.Request.Commands = append(r.Request.Commands, cmd)
			r.Carries = append(r.Carries, carries)
			return true
		}
		var later []int
		k := 0
		for ; k < len(deferred) && !full(); k++ {
			if !tryAdd(deferred[k]) {
				later = append(later, deferred[k])
			}
		}
		deferred = deferred[k:]
		for next < len(cmds) && !full() {
			if !tryAdd(next) {
				later = append(later, next)
			}
			next++
		}
		if len(r.Request.Commands) == 0 {
			// Unreachable: prerequisites always precede their dependants.
			panic("core: action packing made no progress")
		}
		deferred = append(deferred, later...)
		out = append(out, r)
	}
	return out
}
