package core

import (
	"fmt"
	"sort"
	"strings"
)

// FindingKind says what a Finding is about. Front ends may branch on it;
// the Message says the same in words.
type FindingKind string

// The finding kinds.
const (
	// FindingDirectoryGroupMissing: a mapped directory group the directory
	// does not have (no user read is in it).
	FindingDirectoryGroupMissing FindingKind = "directory_group_missing"
	// FindingAdobeGroupMissing: a mapped Adobe group the org does not have
	// and the run will not create; adds to it are not sent.
	FindingAdobeGroupMissing FindingKind = "adobe_group_missing"
	// FindingUnmappedGroup: a directory group users are in that no mapping
	// names.
	FindingUnmappedGroup FindingKind = "unmapped_directory_group"
	// FindingDuplicateUser: several directory records for one user with
	// conflicting values.
	FindingDuplicateUser FindingKind = "duplicate_user"
	// FindingInvalidUser: a directory user with a value UMAPI would refuse
	// (email syntax, name length or characters, country code); the user is
	// skipped, never sent.
	FindingInvalidUser FindingKind = "invalid_user"
	// FindingSkippedRecord: a record the source itself skipped (no email, an
	// invalid identity type).
	FindingSkippedRecord FindingKind = "skipped_record"
)

// Severity is how loudly a finding is reported.
type Severity string

// The severities. Warnings are WARNING log lines and `warning` JSON
// events; notices are INFO lines (an unmapped group nobody meant to map is
// normal).
const (
	SeverityWarning Severity = "warning"
	SeverityNotice  Severity = "notice"
)

// Finding is one problem the diagnosis found in a snapshot and its
// options: the same list feeds check, plan, sync, --json and the console.
type Finding struct {
	Kind     FindingKind `json:"kind"`
	Severity Severity    `json:"severity"`
	// Org is the org of an Adobe group finding.
	Org string `json:"org,omitempty"`
	// Group is the directory or Adobe group concerned, as configured or read.
	Group string `json:"group,omitempty"`
	// MappedTo lists the Adobe groups a mapped directory group maps to, or
	// the directory groups mapped to a missing Adobe group.
	MappedTo []string `json:"mapped_to,omitempty"`
	// Members counts the directory users read in an unmapped group.
	Members int `json:"members,omitempty"`
	// User is the email (or username) of a user finding.
	User string `json:"user,omitempty"`
	// Origins are where the records came from ("users.csv:4"): the user's
	// records, or the first few members of an unmapped group.
	Origins []string `json:"origins,omitempty"`
	// Problems are the refused values of an invalid user.
	Problems []Problem `json:"problems,omitempty"`
	// Suggestion is the nearest existing name on that side ("did you mean").
	Suggestion string `json:"suggestion,omitempty"`
	// Message says all of it in one line.
	Message string `json:"message"`
	// Logged is set when the source already logged it: log renderers skip
	// it, --json and the console show it.
	Logged bool `json:"logged,omitempty"`
}

// maxOrigins caps Finding.Origins for groups.
const maxOrigins = 3

