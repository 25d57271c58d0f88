package tui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/usersync/usersync/core"
)

// actionOrder is the order in which the review groups changes: the order in
// which the executor sends a user's steps, withheld changes last.
var actionOrder = []core.Action{
	core.ActionCreateGroup, core.ActionCreate, core.ActionUpdate,
	core.ActionRemoveGroups, core.ActionAddGroups, core.ActionRemoveAllGroups,
	core.ActionRemoveFromOrg, core.ActionDelete,
}

// heldGroup is the group index of withheld changes.
var heldGroup = len(actionOrder)

// actionLabel names an action in the table, with a symbol so that meaning
// never rests on colour.
func actionLabel(a core.Action) string {
	switch a {
	case core.ActionCreateGroup:
		return "+ new group"
	case core.ActionCreate:
		return "+ create"
	case core.ActionUpdate:
		return "~ update"
	case core.ActionRemoveGroups:
		return "- groups"
	case core.ActionAddGroups:
		return "+ groups"
	case core.ActionRemoveAllGroups:
		return "- all groups"
	case core.ActionRemoveFromOrg:
		return "- from org"
	case core.ActionDelete:
		return "x delete"
	}
	return string(a)
}

// actionWords names an action in sentences and counts.
func actionWords(a core.Action) string {
	switch a {
	case core.ActionCreateGroup:
		return "groups to create"
	case core.ActionCreate:
		return "create"
	case core.ActionUpdate:
		return "update"
	case core.ActionRemoveGroups:
		return "remove groups"
	case core.ActionAddGroups:
		return "add groups"
	case core.ActionRemoveAllGroups:
		return "remove all groups"
	case core.ActionRemoveFromOrg:
		return "remove from org"
	case core.ActionDelete:
		return "delete"
	}
	return string(a)
}

func actionIndex(a core.Action) int {
	for i, x := range actionOrder {
		if x == a {
			return i
		}
	}
	return heldGroup - 1
}

// removesAccount reports whether a change takes an account out of the org,
// which the operator must confirm by typing the number of accounts.
func removesAccount(a core.Action) bool {
	return a == core.ActionRemoveFromOrg || a == core.ActionDelete
}

// rowState is what the operator decided about a row.
type rowState uint8

const (
	rowIncluded   rowState = iota
	rowExcluded            // excluded from this run
	rowRemembered          // excluded by a remembered exclusion
	rowHeld                // withheld by a safety limit: never sent
)

// mark is the state's symbol in the table's first column.
func (s rowState) mark() string {
	switch s {
	case rowExcluded:
		return "x"
	case rowRemembered:
		return "R"
	case rowHeld:
		return "!"
	}
	return "✓"
}

func (s rowState) words() string {
	switch s {
	case rowExcluded:
		return "excluded from this run"
	case rowRemembered:
		return "excluded (remembered)"
	case rowHeld:
		return "withheld by the safety limit"
	}
	return "will be applied"
}

// row is one change as the table shows and searches it. Its text is
// prepared once so that filtering a large plan only compares strings.
type row struct {
	c       *core.Change
	group   int // actionIndex, or heldGroup
	user    string
	summary string
	// userL, groupsL and hay are lower-cased search fields; hay holds all.
	userL, groupsL, actionL, orgL string
	hay                           string
}

// changeList is the table's data: every change and withheld change of a
// plan, the operator's decision for each, and sorted orders.
type changeList struct {
	rows   []row
	state  []rowState
	orders map[sortKey][]int32
	// counts are per action (index by actionOrder) of changes to send.
	counts     []int
	orgCounts  map[string]int
	held       int
	excluded   int // rowExcluded
	remembered int // rowRemembered
	removals   int // included changes that remove an account
	deletions  int // of which deletions
}

// sortKey is a table order.
type sortKey int

const (
	sortAction sortKey = iota
	sortUser
	sortOrg
	sortKeys
)

func (k sortKey) String() string {
	return [...]string{"action", "user", "org"}[k]
}

func changeUser(c *core.Change) string {
	switch {
	case c.Action == core.ActionCreateGroup:
		return c.Group
	case c.User.Email != "":
		return c.User.Email
	case c.User.User != "":
		return c.User.User
	}
	return c.Key
}

