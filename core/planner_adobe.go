package core

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// syncOrg walks the Adobe users of one org, matching them to selected
// directory users (UST §3.5–§3.9).
func (p *planner) syncOrg(oi int) error {
	name := p.g.orgs[oi]
	os := p.snap.Adobe[name]
	users := os.Users
	run := &p.orgs[oi]
	primary := oi == 0
	secondaries := len(p.g.orgs) > 1
	if primary && secondaries {
		p.included = make(map[userKey]struct{}, len(users))
	}
	// Duplicates: within one query UMAPI users are told apart by exact
	// email; across the per-group queries of --adobe-users mapped|group a
	// user already seen by email or username is skipped (§3.5). Accounts
	// found through a record's email are checked against the first account
	// that record met, so that a million-user read needs no set of emails.
	var seen *twoKeyIndex
	if !os.Query.All {
		seen = newTwoKeyIndex(len(users))
	}
	seenEmail := map[string]struct{}{}
	seenKey := map[userKey]struct{}{}
	emailHit := make([]int32, len(p.recs))
	for i := range emailHit {
		emailHit[i] = -1
	}
	match := p.matchAll(users)
	mapped := p.g.mapped[oi]
	for i := range users {
		if err := p.cancelled(i); err != nil {
			return err
		}
		a := &users[i]
		traced := p.tr.adobeHit(a)
		if traced && p.tr.adobe == nil {
			p.tr.adobe = a
		}
		if a.Type == AdobeID || strings.EqualFold(string(a.Type), string(AdobeID)) {
			p.adobeIDEmails[lowerTrim(a.Email)] = struct{}{}
		}
		k, ok := adobeKey(a)
		if !ok {
			p.warnf("Ignoring umapi user with empty user key: {type: %s, email: %s, username: %s, domain: %s} in %s", a.Type, a.Email, a.Username, a.Domain, orgLabel(name))
			continue
		}
		ri, viaEmail := match[i]>>1, match[i]&1 == 1
		// UST drops a user whose exact email, or whose user key, was seen
		// before. Accounts with the same key share a lower-cased email, so
		// they meet the same record first through it.
		dup := false
		switch {
		case viaEmail && emailHit[ri] < 0:
			emailHit[ri] = int32(i)
		case viaEmail && users[emailHit[ri]].Email == a.Email:
			dup = true
		case viaEmail && sameAdobeKey(&users[emailHit[ri]], k):
			dup = true
		default:
			_, dupEmail := seenEmail[a.Email]
			_, dupKey := seenKey[k]
			dup = dupEmail || dupKey
			if !dup {
				seenEmail[a.Email] = struct{}{}
				seenKey[k] = struct{}{}
			}
		}
		if !dup && seen != nil {
			if dup = seen.lookup(k.Email, k.Username) >= 0; !dup {
				seen.add(k.Email, k.Username, 0)
			}
		}
		if dup {
			p.notef(NoteDuplicate, name, k.String(), "Ignoring umapi user. This user has already been processed: %s", k)
			continue
		}
		if ri >= 0 && p.recs[ri].inOrg(oi) {
			// Found: the directory user will not be created, even if this
			// account is excluded just below (§3.5 step 4).
			run.matched[ri] = true
		}
		cur := p.currentGroups(a)
		if primary {
			p.c.AdobeUsersRead++
			if why, due := p.excluded(a, k, cur); why != "" {
				p.c.Excluded++
				p.notef(NoteExcluded, "", k.String(), "Excluding adobe user (due to %s): %s", due, k)
				if traced {
					p.tr.add("exclusion", "excluded", "in the primary org the Adobe account %s is excluded: %s; it is never changed", k.String(), why)
				}
				continue
			}
			if secondaries {
				p.included[k] = struct{}{}
			}
		} else if _, ok := p.included[k]; !ok {
			if traced {
				p.tr.add("exclusion", "excluded", "in org %s the Adobe account %s is left alone because it was excluded, or not read, in the primary org", name, k.String())
			}
			continue
		}
		if ri < 0 {
			p.adobeOnly(oi, a, k, cur, mapped, traced)
			continue
		}
		rec := &p.recs[ri]
		if traced {
			p.tr.add("match", "matched", "in %s the directory user matches the Adobe account %s (%s)", orgLabel(name), k.String(), matchHow(rec, k))
		}
		p.diff(oi, rec, a, k, cur, mapped, traced)
	}
	return nil
}

