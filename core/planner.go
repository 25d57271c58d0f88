package core

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// PlanVersion is the version of the Plan format BuildPlan produces.
const PlanVersion = 1

// LevelCritical is the slog level of UST's CRITICAL messages (a safety
// limit that blocked Adobe-only actions, for example).
const LevelCritical = slog.Level(12)

// maxPlanWarnings caps Plan.Warnings; the log keeps every message.
const maxPlanWarnings = 1000

// want is one desired Adobe group of a directory user.
type want struct {
	org  int32
	why  int32 // reason index
	name string
}

// dirRec is one selected directory user (or several that share an email or
// username, collapsed as UST does).
type dirRec struct {
	u     *DirectoryUser
	k     userKey
	wants []want
}

func (r *dirRec) addWant(org int, name string, why int32) {
	for _, w := range r.wants {
		if int(w.org) == org && w.name == name {
			return
		}
	}
	r.wants = append(r.wants, want{org: int32(org), why: why, name: name})
}

func (r *dirRec) hasWant(org int, name string) bool {
	for _, w := range r.wants {
		if int(w.org) == org && w.name == name {
			return true
		}
	}
	return false
}

func (r *dirRec) inOrg(org int) bool {
	if org == 0 {
		return true
	}
	for _, w := range r.wants {
		if int(w.org) == org {
			return true
		}
	}
	return false
}

// wantNames returns the sorted desired groups in org.
func (r *dirRec) wantNames(org int) []string {
	var out []string
	for _, w := range r.wants {
		if int(w.org) == org {
			out = append(out, w.name)
		}
	}
	sort.Strings(out)
	return out
}

// strayRec is an Adobe-only user of one org.
type strayRec struct {
	k      userKey
	ref    UserRef
	remove []string // mapped groups to remove (with process-groups)
	mapped []string // mapped groups it holds (for the grace period)
}

// orgRun is the per-org state of one planning run.
type orgRun struct {
	matched   []bool // by record index: an Adobe account was found
	strays    []strayRec
	strayKeys map[userKey]int
}

// planner holds one BuildPlan run.
type planner struct {
	ctx  context.Context
	o    *Options
	snap *Snapshot
	tr   *tracer
	g    *groupIndex

	userFilter   *regexp.Regexp
	excludeUsers []*regexp.Regexp
	excludeTypes map[IdentityType]bool
	excludeGrps  map[string]bool
	updAttrs     map[string]bool

	recs []dirRec
	idx  *recIndex
	orgs []orgRun

	adobeIDEmails map[string]struct{}
	included      map[userKey]struct{}
	norm          map[string]string // group spelling → normalised, shared
	scratch       []string
	wantBuf       []want // scratch for one user's desired groups
	wantArena     []want

	creating  map[string]bool            // org + "\x00" + group: groups the plan creates
	orgGroups map[string]map[string]bool // org → normalised names of the groups read
	// invalid holds the lower-cased emails and usernames of directory
	// users skipped for values UMAPI would refuse: their Adobe accounts are
	// left alone rather than treated as Adobe-only.
	invalid map[string]bool

	createdPrimary   map[string]struct{}
	createdSecondary map[string]struct{}
	updated          map[string]struct{}
	addSources       []map[string][]string // per org: additional target → member groups

	changes  changeList
	strayChg changeList
	plan     *Plan
	c        Counters
	grace    graceState
}

// BuildPlan turns a snapshot of both sides into the list of changes UST's
// rules call for (UST §3; the few deliberate differences are listed in
// docs/sync-rules.md). It never modifies snap, calls o.Hook once per
// selected directory user, and records UST's log lines as the plan's Notes (LogNotes renders them). A fatal
// rule violation (an additional-group conflict, a failing hook) returns an
// error and no plan; the notes made until then come with it (PlanError).
func BuildPlan(ctx context.Context, snap *Snapshot, o *Options) (*Plan, error) {
	p, err := newPlanner(ctx, snap, o, nil)
	if err != nil {
		return nil, err
	}
	return p.run()
}