func changeSummary(c *core.Change) string {
	switch c.Action {
	case core.ActionCreateGroup:
		return "create user group"
	case core.ActionCreate:
		if len(c.Groups) > 0 {
			return "groups: " + strings.Join(c.Groups, ", ")
		}
		return "new account"
	case core.ActionUpdate:
		parts := make([]string, 0, len(c.Attrs))
		for _, a := range c.Attrs {
			parts = append(parts, fmt.Sprintf("%s %q→%q", a.Name, a.Before, a.After))
		}
		return strings.Join(parts, "; ")
	case core.ActionAddGroups:
		return "+ " + strings.Join(c.Groups, ", ")
	case core.ActionRemoveGroups:
		return "- " + strings.Join(c.Groups, ", ")
	case core.ActionRemoveAllGroups:
		return "every group"
	case core.ActionRemoveFromOrg:
		return "account stays, leaves the org"
	case core.ActionDelete:
		return "account deleted"
	}
	return c.Rule
}

// newChangeList prepares plan p for the table. remembered are the
// remembered exclusions.
func newChangeList(p *core.Plan, remembered []core.Exclusion) *changeList {
	n := len(p.Changes) + len(p.Withheld)
	l := &changeList{
		rows:      make([]row, 0, n),
		state:     make([]rowState, 0, n),
		orders:    map[sortKey][]int32{},
		counts:    make([]int, len(actionOrder)),
		orgCounts: map[string]int{},
	}
	add := func(c *core.Change, held bool) {
		r := row{c: c, group: actionIndex(c.Action), user: changeUser(c), summary: changeSummary(c)}
		st := rowIncluded
		if held {
			r.group = heldGroup
			st = rowHeld
			l.held++
		} else {
			for _, e := range remembered {
				if e.Matches(*c) {
					st = rowRemembered
					break
				}
			}
			l.counts[r.group]++
			l.orgCounts[c.Org]++
		}
		r.userL = strings.ToLower(r.user + " " + c.Key + " " + c.User.User)
		r.groupsL = strings.ToLower(strings.Join(c.Groups, "\x00") + "\x00" + c.Group)
		// The header's words for the action ("leave org") find its rows.
		r.actionL = string(c.Action) + " " + strings.ToLower(actionWords(c.Action)) + " " + shortWords[c.Action]
		if held {
			r.actionL += " withheld"
		}
		r.orgL = strings.ToLower(c.Org)
		r.hay = r.userL + "\x00" + r.groupsL + "\x00" + r.actionL + "\x00" + r.orgL
		l.rows = append(l.rows, r)
		l.state = append(l.state, st)
		l.tally(len(l.rows)-1, st, 1)
	}
	for i := range p.Changes {
		add(&p.Changes[i], false)
	}
	for i := range p.Withheld {
		add(&p.Withheld[i], true)
	}
	l.order(sortAction)
	return l
}

// tally adds (d=1) or removes (d=-1) row i in state st from the counters.
func (l *changeList) tally(i int, st rowState, d int) {
	switch st {
	case rowExcluded:
		l.excluded += d
	case rowRemembered:
		l.remembered += d
	case rowIncluded:
		if a := l.rows[i].c.Action; removesAccount(a) {
			l.removals += d
			if a == core.ActionDelete {
				l.deletions += d
			}
		}
	}
}

func (l *changeList) setState(i int, st rowState) {
	if l.state[i] == rowHeld || l.state[i] == st {
		return
	}
	l.tally(i, l.state[i], -1)
	l.state[i] = st
	l.tally(i, st, 1)
}

// included is the number of changes that will be sent.
func (l *changeList) included() int {
	return len(l.rows) - l.held - l.excluded - l.remembered
}

// exclude returns the change IDs not to send, as Apply and Estimate take
// them. It is a fresh map: Cmds may hold it while the operator goes on.
func (l *changeList) exclude() map[int]bool {
	return excludeMap(l.rows, l.state)
}