func sameAdobeKey(a *AdobeUser, k userKey) bool {
	ak, ok := adobeKey(a)
	return ok && ak == k
}

func matchHow(r *dirRec, k userKey) string {
	if k.Email != "" && r.k.Email == k.Email {
		return "same email"
	}
	return "same username; the email differs"
}

// parallelMatchMin is the number of Adobe users per lookup goroutine; below
// it, goroutines cost more than they save. Tests lower it.
var parallelMatchMin = 50000

// matchAll looks up, in parallel, the selected directory user of each
// Adobe user. Each result is the record index shifted left by one, with
// the low bit set when the email matched; -2 (index -1) means none.
func (p *planner) matchAll(users []AdobeUser) []int32 {
	out := make([]int32, len(users))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(users)/parallelMatchMin))
	var wg sync.WaitGroup
	chunk := (len(users) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min(len(users), (w+1)*chunk)
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				out[i] = -2
				if k, ok := adobeKey(&users[i]); ok {
					ri, viaEmail := p.idx.lookup(k.Email, k.Username)
					out[i] = ri << 1
					if viaEmail {
						out[i] |= 1
					}
				}
			}
		})
	}
	wg.Wait()
	return out
}

// currentGroups returns the normalised direct groups of an Adobe user in
// a scratch slice valid until the next call.
func (p *planner) currentGroups(a *AdobeUser) []string {
	cur := p.scratch[:0]
	for _, g := range a.Groups {
		cur = append(cur, p.normGroup(g))
	}
	p.scratch = cur
	return cur
}

// excluded returns why a primary-org Adobe user is excluded (§3.5 step 5)
// and UST's one-word cause, or "".
func (p *planner) excluded(a *AdobeUser, k userKey, cur []string) (why, due string) {
	if p.excludeTypes[k.Type] {
		return fmt.Sprintf("its identity type %s is in exclude_identity_types", k.Type), "type"
	}
	for _, g := range cur {
		if p.excludeGrps[g] {
			return fmt.Sprintf("it is in group %q of exclude_adobe_groups", g), "group"
		}
	}
	for i, re := range p.excludeUsers {
		if re.MatchString(k.Username) {
			return fmt.Sprintf("its username %q matches exclude_users %q", k.Username, p.o.ExcludeUsers[i].String()), "name"
		}
	}
	return "", ""
}

// logStray logs UST's line for an Adobe-only user's action.
func (p *planner) logStray(oi int, a Action, key string) {
	org := p.g.orgs[oi]
	if oi == 0 {
		switch a {
		case ActionRemoveAllGroups:
			p.notef(NoteAdobeOnly, org, key, "Removing all adobe groups for Adobe-only user: %s", key)
		case ActionRemoveFromOrg:
			p.notef(NoteAdobeOnly, org, key, "Removing Adobe-only user: %s", key)
		case ActionDelete:
			p.notef(NoteAdobeOnly, org, key, "Deleting Adobe-only user: %s", key)
		default:
			p.notef(NoteAdobeOnly, org, key, "Removing mapped groups from Adobe-only user: %s", key)
		}
		return
	}
	switch a {
	case ActionRemoveAllGroups:
		p.notef(NoteAdobeOnly, org, key, "Removing all adobe groups in %s for Adobe-only user: %s", org, key)
	case ActionRemoveFromOrg, ActionDelete:
		p.notef(NoteAdobeOnly, org, key, "Removing Adobe-only user from %s: %s", org, key)
	default:
		p.notef(NoteAdobeOnly, org, key, "Removing mapped groups in %s from Adobe-only user: %s", org, key)
	}
}

