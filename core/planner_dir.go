package core

import (
	"fmt"
	"sort"
	"strings"
)

// loadDirectory selects directory users and computes their desired groups
// (UST §3.4, §5).
func (p *planner) loadDirectory() error {
	users := p.snap.Directory.Users
	filter := directoryFilter(p.o)
	p.idx = newRecIndex(len(users), func(i int32) string { return p.recs[i].k.Username })
	p.recs = make([]dirRec, 0, len(users))
	for _, g := range p.snap.Directory.MissingGroups {
		p.note(fmt.Sprintf("Directory group %q was not found; its members cannot be selected or mapped", g))
	}
	def := p.o.DefaultIdentityType
	if def == "" {
		def = EnterpriseID
	}
	for i := range users {
		if err := p.cancelled(i); err != nil {
			return err
		}
		u := &users[i]
		traced := p.tr.dirHit(u)
		if traced {
			p.tr.dir = u
			p.tr.add("source", "found", "directory record %s", describeDir(u))
		}
		if u.Disabled != "" {
			if traced {
				p.traceDisabled(u)
			}
			continue
		}
		k, ok := directoryKey(u, def)
		if !ok {
			p.warnf("Ignoring directory user with empty user key: %s", describeDir(u))
			if traced {
				p.tr.add("source", "ignored", "the record has no valid user key (type, username or email and domain are missing or invalid), so it is ignored")
			}
			continue
		}
		p.c.DirectoryUsersRead++
		if ps := ValidateDirectoryUser(u); len(ps) > 0 {
			// Diagnose reports it (once); here it is only kept out.
			if p.invalid == nil {
				p.invalid = map[string]bool{}
			}
			p.invalid[lowerTrim(u.Email)], p.invalid[lowerTrim(u.Username)] = true, true
			if traced {
				p.tr.add("validation", "skipped", "%s; UMAPI would refuse it, so the user is skipped and nothing is sent for it; its Adobe account, if any, is left alone", invalidUserFinding(u, ps).Message)
			}
			continue
		}
		if filter != nil && !inAny(u.Groups, filter) {
			if traced {
				p.traceNotSelected(u)
			}
			continue
		}
		if p.userFilter != nil && !p.userFilter.MatchString(k.Username) {
			if traced {
				p.tr.add("selection", "not selected", "--user-filter %q does not match the whole username %q", p.o.UserFilter.String(), k.Username)
			}
			continue
		}
		p.c.DirectoryUsersSelected++
		if traced {
			p.tr.add("selection", "selected", "user key %s is selected for sync", k.String())
		}
		rec := dirRec{u: u, k: k, wants: p.wantBuf[:0]}
		if err := p.mapUser(&rec, traced); err != nil {
			return err
		}
		p.wantBuf = rec.wants[:0]
		rec.wants = p.keepWants(rec.wants)
		if traced {
			p.traceWants(&rec)
			if !p.o.ProcessGroups {
				p.tr.add("mapping", "not applied", "--process-groups is off: group memberships are neither added nor removed")
			}
		}
		if rec.u != u {
			// The hook changed identifying attributes: key the user by what
			// will be sent (UST keeps the old key; see docs/sync-rules.md).
			nk, ok := directoryKey(rec.u, def)
			if !ok {
				p.warnf("Ignoring directory user whose attributes the hook made invalid: %s", describeDir(rec.u))
				continue
			}
			rec.k = nk
		}
		if ri, _ := p.idx.lookup(rec.k.Email, rec.k.Username); ri >= 0 {
			// Directory users sharing an email or username collapse into one
			// record (UST §3.4.2); the later record's attributes win.
			old := &p.recs[ri]
			p.notef(NoteMerged, "", rec.k.String(), "Directory users %s and %s share an email or username; merged", old.k, rec.k)
			old.u, old.k = rec.u, rec.k
			for _, w := range rec.wants {
				old.addWant(int(w.org), w.name, w.why)
			}
			p.idx.add(rec.k.Email, rec.k.Username, ri)
			continue
		}
		ri := int32(len(p.recs))
		p.recs = append(p.recs, rec)
		p.idx.add(rec.k.Email, rec.k.Username, ri)
	}
	// Users the source read but did not select were read all the same.
	p.c.DirectoryUsersRead += len(p.snap.Directory.Unselected)
	if p.tr != nil && p.tr.dir == nil {
		p.traceUnselected()
	}
	return nil
}