// Diagnose finds the mistakes behind "why is this user not synced" in a
// snapshot and the options it is planned with: mapped groups missing on
// either side, directory groups in use but not mapped, duplicate directory
// users with conflicting values, values UMAPI would refuse, and records the
// source skipped. Suggestions come from the names that exist on that side.
// The result is sorted: warnings first, then by kind and name.
func Diagnose(snap *Snapshot, o *Options) []Finding {
	if snap == nil || o.AdobeOnlyList != nil {
		return nil
	}
	var out []Finding
	dir := snap.Directory
	all := make([]*DirectoryUser, 0, len(dir.Users)+len(dir.Unselected))
	for i := range dir.Users {
		all = append(all, &dir.Users[i])
	}
	for i := range dir.Unselected {
		all = append(all, &dir.Unselected[i])
	}

	// Directory groups read, with their members.
	members := map[string][]*DirectoryUser{}
	var dirGroups []string
	for _, u := range all {
		for _, g := range u.Groups {
			if members[g] == nil {
				dirGroups = append(dirGroups, g)
			}
			members[g] = append(members[g], u)
		}
	}
	sort.Strings(dirGroups)
	mappedDir := map[string][]string{}
	var mappedNames []string
	for _, m := range o.GroupMapping {
		if _, ok := mappedDir[m.DirectoryGroup]; !ok {
			mappedNames = append(mappedNames, m.DirectoryGroup)
		}
		mappedDir[m.DirectoryGroup] = append(mappedDir[m.DirectoryGroup], m.AdobeGroups...)
	}

	for _, g := range dir.MissingGroups {
		targets, ok := mappedDir[g]
		if !ok {
			continue
		}
		f := Finding{Kind: FindingDirectoryGroupMissing, Severity: SeverityWarning, Group: g, MappedTo: targets,
			Suggestion: Nearest(g, unmappedOf(dirGroups, mappedDir))}
		f.Message = fmt.Sprintf("Directory group %q is mapped to %s but the directory has no such group; its mapping does nothing%s",
			g, quoteNames(targets), didYouMean(f.Suggestion))
		out = append(out, f)
	}

	for _, g := range dirGroups {
		if _, ok := mappedDir[g]; ok {
			continue
		}
		ms := members[g]
		f := Finding{Kind: FindingUnmappedGroup, Severity: SeverityNotice, Group: g, Members: len(ms),
			Suggestion: Nearest(g, mappedNames)}
		for _, u := range ms {
			if len(f.Origins) < maxOrigins && u.Origin != "" {
				f.Origins = append(f.Origins, u.Origin)
			}
		}
		if f.Suggestion != "" {
			// A near miss of a mapped name is almost certainly a mistake.
			f.Severity = SeverityWarning
		}
		f.Message = fmt.Sprintf("Directory group %q (%s%s) is not mapped%s", g, plural(len(ms), "user"), originList(f.Origins, len(ms)), didYouMean(f.Suggestion))
		out = append(out, f)
	}

	out = append(out, missingAdobeGroups(snap, o)...)
	out = append(out, duplicateUsers(dir.Users)...)

	for _, u := range dir.Users {
		if ps := ValidateDirectoryUser(&u); len(ps) > 0 {
			out = append(out, invalidUserFinding(&u, ps))
		}
	}
	for _, n := range dir.Notes {
		kind := FindingSkippedRecord
		if n.Kind == NoteConflict {
			kind = FindingDuplicateUser
		}
		out = append(out, Finding{Kind: kind, Severity: SeverityWarning, User: n.User, Origins: []string{n.Origin},
			Message: strings.TrimSpace(n.Origin + ": " + n.Reason), Logged: n.Logged})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Severity != out[j].Severity {
			return out[i].Severity == SeverityWarning
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// invalidUserFinding says why u is skipped.
func invalidUserFinding(u *DirectoryUser, ps []Problem) Finding {
	who := u.Email
	if who == "" {
		who = u.Username
	}
	var why []string
	for _, p := range ps {
		why = append(why, p.String())
	}
	where := u.Origin
	if where == "" {
		where = "directory"
	}
	return Finding{Kind: FindingInvalidUser, Severity: SeverityWarning, User: who, Origins: nonEmpty(u.Origin), Problems: ps,
		Message: fmt.Sprintf("%s: user %q skipped, never sent: %s", where, who, strings.Join(why, "; "))}
}

// missingAdobeGroups lists mapped Adobe groups an org does not have and
// the run will not create. Orgs whose groups were not read (push) are not
// judged.
func missingAdobeGroups(snap *Snapshot, o *Options) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, m := range o.GroupMapping {
		for _, q := range m.AdobeGroups {
			org, name := SplitQualifiedGroup(q)
			if org == "" {
				org = PrimaryOrg
			}
			os, ok := snap.Adobe[org]
			if !ok || len(os.Groups) == 0 {
				continue
			}
			if hasAdobeGroup(os.Groups, name) || (o.AutoCreate && o.ProcessGroups) {
				continue
			}
			key := org + "\x00" + NormalizeGroup(name)
			if seen[key] {
				for i := range out {
					if out[i].Org == org && NormalizeGroup(out[i].Group) == NormalizeGroup(name) {
						out[i].MappedTo = append(out[i].MappedTo, m.DirectoryGroup)
						out[i].Message = adobeMissingMessage(&out[i])
					}
				}
				continue
			}
			seen[key] = true
			names := make([]string, len(os.Groups))
			for i, g := range os.Groups {
				names[i] = g.Name
			}
			f := Finding{Kind: FindingAdobeGroupMissing, Severity: SeverityWarning, Org: org, Group: name,
				MappedTo: []string{m.DirectoryGroup}, Suggestion: Nearest(name, names)}
			f.Message = adobeMissingMessage(&f)
			out = append(out, f)
		}
	}
	return out
}

func adobeMissingMessage(f *Finding) string {
	return fmt.Sprintf("Adobe group %q (mapped from %s) is not in %s and is not created (auto_create is off); adds to it are not sent%s",
		f.Group, quoteNames(f.MappedTo), orgLabel(f.Org), didYouMean(f.Suggestion))
}

func hasAdobeGroup(gs []AdobeGroup, name string) bool {
	n := NormalizeGroup(name)
	for _, g := range gs {
		if NormalizeGroup(g.Name) == n {
			return true
		}
	}
	return false
}

// duplicateUsers finds directory records that share an email and disagree
// on a value. The planner keeps the later record's values (in source
// order) and unites their groups; the finding says which record won.
func duplicateUsers(users []DirectoryUser) []Finding {
	byEmail := map[string][]int{}
	var order []string
	for i := range users {
		e := lowerTrim(users[i].Email)
		if e == "" {
			continue
		}
		if byEmail[e] == nil {
			order = append(order, e)
		}
		byEmail[e] = append(byEmail[e], i)
	}
	var out []Finding
	for _, e := range order {
		idx := byEmail[e]
		if len(idx) < 2 {
			continue
		}
		first := &users[idx[0]]
		var diffs []string
		var origins []string
		for _, i := range idx {
			origins = append(origins, users[i].Origin)
			u := &users[i]
			for _, d := range [][3]string{{"firstname", first.Firstname, u.Firstname}, {"lastname", first.Lastname, u.Lastname},
				{"country", first.Country, u.Country}, {"type", string(first.Type), string(u.Type)}, {"username", first.Username, u.Username}} {
				if d[1] != d[2] && !containsString(diffs, d[0]) {
					diffs = append(diffs, d[0])
				}
			}
		}
		if len(diffs) == 0 {
			continue
		}
		last := users[idx[len(idx)-1]].Origin
		out = append(out, Finding{Kind: FindingDuplicateUser, Severity: SeverityWarning, User: users[idx[0]].Email, Origins: origins,
			Message: fmt.Sprintf("%s: %d directory records for %s disagree on %s; the last one (%s) is used and their groups are combined",
				strings.Join(origins, ", "), len(idx), users[idx[0]].Email, strings.Join(diffs, ", "), last)})
	}
	return out
}

// Nearest returns the candidate closest to s, or "" when none is close: a
// candidate equal but for case and spaces, one containing s or contained
// in it ("Video" and "Video Team"), or one within a few edits.
func Nearest(s string, candidates []string) string {
	ls := strings.ToLower(strings.TrimSpace(s))
	if ls == "" {
		return ""
	}
	best, bestScore := "", 1<<30
	for _, c := range candidates {
		lc := strings.ToLower(strings.TrimSpace(c))
		if lc == "" || c == s {
			continue
		}
		score := EditDistance(ls, lc)
		switch {
		case lc == ls:
			score = 0
		case strings.Contains(lc, ls) || strings.Contains(ls, lc):
			score = 1 + abs(len(lc)-len(ls))/4
		case score > max(2, min(len(ls), len(lc))/3):
			continue
		}
		if score < bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// EditDistance is the Levenshtein distance between a and b, counted in
// runes: the fewest insertions, deletions and substitutions that turn one
// into the other. Callers fold case first when case should not count.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func unmappedOf(groups []string, mapped map[string][]string) []string {
	var out []string
	for _, g := range groups {
		if _, ok := mapped[g]; !ok {
			out = append(out, g)
		}
	}
	return out
}

func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", s)
}

func quoteNames(ns []string) string {
	q := make([]string, len(ns))
	for i, n := range ns {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func originList(origins []string, n int) string {
	if len(origins) == 0 {
		return ""
	}
	s := ": " + strings.Join(origins, ", ")
	if n > len(origins) {
		s += ", …"
	}
	return s
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