// adobeOnly records an Adobe user with no selected directory counterpart
// (§3.5 step 8, §3.10).
func (p *planner) adobeOnly(oi int, a *AdobeUser, k userKey, cur []string, mapped map[string]string, traced bool) {
	name := p.g.orgs[oi]
	if p.invalid[lowerTrim(a.Email)] || (a.Username != "" && p.invalid[lowerTrim(a.Username)]) {
		// Its directory record was skipped as invalid, not removed: the
		// account is not Adobe-only.
		if traced {
			p.tr.add("adobe-only", "left alone", "in %s the Adobe account %s has a directory record that was skipped as invalid; it is not treated as Adobe-only", orgLabel(name), k.String())
		}
		return
	}
	if p.o.AdobeOnlyAction == AdobeOnlyExclude {
		if oi == 0 {
			p.c.Excluded++
		}
		p.notef(NoteExcluded, "", k.String(), "Excluding Adobe-only user: %s", k)
		if traced {
			p.tr.add("adobe-only", "excluded", "in %s the Adobe account %s has no selected directory user; --adobe-only-user-action exclude leaves it alone", orgLabel(name), k.String())
		}
		return
	}
	if !p.tracked() {
		if traced {
			p.tr.add("adobe-only", "preserved", "in %s the Adobe account %s has no selected directory user; with preserve and without --process-groups nothing is done", orgLabel(name), k.String())
		}
		return
	}
	var remove, held []string
	for _, g := range cur {
		if _, ok := mapped[g]; ok && !containsString(held, g) {
			held = append(held, g)
		}
	}
	sort.Strings(held)
	if p.o.ProcessGroups {
		remove = held
	}
	if p.o.GroupRemovalsOnly && len(remove) == 0 {
		if traced {
			p.tr.add("adobe-only", "ignored", "in %s the Adobe account %s has no selected directory user, but group_removals_only ignores it because it holds no mapped group", orgLabel(name), k.String())
		}
		return
	}
	run := &p.orgs[oi]
	if run.strayKeys == nil {
		run.strayKeys = map[userKey]int{}
	}
	run.strayKeys[k] = len(run.strays)
	run.strays = append(run.strays, strayRec{k: k, ref: strayRef(a, k), remove: remove, mapped: held})
	p.notef(NoteFound, "", k.String(), "Found Adobe-only user: %s", k)
	if traced {
		p.tr.adobeOnly = true
		p.tr.add("adobe-only", "adobe-only", "in %s the Adobe account %s has no selected directory user, so it is an Adobe-only user (--adobe-only-user-action %s)", orgLabel(name), k.String(), p.plan.AdobeOnlyAction)
	}
}

// strayRef addresses an Adobe-only user: by the username of its key, or by
// its email when its email-shaped username differs from the email, with
// the domain for other usernames (§3.10.2). Adobe IDs carry useAdobeID so
// that a same-email business account is never hit (UST omits it).
func strayRef(a *AdobeUser, k userKey) UserRef {
	ref := UserRef{User: k.Username, Domain: k.Domain, Type: k.Type, Email: a.Email, UseAdobeID: k.Type == AdobeID}
	if emailShaped(k.Username) && k.Username != lowerTrim(a.Email) {
		ref.User = a.Email
	}
	return ref
}