// traceUnselected explains a user the source read but did not return as
// selected, or says that the source has no such user.
func (p *planner) traceUnselected() {
	for i := range p.snap.Directory.Unselected {
		u := &p.snap.Directory.Unselected[i]
		if !p.tr.dirHit(u) {
			continue
		}
		p.tr.dir = u
		p.tr.add("source", "found", "directory record %s", describeDir(u))
		if u.Disabled != "" {
			p.traceDisabled(u)
		} else {
			p.traceNotSelected(u)
		}
		return
	}
	if p.tr.searched != "" {
		p.tr.add("source", "not found", "no directory user has the email or username %q: searched %s", p.tr.q, p.tr.searched)
		return
	}
	q := DirectoryQuery(p.o)
	scope := "every user"
	if !q.AllUsers {
		scope = "the members of " + quoteList(q.Groups)
	}
	p.tr.add("source", "not found", "no directory user has the email or username %q among the %d read from the directory (%s)",
		p.tr.q, len(p.snap.Directory.Users)+len(p.snap.Directory.Unselected), scope)
}

// traceDisabled says that a user the directory has is never selected
// because its account is disabled, whatever its groups.
func (p *planner) traceDisabled(u *DirectoryUser) {
	p.tr.add("selection", "not selected", "the directory account %s is %s, so it is never selected, whatever its groups %s",
		u.Origin, u.Disabled, quoteList(u.Groups))
}

// traceNotSelected says exactly why a user read from the directory is not
// selected, naming the mapped directory groups nearest to its own.
func (p *planner) traceNotSelected(u *DirectoryUser) {
	switch p.o.Users {
	case UsersMapped:
		p.tr.add("selection", "not selected", "--users mapped selects members of mapped directory groups; the user's groups %s are not mapped%s",
			quoteList(u.Groups), p.nearestMapped(u.Groups))
	case UsersGroup:
		p.tr.add("selection", "not selected", "--users group %s: the user is in none of these groups; its groups are %s",
			quoteList(p.o.UsersGroups), quoteList(u.Groups))
	default:
		p.tr.add("selection", "not selected", "the directory read only members of the requested groups, and the user's groups %s are not among them%s",
			quoteList(u.Groups), p.nearestMapped(u.Groups))
	}
}

// nearestMapped says, for each of groups that is not mapped, the nearest
// mapped directory group and where it maps to, as " (…)"; "" when none is
// near.
func (p *planner) nearestMapped(groups []string) string {
	mapped := map[string][]string{}
	var names []string
	for _, m := range p.o.GroupMapping {
		if _, ok := mapped[m.DirectoryGroup]; !ok {
			names = append(names, m.DirectoryGroup)
		}
		mapped[m.DirectoryGroup] = append(mapped[m.DirectoryGroup], m.AdobeGroups...)
	}
	var hints []string
	for _, g := range groups {
		if _, ok := mapped[g]; ok {
			continue
		}
		if n := Nearest(g, names); n != "" {
			hints = append(hints, fmt.Sprintf("the mapping names %q (→ %s), near %q: did you mean it?", n, quoteNames(mapped[n]), g))
		}
	}
	if len(hints) == 0 {
		if len(names) == 0 {
			return "; no directory group is mapped"
		}
		return fmt.Sprintf("; the mapped directory groups are %s", quoteList(names))
	}
	return "; " + strings.Join(hints, "; ")
}

// traceWants states the user's desired groups per org.
func (p *planner) traceWants(rec *dirRec) {
	for oi, name := range p.g.orgs {
		if ws := rec.wantNames(oi); len(ws) > 0 || oi == 0 {
			p.tr.add("mapping", "desired groups", "in %s the user should have %s", orgLabel(name), quoteList(ws))
		}
	}
}