func newPlanner(ctx context.Context, snap *Snapshot, o *Options, tr *tracer) (*planner, error) {
	if snap == nil {
		snap = &Snapshot{}
	}
	g, err := newGroupIndex(o)
	if err != nil {
		return nil, Errorf(CodeInvalidInput, "plan", "%v", err)
	}
	p := &planner{
		ctx: ctx, o: o, snap: snap, tr: tr, g: g,
		excludeTypes:     map[IdentityType]bool{},
		excludeGrps:      map[string]bool{},
		updAttrs:         map[string]bool{},
		adobeIDEmails:    map[string]struct{}{},
		norm:             map[string]string{},
		createdPrimary:   map[string]struct{}{},
		createdSecondary: map[string]struct{}{},
		updated:          map[string]struct{}{},
		orgs:             make([]orgRun, len(g.orgs)),
		addSources:       make([]map[string][]string, len(g.orgs)),
	}
	if o.UserFilter != nil {
		p.userFilter = anchored(o.UserFilter)
	}
	for _, re := range o.ExcludeUsers {
		if re != nil {
			p.excludeUsers = append(p.excludeUsers, anchored(re))
		}
	}
	for _, t := range o.ExcludeIdentityTypes {
		p.excludeTypes[t] = true
	}
	for _, gname := range o.ExcludeAdobeGroups {
		_, n := SplitQualifiedGroup(gname)
		p.excludeGrps[NormalizeGroup(n)] = true
	}
	attrs := o.UpdateAttributes
	if attrs == nil {
		attrs = []string{"firstname", "lastname", "email"}
	}
	for _, a := range attrs {
		p.updAttrs[strings.ToLower(strings.TrimSpace(a))] = true
	}
	for i := range p.addSources {
		p.addSources[i] = map[string][]string{}
	}
	p.plan = &Plan{
		Version:         PlanVersion,
		CreatedAt:       time.Now().UTC(),
		Strategy:        o.Strategy,
		TestMode:        o.TestMode,
		AdobeOnlyAction: o.AdobeOnlyAction,
	}
	if p.plan.Strategy == "" {
		p.plan.Strategy = StrategySync
	}
	if p.plan.AdobeOnlyAction == "" {
		p.plan.AdobeOnlyAction = AdobeOnlyPreserve
	}
	p.plan.Orgs = append(append(p.plan.Orgs, g.orgs[1:]...), PrimaryOrg)
	return p, nil
}

func (p *planner) push() bool { return p.o.Strategy == StrategyPush }

func (p *planner) listMode() bool { return p.o.AdobeOnlyList != nil }

// manage reports whether Adobe-only users get any action (§3.10.1).
func (p *planner) manage() bool {
	a := p.o.AdobeOnlyAction
	return p.o.ProcessGroups || a == AdobeOnlyRemoveAdobeGroups || a == AdobeOnlyRemove || a == AdobeOnlyDelete
}

// tracked reports whether Adobe-only users are recorded at all (§3.10.1).
func (p *planner) tracked() bool {
	if p.push() || p.o.AdobeOnlyAction == AdobeOnlyExclude {
		return false
	}
	return p.o.AdobeOnlyAction == AdobeOnlyWriteFile || p.manage()
}

// notef records one of UST's log lines on the plan. Debug-level notes
// are only formatted and kept with Options.DebugNotes, since a
// million-user run would otherwise keep a line per account nobody reads.
func (p *planner) notef(kind NoteKind, org, key, format string, args ...any) string {
	if kind.Level() < slog.LevelInfo && !p.o.DebugNotes {
		return ""
	}
	msg := fmt.Sprintf(format, args...)
	if org == PrimaryOrg {
		org = ""
	}
	p.plan.Notes = append(p.plan.Notes, Note{Kind: kind, Org: org, Key: key, Text: msg})
	return msg
}

// warnf records a warning, also among the plan's warnings.
func (p *planner) warnf(format string, args ...any) {
	p.note(p.notef(NoteWarning, "", "", format, args...))
}

// errorf records an error that skips a user, also among the plan's
// warnings.
func (p *planner) errorf(format string, args ...any) {
	p.note(p.notef(NoteError, "", "", format, args...))
}

func (p *planner) note(msg string) {
	switch {
	case len(p.plan.Warnings) < maxPlanWarnings:
		p.plan.Warnings = append(p.plan.Warnings, msg)
	case len(p.plan.Warnings) == maxPlanWarnings:
		p.plan.Warnings = append(p.plan.Warnings, "more warnings were logged")
	}
}