// diff plans the updates of a matched user (§3.5 step 9, §3.6, §3.8).
func (p *planner) diff(oi int, rec *dirRec, a *AdobeUser, k userKey, cur []string, mapped map[string]string, traced bool) {
	var attrs []AttrChange
	// Adobe IDs belong to their owners: UMAPI refuses to update them
	// (error.update.adobeid.no), so no update is planned (UST sends one).
	if oi == 0 && p.o.UpdateUserInfo && k.Type != AdobeID {
		attrs = p.attrDiff(rec, a, k, traced)
	}
	var add, remove []string
	if p.o.ProcessGroups {
		for _, w := range rec.wants {
			if int(w.org) == oi && !containsString(cur, w.name) && !containsString(add, w.name) {
				add = append(add, w.name)
			}
		}
		for _, g := range cur {
			if _, ok := mapped[g]; ok && !rec.hasWant(oi, g) && !containsString(remove, g) {
				remove = append(remove, g)
			}
		}
	}
	if len(attrs) == 0 && len(add) == 0 && len(remove) == 0 {
		if traced {
			p.tr.add("result", "unchanged", "in %s the account needs no change", orgLabel(p.g.orgs[oi]))
		}
		return
	}
	sort.Strings(add)
	sort.Strings(remove)
	key := k.String()
	org := p.g.orgs[oi]
	p.updated[key] = struct{}{}
	ref := UserRef{User: a.Email, Type: k.Type, Email: a.Email, UseAdobeID: k.Type == AdobeID}
	if len(attrs) > 0 {
		p.notef(NoteUpdateUser, org, key, "Updating info for user key: %s changes: %s", key, pyDict(attrs))
		why := make([]string, 0, len(attrs))
		for _, c := range attrs {
			if c.Before == c.After {
				why = append(why, fmt.Sprintf("%s %q is re-sent with the new email so that UMAPI keeps it", c.Name, c.After))
			} else {
				why = append(why, fmt.Sprintf("%s is %q in the directory and %q in Adobe", c.Name, c.After, c.Before))
			}
		}
		p.emit(Change{Org: org, Action: ActionUpdate, Key: key, User: ref, Attrs: attrs,
			Rule:    "--update-user-info: the directory's attributes differ from the Adobe account's (update_attributes)",
			Reasons: why})
	}
	if len(remove) > 0 || len(add) > 0 {
		if oi == 0 {
			p.notef(NoteManageGroups, org, key, "Managing groups for user key: %s added: %s removed: %s", key, pySet(add), pySet(remove))
		} else {
			p.notef(NoteManageGroups, org, key, "Managing groups in %s for user key: %s added: %s removed: %s", org, key, pySet(add), pySet(remove))
		}
	}
	if len(remove) > 0 {
		p.emit(Change{Org: org, Action: ActionRemoveGroups, Key: key, User: ref, Groups: remove,
			Rule:    "--process-groups: the user holds mapped groups that its directory groups no longer map to",
			Reasons: []string{fmt.Sprintf("not mapped for this user; mapped groups of %s: %s", orgLabel(org), quoteList(remove))}})
	}
	if len(add) > 0 {
		p.emit(Change{Org: org, Action: ActionAddGroups, Key: key, User: ref, Groups: add,
			Rule:    "--process-groups: the user's directory groups map to groups the account lacks",
			Reasons: p.reasonsFor(rec, oi, add)})
	}
}

// attrDiff compares a matched user's attributes (§3.6). Only attributes in
// update_attributes change; other differences are warned about.
func (p *planner) attrDiff(rec *dirRec, a *AdobeUser, k userKey, traced bool) []AttrChange {
	u := rec.u
	var out []AttrChange
	consider := func(name, before, after string) {
		if !p.updAttrs[name] {
			p.warnf("Not updating %s for user key: %s (%q in the directory, %q in Adobe): %s is not in update_attributes", name, k, after, before, name)
			if traced {
				p.tr.add("result", "not updated", "%s differs (%q in Adobe, %q in the directory) but is not listed in update_attributes", name, before, after)
			}
			return
		}
		out = append(out, AttrChange{Name: name, Before: before, After: after})
	}
	if e := strings.TrimSpace(u.Email); e != "" && lowerTrim(e) != lowerTrim(a.Email) {
		consider("email", a.Email, e)
	}
	if k.Type != AdobeID {
		du := strings.TrimSpace(u.Username)
		if du == "" {
			du = strings.TrimSpace(u.Email)
		}
		if du != "" && lowerTrim(du) != lowerTrim(a.Username) {
			consider("username", a.Username, du)
		}
	}
	// Names compare exactly; a name missing in the directory is not a
	// difference (UST sends an empty update then).
	if u.Firstname != "" && u.Firstname != a.Firstname {
		consider("firstname", a.Firstname, u.Firstname)
	}
	if u.Lastname != "" && u.Lastname != a.Lastname {
		consider("lastname", a.Lastname, u.Lastname)
	}
	// An email change for a user whose email-shaped username differs from
	// the email re-sends the current username, so that UMAPI keeps it
	// (UST §3.8, issue 811).
	hasEmail, hasUser := false, false
	for _, c := range out {
		hasEmail = hasEmail || c.Name == "email"
		hasUser = hasUser || c.Name == "username"
	}
	if hasEmail && !hasUser && k.Type != AdobeID {
		du := lowerTrim(u.Username)
		if emailShaped(du) && du != lowerTrim(u.Email) && a.Username != "" {
			out = append(out, AttrChange{Name: "username", Before: a.Username, After: a.Username})
		}
	}
	return out
}