// keepWants copies a user's desired groups into a shared arena, so that a
// million users cost a few large allocations instead of a million small
// ones. The returned slice has no spare capacity: a later append copies.
func (p *planner) keepWants(ws []want) []want {
	if len(ws) == 0 {
		return nil
	}
	if cap(p.wantArena)-len(p.wantArena) < len(ws) {
		p.wantArena = make([]want, 0, max(1<<16, len(ws)))
	}
	start := len(p.wantArena)
	p.wantArena = append(p.wantArena, ws...)
	return p.wantArena[start:len(p.wantArena):len(p.wantArena)]
}

// mapUser applies the group mapping, the hook and additional-group rules
// to one selected user (UST §3.4.2 steps 5–8).
func (p *planner) mapUser(rec *dirRec, traced bool) error {
	u := rec.u
	if p.o.Hook == nil {
		for _, dg := range u.Groups {
			for _, t := range p.g.dirMap[dg] {
				rec.addWant(t.ref.org, t.ref.name, t.why)
				if traced {
					p.tr.add("mapping", "mapped", "%s", p.g.reasons[t.why])
				}
			}
		}
	} else if err := p.runHook(rec, traced); err != nil {
		return err
	}
	if traced && len(rec.wants) == 0 {
		p.tr.add("mapping", "no groups", "the user's directory groups %s are not mapped to any Adobe group%s", quoteList(u.Groups), p.nearestMapped(u.Groups))
	}
	for _, mg := range u.MemberGroups {
		for _, r := range p.g.rules {
			if !matchAtStart(r.src, mg) {
				continue
			}
			name := strings.TrimSpace(r.src.ReplaceAllString(mg, r.tmpl))
			if name == "" {
				continue
			}
			ref := groupRef{org: r.org, name: NormalizeGroup(name)}
			p.g.addMapped(ref, name, true)
			srcs := p.addSources[r.org][ref.name]
			if !containsString(srcs, mg) {
				p.addSources[r.org][ref.name] = append(srcs, mg)
			}
			why := p.g.reason(fmt.Sprintf("%s: member group %q → %q", r.text, mg, name))
			rec.addWant(r.org, ref.name, why)
			if traced {
				p.tr.add("additional-groups", "added", "%s", p.g.reasons[why])
			}
		}
	}
	return nil
}

// runHook calls the extension's after_mapping_hook for one user (§5).
func (p *planner) runHook(rec *dirRec, traced bool) error {
	u := rec.u
	whyOf := map[string]int32{}
	var before []string
	for _, dg := range u.Groups {
		for _, t := range p.g.dirMap[dg] {
			if _, ok := whyOf[t.qual]; !ok {
				whyOf[t.qual] = t.why
				before = append(before, t.qual)
			}
		}
	}
	sort.Strings(before)
	attrs := make(map[string]any, len(u.Attributes))
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	ta := map[string]any{}
	for _, f := range hookAttrs {
		if v := f.get(u); v != "" {
			ta[f.name] = v
		} else {
			ta[f.name] = nil
		}
	}
	hc := &HookContext{
		SourceAttributes: attrs,
		SourceGroups:     append([]string(nil), u.Groups...),
		TargetAttributes: ta,
		TargetGroups:     append([]string(nil), before...),
	}
	p.notef(NoteHookGroups, "", "", "Target groups, before: %s", pySet(hc.TargetGroups))
	if err := p.o.Hook.Run(p.ctx, hc); err != nil {
		return fmt.Errorf("after_mapping_hook for %s: %w", u.Email, err)
	}
	p.notef(NoteHookGroups, "", "", "Target groups, after: %s", pySet(hc.TargetGroups))
	if traced {
		p.tr.add("hook", "ran", "after_mapping_hook ran with target groups %s and returned %s", quoteList(before), quoteList(hc.TargetGroups))
	}
	// Attributes written back by the hook.
	var nu *DirectoryUser
	for _, f := range hookAttrs {
		v, _ := hc.TargetAttributes[f.name].(string)
		if v != f.get(u) {
			if nu == nil {
				c := *u
				nu = &c
			}
			f.set(nu, v)
			if traced {
				p.tr.add("hook", "changed", "the hook set %s from %q to %q", f.name, f.get(u), v)
			}
		}
	}
	if nu != nil {
		rec.u = nu
	}
	after := map[string]bool{}
	for _, q := range hc.TargetGroups {
		after[q] = true
	}
	if traced {
		for _, q := range before {
			if !after[q] {
				p.tr.add("hook", "removed", "the hook removed group %q", q)
			}
		}
	}
	hookWhy := p.g.reason("added by the extension's after_mapping_hook")
	for _, q := range sortedKeys(after) {
		why, mapped := whyOf[q]
		if !mapped {
			why = hookWhy
		}
		ref, ok := p.g.known[q]
		if !ok {
			p.errorf("Target adobe group %s is not known; ignored", q)
			if traced {
				p.tr.add("hook", "ignored", "the hook added %q, which is not a known group (map it or list it in extended_adobe_groups)", q)
			}
			continue
		}
		rec.addWant(ref.org, ref.name, why)
		if traced {
			if mapped {
				p.tr.add("mapping", "mapped", "%s", p.g.reasons[why])
			} else {
				p.tr.add("hook", "added", "the hook added group %q", q)
			}
		}
	}
	return nil
}

