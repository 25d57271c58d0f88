package core

import (
	"fmt"
	"regexp"
	"strings"
)

// groupRef is a resolved Adobe group: its org (index into groupIndex.orgs)
// and its normalised name.
type groupRef struct {
	org  int
	name string
}

// mapTarget is one Adobe group a directory group maps to.
type mapTarget struct {
	qual string // as configured, e.g. "Design Team" or "eu::Design"
	ref  groupRef
	why  int32 // reason index
}

// addRule is an additional_groups rule ready to run.
type addRule struct {
	src  *regexp.Regexp
	org  int
	tmpl string // the target group name as a Go replacement template
	text string // the rule as configured, for reasons
}

// groupIndex is UST's Adobe group index and mapped-group registry (§3.2):
// every group the configuration names, resolved to its org, plus the
// mapping from directory groups to Adobe groups. It is built once per run
// from Options and shared by the queries and the planner.
type groupIndex struct {
	orgs   []string       // 0 is PrimaryOrg, then the secondaries in order
	orgIdx map[string]int // org name (and "" for the primary) → index
	known  map[string]groupRef
	// mapped holds, per org, normalised name → the first spelling seen.
	mapped      []map[string]string
	mappedOrder [][]string // per org, spellings in order of registration
	// creatable marks, per org, the normalised mapped groups auto_create may
	// create: mapping targets, extended groups and additional-group
	// results, but not exclude_adobe_groups or --adobe-users groups.
	creatable []map[string]bool
	dirMap    map[string][]mapTarget
	dirGroups []string // mapped directory groups, in configuration order
	rules     []addRule
	reasons   []string
	reasonIdx map[string]int32
}

func newGroupIndex(o *Options) (*groupIndex, error) {
	g := &groupIndex{
		orgIdx:    map[string]int{"": 0, PrimaryOrg: 0},
		known:     map[string]groupRef{},
		dirMap:    map[string][]mapTarget{},
		reasonIdx: map[string]int32{},
	}
	g.addOrg(PrimaryOrg)
	for _, s := range o.Secondaries {
		if _, dup := g.orgIdx[s]; dup && s != "" {
			continue
		}
		g.addOrg(s)
	}
	seenDir := map[string]bool{}
	for _, m := range o.GroupMapping {
		if !seenDir[m.DirectoryGroup] {
			seenDir[m.DirectoryGroup] = true
			g.dirGroups = append(g.dirGroups, m.DirectoryGroup)
		}
		if _, ok := g.dirMap[m.DirectoryGroup]; !ok {
			// An entry with no Adobe groups still makes its directory group
			// a mapped one (§3.4.3).
			g.dirMap[m.DirectoryGroup] = nil
		}
		for _, q := range m.AdobeGroups {
			ref, err := g.register(q, true)
			if err != nil {
				return nil, fmt.Errorf("directory_users.groups: directory group %q: %w", m.DirectoryGroup, err)
			}
			why := g.reason(fmt.Sprintf("directory group %q → %q", m.DirectoryGroup, q))
			g.dirMap[m.DirectoryGroup] = append(g.dirMap[m.DirectoryGroup], mapTarget{qual: q, ref: ref, why: why})
		}
	}
	for _, q := range o.ExtendedAdobeGroups {
		if _, err := g.register(q, true); err != nil {
			return nil, fmt.Errorf("extension extended_adobe_groups: %w", err)
		}
	}
	for _, q := range o.ExcludeAdobeGroups {
		if _, err := g.register(q, false); err != nil {
			return nil, fmt.Errorf("adobe_users.exclude_adobe_groups: %w", err)
		}
	}
	if o.AdobeUsers == AdobeUsersGroup {
		for _, q := range o.AdobeUsersGroups {
			if _, err := g.register(q, false); err != nil {
				return nil, fmt.Errorf("--adobe-users group: %w", err)
			}
		}
	}
	for _, r := range o.AdditionalGroups {
		if r.Source == nil {
			continue
		}
		orgName, name := SplitQualifiedGroup(r.Target)
		oi, ok := g.orgIdx[orgName]
		if !ok {
			return nil, fmt.Errorf("directory_users.additional_groups: target %q names unknown org %q", r.Target, orgName)
		}
		g.rules = append(g.rules, addRule{src: r.Source, org: oi, tmpl: pythonTemplate(name),
			text: fmt.Sprintf("additional_groups rule %q → %q", r.Source.String(), r.Target)})
	}
	return g, nil
}

func (g *groupIndex) addOrg(name string) {
	g.orgIdx[name] = len(g.orgs)
	g.orgs = append(g.orgs, name)
	g.mapped = append(g.mapped, map[string]string{})
	g.mappedOrder = append(g.mappedOrder, nil)
	g.creatable = append(g.creatable, map[string]bool{})
}

// register adds a qualified group name to the index and to its org's
// mapped groups.
func (g *groupIndex) register(qual string, creatable bool) (groupRef, error) {
	if ref, ok := g.known[qual]; ok {
		if creatable {
			g.creatable[ref.org][ref.name] = true
		}
		return ref, nil
	}
	orgName, name := SplitQualifiedGroup(qual)
	if strings.TrimSpace(name) == "" {
		return groupRef{}, fmt.Errorf("invalid group name %q: empty", qual)
	}
	oi, ok := g.orgIdx[orgName]
	if !ok || orgName == PrimaryOrg {
		return groupRef{}, fmt.Errorf("group %q names unknown org %q", qual, orgName)
	}
	ref := groupRef{org: oi, name: NormalizeGroup(name)}
	g.known[qual] = ref
	g.addMapped(ref, name, creatable)
	return ref, nil
}