// create plans the creation of a directory user with no account in org
// (§3.7, §3.12).
func (p *planner) create(oi int, rec *dirRec) {
	u := rec.u
	org := p.g.orgs[oi]
	traced := p.tr.dirHit(u)
	wants := rec.wantNames(oi)
	if oi == 0 && p.o.ExcludeUnmapped && len(wants) == 0 {
		if traced {
			p.tr.add("result", "not created", "--exclude-unmapped-users: the user maps to no Adobe group, so it is not created")
		}
		return
	}
	t := rec.k.Type
	if !p.push() && (t == FederatedID || t == EnterpriseID) {
		if _, clash := p.adobeIDEmails[rec.k.Email]; clash {
			p.warnf("Skipping user creation for: %s - AdobeID already exists with %s", rec.k, u.Email)
			if traced {
				p.tr.add("result", "not created", "an Adobe ID with the email %q exists, so the %s account is not created", u.Email, t)
			}
			return
		}
	}
	country := strings.TrimSpace(u.Country)
	if country == "" {
		country = p.o.DefaultCountry
	}
	// A Federated ID needs a country; an Enterprise ID gets "UD"
	// (undefined); addAdobeID takes none (UST skips such Adobe IDs).
	switch {
	case country != "" || t == AdobeID:
	case t == EnterpriseID:
		country = "UD"
	default:
		p.errorf("User cannot be added without a specified country code: %s", rec.k)
		if traced {
			p.tr.add("result", "not created", "the user has no country and default_country_code is not set; a %s account needs one", t)
		}
		return
	}
	username := strings.TrimSpace(u.Username)
	if username == "" {
		username = strings.TrimSpace(u.Email)
	}
	ref := UserRef{User: username, Type: t, Email: u.Email, UseAdobeID: t == AdobeID}
	if !emailShaped(username) {
		ref.Domain = strings.TrimSpace(u.Domain)
		if ref.Domain == "" {
			p.errorf("Skipping user %s: a username that is not an email needs a domain", username)
			return
		}
	}
	var attrs []AttrChange
	for _, f := range [][2]string{{"email", u.Email}, {"firstname", u.Firstname}, {"lastname", u.Lastname}, {"country", country}} {
		if f[1] != "" {
			attrs = append(attrs, AttrChange{Name: f[0], After: f[1]})
		}
	}
	option := OptionIgnoreIfExists
	if oi == 0 && p.o.UpdateUserInfo {
		option = OptionUpdateIfExists
	}
	key := rec.k.String()
	rule := "the directory user has no Adobe account in " + orgLabel(org)
	if p.push() {
		rule = "--strategy push: every selected directory user is sent as a create"
	} else if oi > 0 {
		rule = "the directory user has groups in " + org + " but no account there"
	}
	why := []string{fmt.Sprintf("no Adobe account read from %s has the email %q or the username %q", orgLabel(org), rec.k.Email, rec.k.Username)}
	if p.push() {
		why = []string{"Adobe users are not read with --strategy push"}
	}
	if oi > 0 {
		why = append(why, p.reasonsFor(rec, oi, wants)...)
	}
	p.emit(Change{Org: org, Action: ActionCreate, Key: key, User: ref, Attrs: attrs, Option: option, Rule: rule, Reasons: why})
	if p.o.ProcessGroups {
		if p.push() {
			// Push reads no Adobe users, so exclusions cannot protect anyone:
			// never remove an exclude_adobe_groups group (UST counts them as
			// mapped) or an admin role ("_org_admin" and friends). UMAPI
			// refuses removing _org_admin and would then skip the create in
			// the same command.
			excluded := map[string]bool{}
			for _, g := range p.o.ExcludeAdobeGroups {
				excluded[NormalizeGroup(g)] = true
			}
			var remove []string
			for n := range p.g.mapped[oi] {
				if !containsString(wants, n) && !excluded[n] && !strings.HasPrefix(n, "_") {
					remove = append(remove, n)
				}
			}
			if len(remove) > 0 {
				sort.Strings(remove)
				p.emit(Change{Org: org, Action: ActionRemoveGroups, Key: key, User: ref, Groups: remove,
					Rule:    "--strategy push with --process-groups: mapped groups the user is not mapped to are removed first",
					Reasons: []string{fmt.Sprintf("not mapped for this user; mapped groups of %s: %s", orgLabel(org), quoteList(remove))}})
			}
		}
		if len(wants) > 0 {
			p.emit(Change{Org: org, Action: ActionAddGroups, Key: key, User: ref, Groups: wants,
				Rule:    "--process-groups: the new account gets the groups its directory groups map to",
				Reasons: p.reasonsFor(rec, oi, wants)})
		}
	}
	// Counting (§3.7): primary creates count as "new Adobe users added"
	// (or, for a trusted connector, as added to secondaries); a create in a
	// secondary counts there, and as an update when the user was not new
	// in the primary. UST also counts it as new in the primary; we do not.
	switch {
	case oi == 0 && p.o.TrustedConnector:
		p.createdSecondary[key] = struct{}{}
	case oi == 0:
		p.createdPrimary[key] = struct{}{}
	default:
		p.createdSecondary[key] = struct{}{}
		if _, ok := p.createdPrimary[key]; !ok {
			p.updated[key] = struct{}{}
		}
	}
	if oi == 0 && !p.o.TrustedConnector {
		p.notef(NoteCreateUser, org, key, "Queuing new user with user key: %s", key)
	} else {
		p.notef(NoteCreateUser, org, key, "Queuing new user for umapi %s with user key: %s", org, key)
	}
}