// pySet formats names as UST's logs show a Python set.
func pySet(names []string) string {
	if len(names) == 0 {
		return "set()"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return "{" + strings.Join(q, ", ") + "}"
}

// pyDict formats attribute changes as UST's logs show a Python dict.
func pyDict(as []AttrChange) string {
	q := make([]string, len(as))
	for i, a := range as {
		q[i] = "'" + a.Name + "': '" + a.After + "'"
	}
	return "{" + strings.Join(q, ", ") + "}"
}

func (p *planner) normGroup(s string) string {
	if n, ok := p.norm[s]; ok {
		return n
	}
	n := NormalizeGroup(s)
	p.norm[s] = n
	return n
}

func (p *planner) cancelled(i int) error {
	if i&0xffff == 0 {
		return p.ctx.Err()
	}
	return nil
}

func (p *planner) run() (*Plan, error) {
	digestDone := make(chan struct{})
	go func() {
		defer close(digestDone)
		p.plan.DirectoryDigest = DirectoryDigest(&p.snap.Directory)
		p.plan.AdobeDigest = AdobeDigest(p.snap.Adobe)
	}()
	err := p.runRules()
	if err == nil {
		p.plan.Findings = Diagnose(p.snap, p.o)
	}
	<-digestDone
	if err != nil {
		if len(p.plan.Notes) > 0 {
			err = &PlanError{Err: err, Notes: p.plan.Notes}
		}
		return nil, err
	}
	return p.plan, nil
}

func (p *planner) runRules() error {
	if p.listMode() {
		p.fromList()
		p.finish()
		return nil
	}
	if err := p.loadDirectory(); err != nil {
		return err
	}
	if err := p.checkAdditional(); err != nil {
		return err
	}
	if !p.push() && p.o.ProcessGroups && p.o.AutoCreate {
		p.autoCreate()
	}
	for oi := range p.g.orgs {
		if oi > 0 && !p.g.orgHasGroups(oi) {
			p.trace("match", "skipped", "org %q has no mapped groups, so it is not read or changed", p.g.orgs[oi])
			continue
		}
		p.orgs[oi].matched = make([]bool, len(p.recs))
		if !p.push() {
			if err := p.syncOrg(oi); err != nil {
				return err
			}
		}
		for ri := range p.recs {
			if err := p.cancelled(ri); err != nil {
				return err
			}
			if p.orgs[oi].matched[ri] || !p.recs[ri].inOrg(oi) {
				continue
			}
			p.create(oi, &p.recs[ri])
		}
	}
	if p.tracked() {
		p.processStrays()
	}
	p.finish()
	return nil
}

// finish computes the counters and orders the changes.
func (p *planner) finish() {
	c := &p.c
	c.Updated = len(p.updated)
	c.Created = len(p.createdPrimary)
	c.SecondaryCreated = len(p.createdSecondary)
	c.StraysTracked = p.tracked()
	if c.AdobeUsersRead > 0 {
		c.Unchanged = max(0, c.AdobeUsersRead-c.Excluded-c.Updated-c.StraysProcessed)
	}
	p.plan.Counters = *c
	rank := map[string]int{}
	for i, o := range p.plan.Orgs {
		rank[o] = i
	}
	if p.plan.Limit != nil && p.plan.Limit.Exceeded {
		p.plan.Changes = orderChanges(rank, &p.changes)
		p.plan.Withheld = orderChanges(rank, &p.strayChg)
	} else {
		p.plan.Changes = orderChanges(rank, &p.changes, &p.strayChg)
	}
	p.holdGroupRemovals()
	p.holdSeats()
	p.carryPending()
	p.recount()
	for i := range p.plan.Changes {
		p.plan.Changes[i].ID = i
	}
	// Withheld changes continue the numbering so that every change of a
	// plan has its own ID.
	for i := range p.plan.Withheld {
		p.plan.Withheld[i].ID = len(p.plan.Changes) + i
	}
	if p.plan.Changes == nil {
		p.plan.Changes = []Change{}
	}
	p.holdIDs()
	p.userGroups()
}

// userGroups fills Plan.UserGroups from the groups read from each org.
func (p *planner) userGroups() {
	for name, os := range p.snap.Adobe {
		var gs []string
		for _, g := range os.Groups {
			if g.Type == "USER_GROUP" && !g.ReadOnly {
				gs = append(gs, NormalizeGroup(g.Name))
			}
		}
		if len(gs) == 0 {
			continue
		}
		sort.Strings(gs)
		if p.plan.UserGroups == nil {
			p.plan.UserGroups = map[string][]string{}
		}
		p.plan.UserGroups[name] = gs
	}
}

// changeList collects changes in fixed-size chunks, so that a plan of
// hundreds of thousands of changes is never copied while it grows.
type changeList struct {
	chunks [][]Change
	n      int
}

func (l *changeList) add(c Change) {
	if len(l.chunks) == 0 || len(l.chunks[len(l.chunks)-1]) == cap(l.chunks[len(l.chunks)-1]) {
		l.chunks = append(l.chunks, make([]Change, 0, 4096))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, c)
	l.n++
}

// orderChanges returns the changes of the lists in execution order (§3.15):
// by org (secondaries first, primary last), group creations first, then by
// user key and, for one user, create, update, remove, add, remove from org.
// It sorts indexes rather than the large Change values.
func orderChanges(rank map[string]int, lists ...*changeList) []Change {
	var flat []*Change
	for _, l := range lists {
		for ci := range l.chunks {
			for i := range l.chunks[ci] {
				flat = append(flat, &l.chunks[ci][i])
			}
		}
	}
	perm := make([]int32, len(flat))
	for i := range perm {
		perm[i] = int32(i)
	}
	sort.Slice(perm, func(i, j int) bool {
		a, b := flat[perm[i]], flat[perm[j]]
		if ra, rb := rank[a.Org], rank[b.Org]; ra != rb {
			return ra < rb
		}
		ga, gb := a.Action == ActionCreateGroup, b.Action == ActionCreateGroup
		if ga != gb {
			return ga
		}
		if !ga {
			if a.Key != b.Key {
				return a.Key < b.Key
			}
			if x, y := actionRank(a.Action), actionRank(b.Action); x != y {
				return x < y
			}
		}
		return perm[i] < perm[j]
	})
	out := make([]Change, len(flat))
	for i, pi := range perm {
		out[i] = *flat[pi]
	}
	return out
}

func actionRank(a Action) int {
	switch a {
	case ActionCreate:
		return 0
	case ActionUpdate:
		return 1
	case ActionRemoveGroups, ActionRemoveAllGroups:
		return 2
	case ActionAddGroups:
		return 3
	}
	return 4
}

func (p *planner) emit(c Change) {
	if c.Action == ActionCreateGroup {
		if p.creating == nil {
			p.creating = map[string]bool{}
		}
		p.creating[c.Org+"\x00"+NormalizeGroup(c.Group)] = true
	}
	if c.Action == ActionAddGroups {
		if ok, missing := p.splitMissing(c.Org, c.Groups); len(missing) > 0 {
			if len(ok) > 0 {
				c.Groups = ok
				p.changes.add(c)
			}
			c.Groups = missing
			c.Blocked = fmt.Sprintf("%s: no such group in %s, and auto_create is off", quoteList(missing), orgLabel(c.Org))
			p.notef(NoteBlocked, c.Org, c.Key, "Not adding %s to %s, which will fail: %s", c.User.User, quoteList(missing), c.Blocked)
			p.changes.add(c)
			return
		}
	}
	p.changes.add(c)
}

// splitMissing splits normalised groups into those the org has (or the
// plan creates) and those it lacks. When the org's groups were not read
// nothing is missing.
func (p *planner) splitMissing(org string, groups []string) (ok, missing []string) {
	os := p.snap.Adobe[org]
	if len(os.Groups) == 0 {
		return groups, nil
	}
	if p.orgGroups == nil {
		p.orgGroups = map[string]map[string]bool{}
	}
	have := p.orgGroups[org]
	if have == nil {
		have = make(map[string]bool, len(os.Groups))
		for _, g := range os.Groups {
			have[NormalizeGroup(g.Name)] = true
		}
		p.orgGroups[org] = have
	}
	for _, g := range groups {
		n := NormalizeGroup(g)
		if have[n] || p.creating[org+"\x00"+n] {
			ok = append(ok, g)
		} else {
			missing = append(missing, g)
		}
	}
	return ok, missing
}

func (p *planner) reasonsFor(r *dirRec, org int, names []string) []string {
	var out []string
	for _, n := range names {
		for _, w := range r.wants {
			if int(w.org) == org && w.name == n {
				out = append(out, p.g.reasons[w.why])
				break
			}
		}
	}
	return dedupe(out)
}

func dedupe(ss []string) []string {
	if len(ss) < 2 {
		return ss
	}
	seen := make(map[string]bool, len(ss))
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func orgLabel(name string) string {
	if name == PrimaryOrg {
		return "primary org"
	}
	return name
}

// limit evaluates max_adobe_only_users for count Adobe-only users
// (§3.10.3); equality is allowed.
func (p *planner) limit(count int) *LimitReport {
	l := p.o.MaxAdobeOnly
	r := &LimitReport{Count: count, Setting: l.Text}
	switch {
	case !l.Set:
		r.Max, r.Setting = 200, "200"
	case l.IsPercent:
		base := p.c.AdobeUsersRead - p.c.Excluded
		r.Max = int(math.Floor(l.Percent*float64(base)/100 + 1e-9))
		if r.Max < 0 {
			r.Max = 0
		}
		if r.Setting == "" {
			r.Setting = fmt.Sprintf("%g%%", l.Percent)
		}
	default:
		r.Max = l.Count
		if r.Setting == "" {
			r.Setting = fmt.Sprint(l.Count)
		}
	}
	r.Exceeded = count > r.Max
	return r
}