type hookAttr struct {
	name string
	get  func(*DirectoryUser) string
	set  func(*DirectoryUser, string)
}

var hookAttrs = []hookAttr{
	{"email", func(u *DirectoryUser) string { return u.Email }, func(u *DirectoryUser, v string) { u.Email = v }},
	{"username", func(u *DirectoryUser) string { return u.Username }, func(u *DirectoryUser, v string) { u.Username = v }},
	{"domain", func(u *DirectoryUser) string { return u.Domain }, func(u *DirectoryUser, v string) { u.Domain = v }},
	{"firstname", func(u *DirectoryUser) string { return u.Firstname }, func(u *DirectoryUser, v string) { u.Firstname = v }},
	{"lastname", func(u *DirectoryUser) string { return u.Lastname }, func(u *DirectoryUser, v string) { u.Lastname = v }},
	{"country", func(u *DirectoryUser) string { return u.Country }, func(u *DirectoryUser, v string) { u.Country = v }},
}

// checkAdditional fails when one additional-group target came from two
// different source groups, and logs each mapping (UST §3.4.4).
func (p *planner) checkAdditional() error {
	for oi, m := range p.addSources {
		for _, target := range sortedKeys(m) {
			srcs := m[target]
			if len(srcs) > 1 {
				return Errorf(CodeInvalidInput, "additional_groups",
					"additional group resolution conflict: %s map to %q on %s", quoteList(srcs), target, orgLabel(p.g.orgs[oi]))
			}
			p.notef(NoteAdditionalGroup, p.g.orgs[oi], target, "Mapped additional group '%s' to '%s' on '%s'", srcs[0], target, orgLabel(p.g.orgs[oi]))
		}
	}
	return nil
}

func inAny(groups []string, set map[string]bool) bool {
	for _, g := range groups {
		if set[g] {
			return true
		}
	}
	return false
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func describeDir(u *DirectoryUser) string {
	var b strings.Builder
	fmt.Fprintf(&b, "email %q", u.Email)
	if u.Username != "" && u.Username != u.Email {
		fmt.Fprintf(&b, ", username %q", u.Username)
	}
	if u.Domain != "" {
		fmt.Fprintf(&b, ", domain %q", u.Domain)
	}
	if u.Type != "" {
		fmt.Fprintf(&b, ", type %s", u.Type)
	}
	if u.Firstname != "" || u.Lastname != "" {
		fmt.Fprintf(&b, ", name %q", strings.TrimSpace(u.Firstname+" "+u.Lastname))
	}
	if u.Country != "" {
		fmt.Fprintf(&b, ", country %s", u.Country)
	}
	fmt.Fprintf(&b, ", groups %s", quoteList(u.Groups))
	if u.Origin != "" {
		fmt.Fprintf(&b, " (from %s)", u.Origin)
	}
	return b.String()
}