// autoCreate plans user groups for mapped groups the org lacks (§3.13).
func (p *planner) autoCreate() {
	for oi, name := range p.g.orgs {
		if !p.g.orgHasGroups(oi) {
			continue
		}
		have := map[string]bool{}
		for _, g := range p.snap.Adobe[name].Groups {
			have[NormalizeGroup(g.Name)] = true
		}
		for _, spelling := range p.g.mappedOrder[oi] {
			n := NormalizeGroup(spelling)
			if have[n] || !p.g.creatable[oi][n] || strings.HasPrefix(n, "_") {
				continue
			}
			have[n] = true
			p.notef(NoteCreateGroup, name, n, "Auto create user-group enabled: Creating '%s' on '%s'", spelling, orgLabel(name))
			p.c.GroupsCreated++
			p.emit(Change{Org: name, Action: ActionCreateGroup, Key: n, Group: spelling,
				User:    UserRef{User: spelling},
				Option:  OptionIgnoreIfExists,
				Rule:    "group_sync_options.auto_create: a mapped group does not exist in " + orgLabel(name),
				Reasons: []string{fmt.Sprintf("%q is a mapped group of %s and none of the org's %d groups has that name", spelling, orgLabel(name), len(p.snap.Adobe[name].Groups))}})
		}
	}
}

// processStrays turns the recorded Adobe-only users into changes, subject
// to the safety limit (§3.10).
func (p *planner) processStrays() {
	// write-file gets every tracked Adobe-only user, before the limit.
	for oi := range p.g.orgs {
		for _, s := range p.orgs[oi].strays {
			p.plan.Strays = append(p.plan.Strays, Stray{Org: p.g.orgs[oi], Type: s.k.Type, Email: s.k.Email,
				Domain: s.k.Domain, User: s.ref, GroupsToRemove: s.remove})
		}
	}
	if !p.manage() {
		return
	}
	// With a grace period, only the actions taken in this run count.
	lim := p.limit(p.graceDecide())
	p.plan.Limit = lim
	if lim.Exceeded {
		p.notef(NoteWithheld, "", "", "Unable to process Adobe-only users, as their count (%d) is larger than the max_adobe_only_users setting (%s)", lim.Count, lim.Setting)
		p.note(fmt.Sprintf("Adobe-only actions withheld: %d Adobe-only users exceed max_adobe_only_users %s (at most %d)", lim.Count, lim.Setting, lim.Max))
	} else {
		p.c.StraysProcessed = lim.Count
	}
	p.strayChanges(lim)
}

// strayChanges builds the Adobe-only changes: secondaries for users that
// are Adobe-only in the primary too, then the primary (§3.10.2, §3.10.5).
func (p *planner) strayChanges(lim *LimitReport) {
	prim := &p.orgs[0]
	act := p.o.AdobeOnlyAction
	for oi := 1; oi < len(p.g.orgs); oi++ {
		run := &p.orgs[oi]
		for _, ps := range prim.strays {
			si, ok := run.strayKeys[ps.k]
			if !ok {
				continue
			}
			p.strayChange(oi, &run.strays[si], act, lim)
		}
	}
	for i := range prim.strays {
		p.strayChange(0, &prim.strays[i], act, lim)
	}
}