func (g *groupIndex) addMapped(ref groupRef, spelling string, creatable bool) {
	if _, ok := g.mapped[ref.org][ref.name]; !ok {
		g.mapped[ref.org][ref.name] = strings.TrimSpace(spelling)
		g.mappedOrder[ref.org] = append(g.mappedOrder[ref.org], strings.TrimSpace(spelling))
	}
	if creatable {
		g.creatable[ref.org][ref.name] = true
	}
}

// reason interns a reason string; changes carry reasons by index until
// they are built, so that a million users share a handful of strings.
func (g *groupIndex) reason(s string) int32 {
	if i, ok := g.reasonIdx[s]; ok {
		return i
	}
	i := int32(len(g.reasons))
	g.reasons = append(g.reasons, s)
	g.reasonIdx[s] = i
	return i
}

// orgHasGroups reports whether an org has any mapped group or is the
// target of an additional-group rule, i.e. whether it is synced at all
// (§3.9: an org with zero mapped groups is skipped).
func (g *groupIndex) orgHasGroups(oi int) bool {
	if len(g.mapped[oi]) > 0 {
		return true
	}
	for _, r := range g.rules {
		if r.org == oi {
			return true
		}
	}
	return false
}

// matchAtStart reports whether re matches s at its start, as Python's
// re.match does (additional_groups, §3.4.4). Leftmost-first matching finds
// a match at 0 whenever there is one.
func matchAtStart(re *regexp.Regexp, s string) bool {
	loc := re.FindStringIndex(s)
	return loc != nil && loc[0] == 0
}

// pythonTemplate turns a Python re.sub replacement ("Group-\1",
// "\g<name>") into a Go one ("Group-${1}", "${name}").
func pythonTemplate(t string) string {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(t):
			n := t[i+1]
			switch {
			case n >= '0' && n <= '9':
				j := i + 1
				for j < len(t) && j < i+3 && t[j] >= '0' && t[j] <= '9' {
					j++
				}
				b.WriteString("${" + t[i+1:j] + "}")
				i = j - 1
			case n == 'g' && i+2 < len(t) && t[i+2] == '<':
				end := strings.IndexByte(t[i+3:], '>')
				if end < 0 {
					b.WriteString(t[i:])
					return b.String()
				}
				b.WriteString("${" + t[i+3:i+3+end] + "}")
				i = i + 3 + end
			case n == '\\':
				b.WriteByte('\\')
				i++
			default:
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// anchored returns re compiled to match whole strings, case-insensitively
// (UST compiles --user-filter and exclude_users this way).
func anchored(re *regexp.Regexp) *regexp.Regexp {
	if re == nil {
		return nil
	}
	a, err := regexp.Compile(`(?i)^(?:` + re.String() + `)$`)
	if err != nil {
		return re
	}
	return a
}

// DirectoryQuery says what to ask the directory for (UST §3.4.1): the mapped
// directory groups when groups are processed (or unmapped users are
// excluded), plus the --users group filter; every user unless --users
// selects by group.
func DirectoryQuery(o *Options) SourceQuery {
	q := SourceQuery{
		AllUsers:           o.Users != UsersMapped && o.Users != UsersGroup,
		ExtendedAttributes: append([]string(nil), o.ExtendedAttributes...),
		WantMemberGroups:   len(o.AdditionalGroups) > 0,
	}
	seen := map[string]bool{}
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			q.Groups = append(q.Groups, g)
		}
	}
	// UST reads no memberships without --process-groups, so that
	// --exclude-unmapped-users then suppresses every creation; reading the
	// mapped groups for it too lets it do what it says.
	if o.ProcessGroups || o.Users == UsersMapped || o.ExcludeUnmapped {
		for _, m := range o.GroupMapping {
			add(m.DirectoryGroup)
		}
	}
	if o.Users == UsersGroup {
		for _, g := range o.UsersGroups {
			add(g)
		}
	}
	return q
}

// directoryFilter is the set of directory groups a user must belong to to
// be selected, or nil when every user is (UST §3.4.2 step 3).
func directoryFilter(o *Options) map[string]bool {
	switch o.Users {
	case UsersMapped:
		f := map[string]bool{}
		for _, m := range o.GroupMapping {
			f[m.DirectoryGroup] = true
		}
		return f
	case UsersGroup:
		f := map[string]bool{}
		for _, g := range o.UsersGroups {
			f[g] = true
		}
		return f
	}
	return nil
}

// AdobeQueries says which users to read from each org (UST §3.5, §3.9):
// every user with --adobe-users all, otherwise the members of the org's
// filter groups. Orgs with no mapped group are left out, and nothing is
// read with the push strategy or an --adobe-only-user-list.
func AdobeQueries(o *Options) map[string]AdobeQuery {
	if o.Strategy == StrategyPush || o.AdobeOnlyList != nil {
		return nil
	}
	g, err := newGroupIndex(o)
	if err != nil {
		return nil
	}
	qs := map[string]AdobeQuery{}
	for oi, name := range g.orgs {
		if oi > 0 && !g.orgHasGroups(oi) {
			continue
		}
		switch o.AdobeUsers {
		case AdobeUsersMapped:
			qs[name] = AdobeQuery{Groups: append([]string(nil), g.mappedOrder[oi]...)}
		case AdobeUsersGroup:
			var groups []string
			for _, q := range o.AdobeUsersGroups {
				if ref, ok := g.known[q]; ok && ref.org == oi {
					_, n := SplitQualifiedGroup(q)
					groups = append(groups, strings.TrimSpace(n))
				}
			}
			qs[name] = AdobeQuery{Groups: groups}
		default:
			qs[name] = AdobeQuery{All: true}
		}
	}
	return qs
}