func excludeMap(rows []row, states []rowState) map[int]bool {
	n := 0
	for _, st := range states {
		if st == rowExcluded || st == rowRemembered {
			n++
		}
	}
	m := make(map[int]bool, n)
	for i, st := range states {
		if st == rowExcluded || st == rowRemembered {
			m[rows[i].c.ID] = true
		}
	}
	return m
}

// order returns the rows in sort order k, computing it once.
func (l *changeList) order(k sortKey) []int32 {
	if o, ok := l.orders[k]; ok {
		return o
	}
	o := make([]int32, len(l.rows))
	for i := range o {
		o[i] = int32(i)
	}
	rs := l.rows
	var less func(a, b *row) int
	switch k {
	case sortAction:
		less = func(a, b *row) int {
			if a.group != b.group {
				return a.group - b.group
			}
			return strings.Compare(a.userL, b.userL)
		}
	case sortUser:
		less = func(a, b *row) int {
			if c := strings.Compare(a.userL, b.userL); c != 0 {
				return c
			}
			return a.group - b.group
		}
	default:
		less = func(a, b *row) int {
			if a.orgL != b.orgL {
				return strings.Compare(a.orgL, b.orgL)
			}
			if a.group != b.group {
				return a.group - b.group
			}
			return strings.Compare(a.userL, b.userL)
		}
	}
	sort.SliceStable(o, func(i, j int) bool { return less(&rs[o[i]], &rs[o[j]]) < 0 })
	l.orders[k] = o
	return o
}

// term is one word of a filter query: free text, or field:value with field
// one of user, group, action, org, is.
type term struct {
	field, val string
}

var filterFields = map[string]bool{"user": true, "group": true, "action": true, "org": true, "is": true}

func parseQuery(q string) []term {
	words := strings.Fields(strings.ToLower(q))
	ts := make([]term, 0, len(words))
	for _, w := range words {
		if f, v, ok := strings.Cut(w, ":"); ok && filterFields[f] {
			ts = append(ts, term{f, v})
			continue
		}
		ts = append(ts, term{"", w})
	}
	return ts
}

// narrows reports whether every row matching next also matches prev, so
// that next can be computed from prev's matches alone.
func narrows(prev, next []term) bool {
	if len(next) < len(prev) {
		return false
	}
	for i, t := range prev {
		n := next[i]
		if n.field != t.field {
			return false
		}
		if i < len(prev)-1 && n.val != t.val {
			return false
		}
		if !strings.Contains(n.val, t.val) {
			return false
		}
	}
	return true
}

func (l *changeList) match(i int32, ts []term) bool {
	r := &l.rows[i]
	for _, t := range ts {
		var ok bool
		switch t.field {
		case "":
			ok = strings.Contains(r.hay, t.val)
		case "user":
			ok = strings.Contains(r.userL, t.val)
		case "group":
			ok = strings.Contains(r.groupsL, t.val)
		case "action":
			ok = strings.Contains(r.actionL, t.val)
		case "org":
			ok = strings.Contains(r.orgL, t.val)
		case "is":
			ok = strings.Contains(l.state[i].name(), t.val)
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s rowState) name() string {
	return [...]string{"included", "excluded", "remembered", "withheld"}[s]
}

// filtered is the result of one query.
type filtered struct {
	query string
	terms []term
	rows  []int32
}

// filterStack keeps the results of the query as it was typed, so that a
// keystroke that extends the query rescans only the previous matches and a
// backspace returns an earlier result without scanning at all.
type filterStack []filtered

// apply returns the stack after setting the query to q.
func (s filterStack) apply(l *changeList, q string) filterStack {
	ts := parseQuery(q)
	for len(s) > 1 {
		top := s[len(s)-1]
		if strings.HasPrefix(q, top.query) && narrows(top.terms, ts) {
			break
		}
		s = s[:len(s)-1]
	}
	top := s[len(s)-1]
	if top.query == q {
		return s
	}
	if len(ts) == 0 {
		return append(s, filtered{query: q, rows: top.rows})
	}
	src := top.rows
	if !narrows(top.terms, ts) {
		src = s[0].rows
	}
	out := make([]int32, 0, len(src)/4+1)
	for _, i := range src {
		if l.match(i, ts) {
			out = append(out, i)
		}
	}
	return append(s, filtered{query: q, terms: ts, rows: out})
}
