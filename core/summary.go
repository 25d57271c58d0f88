package core

import (
	"fmt"
	"strings"
)

// SummaryLines returns UST's end-of-run Action Summary block (UST §3.16),
// one log line per element, labels right-aligned as UST aligns them. res
// may be nil (nothing applied yet): the action counts are then zero.
func SummaryLines(p *Plan, res *ApplyResult) []string {
	c := p.Counters
	type row struct {
		label string
		value string
	}
	var rows []row
	add := func(label string, v int) { rows = append(rows, row{label, fmt.Sprint(v)}) }
	secondaries := secondaryOrgs(p)
	if p.Strategy == StrategyPush {
		add("Number of directory users read", c.DirectoryUsersRead)
		add("Number of directory users selected for input", c.DirectoryUsersSelected)
		add("Number of directory users pushed to Adobe", c.Created)
		if len(secondaries) > 0 {
			add("Number of Adobe users pushed to secondaries", c.SecondaryCreated)
		}
	} else {
		add("Number of directory users read", c.DirectoryUsersRead)
		add("Number of directory users selected for input", c.DirectoryUsersSelected)
		add("Number of Adobe users read", c.AdobeUsersRead)
		add("Number of Adobe users excluded from updates", c.Excluded)
		add("Number of non-excluded Adobe users with no changes", c.Unchanged)
		add("Number of new Adobe users added", c.Created)
		add("Number of matching Adobe users updated", c.Updated)
		add("Number of Adobe user-groups created", c.GroupsCreated)
		if len(secondaries) > 0 {
			add("Number of Adobe users added to secondaries", c.SecondaryCreated)
		}
	}
	if c.StraysTracked {
		add("Number of Adobe-only users "+strayVerb(p.AdobeOnlyAction), c.StraysProcessed)
	}
	conns := []string{PrimaryOrg}
	conns = append(conns, secondaries...)
	for _, org := range conns {
		label := "Number of UMAPI actions sent (total, success, error)"
		if len(secondaries) > 0 {
			label = "Number of " + org + " UMAPI actions sent (total, success, error)"
		}
		var st OrgStats
		if res != nil {
			st = res.Orgs[org]
		}
		rows = append(rows, row{label, fmt.Sprintf("(%d, %d, %d)", st.Total, st.Success, st.Errors)})
	}
	pad := 0
	for _, r := range rows {
		pad = max(pad, len(r.label))
	}
	head := "------- Action Summary -------"
	if p.TestMode {
		head = "- Action Summary (TEST MODE) -"
	}
	dashes := strings.Repeat("-", 27)
	out := []string{dashes + head + dashes}
	for _, r := range rows {
		out = append(out, fmt.Sprintf("  %*s: %s", pad, r.label, r.value))
	}
	return append(out, strings.Repeat("-", 84))
}

// strayVerb is the summary's word for what happened to Adobe-only users.
func strayVerb(a AdobeOnlyKind) string {
	switch a {
	case AdobeOnlyDelete:
		return "deleted"
	case AdobeOnlyRemove:
		return "removed"
	case AdobeOnlyRemoveAdobeGroups:
		return "removed from all groups"
	}
	return "with groups processed"
}

// secondaryOrgs lists the plan's secondary orgs in configuration order.
func secondaryOrgs(p *Plan) []string {
	var out []string
	for _, o := range p.Orgs {
		if o != PrimaryOrg {
			out = append(out, o)
		}
	}
	return out
}