func (p *planner) strayChange(oi int, s *strayRec, act AdobeOnlyKind, lim *LimitReport) {
	if p.graceOn() && p.graceStray(oi, s) {
		return
	}
	org := p.g.orgs[oi]
	key := s.k.String()
	c := Change{Org: org, Key: key, User: s.ref, AdobeOnly: true}
	switch {
	case act == AdobeOnlyRemoveAdobeGroups:
		c.Action = ActionRemoveAllGroups
		c.Rule = "Adobe-only user, --adobe-only-user-action remove-adobe-groups: removed from every group"
	case act == AdobeOnlyRemove || (act == AdobeOnlyDelete && oi > 0):
		c.Action = ActionRemoveFromOrg
		c.Rule = "Adobe-only user, --adobe-only-user-action " + string(act) + ": removed from " + orgLabel(org) + ", account kept"
	case act == AdobeOnlyDelete:
		c.Action = ActionDelete
		c.Rule = "Adobe-only user, --adobe-only-user-action delete: removed from the org and the account deleted"
	case p.o.ProcessGroups && len(s.remove) > 0:
		c.Action = ActionRemoveGroups
		c.Groups = s.remove
		c.Rule = "Adobe-only user with --process-groups: its mapped groups are removed"
	default:
		return
	}
	if p.listMode() {
		c.Reasons = append(c.Reasons, "listed in --adobe-only-user-list")
	} else {
		c.Reasons = append(c.Reasons, "no selected directory user has this email or username")
	}
	if lim.Exceeded {
		c.Held = HoldAdobeOnly
		c.Reasons = append(c.Reasons, fmt.Sprintf("withheld: %d Adobe-only users exceed max_adobe_only_users %s", lim.Count, lim.Setting))
	} else {
		p.logStray(oi, c.Action, key)
	}
	p.strayChg.add(c)
}

// fromList plans the --adobe-only-user-list mode (§3.11): the file is the
// set of Adobe-only users; nothing is read.
func (p *planner) fromList() {
	for _, s := range p.o.AdobeOnlyList {
		orgName := s.Org
		if orgName == "" {
			orgName = PrimaryOrg
		}
		oi, ok := p.g.orgIdx[orgName]
		if !ok {
			p.errorf("Invalid input line, ignored: unknown umapi %q for %s", orgName, s.Email)
			continue
		}
		username := s.User.User
		if username == "" {
			username = s.Email
		}
		k, ok := makeKey(s.Type, username, s.Domain, s.Email)
		if !ok {
			p.errorf("Invalid input line, ignored: {type: %s, username: %s, domain: %s, email: %s}", s.Type, username, s.Domain, s.Email)
			continue
		}
		run := &p.orgs[oi]
		if run.strayKeys == nil {
			run.strayKeys = map[userKey]int{}
		}
		if _, dup := run.strayKeys[k]; dup {
			continue
		}
		if p.tr != nil && (p.tr.q == k.Email || p.tr.q == k.Username) {
			p.tr.adobeOnly = true
			p.tr.add("adobe-only", "listed", "the user is listed for %s in --adobe-only-user-list", orgLabel(orgName))
		}
		if p.o.GroupRemovalsOnly || p.o.AdobeOnlyAction == AdobeOnlyExclude {
			// No groups to remove are known in list mode (§3.10.4), and
			// exclude disables processing.
			continue
		}
		ref := UserRef{User: k.Username, Domain: k.Domain, Type: k.Type, Email: s.Email, UseAdobeID: k.Type == AdobeID}
		run.strayKeys[k] = len(run.strays)
		run.strays = append(run.strays, strayRec{k: k, ref: ref})
	}
	if !p.tracked() || !p.manage() {
		return
	}
	lim := p.limit(len(p.orgs[0].strays))
	p.plan.Limit = lim
	if lim.Exceeded {
		p.notef(NoteWithheld, "", "", "Unable to process Adobe-only users, as their count (%d) is larger than the max_adobe_only_users setting (%s)", lim.Count, lim.Setting)
	} else {
		p.c.StraysProcessed = len(p.orgs[0].strays)
	}
	p.strayChanges(lim)
}
