package core

import (
	"fmt"
	"io"
	"strings"
)

// actionSections is the order and wording of RenderText's sections.
var actionSections = []struct {
	action Action
	sign   string
	title  string
}{
	{ActionCreateGroup, "+", "create user group"},
	{ActionCreate, "+", "create account"},
	{ActionUpdate, "~", "update attributes"},
	{ActionRemoveGroups, "-", "remove from groups"},
	{ActionAddGroups, "+", "add to groups"},
	{ActionRemoveAllGroups, "-", "remove from every group"},
	{ActionRemoveFromOrg, "-", "remove from org"},
	{ActionDelete, "-", "remove from org and delete account"},
}

// RenderText writes a plan as a readable list grouped by org and action,
// with the safety-limit banner first when Adobe-only changes are withheld.
// It reads only the plan.
func RenderText(w io.Writer, p *Plan) error {
	var b strings.Builder
	if p.TestMode {
		b.WriteString("TEST MODE: changes are sent with UMAPI's test flag; nothing will change.\n\n")
	}
	if l := p.Limit; l != nil && l.Exceeded {
		fmt.Fprintf(&b, "!! SAFETY LIMIT EXCEEDED: %d Adobe-only users, max_adobe_only_users %s allows at most %d.\n", l.Count, l.Setting, l.Max)
		fmt.Fprintf(&b, "!! %d Adobe-only changes are withheld and will not be applied; other changes are.\n\n", len(p.Withheld))
	}
	if len(p.Changes) == 0 && len(p.Withheld) == 0 {
		b.WriteString("No changes. Both sides are in sync.\n")
	}
	writeChanges(&b, p.Orgs, p.Changes, "")
	if len(p.Withheld) > 0 {
		b.WriteString("Withheld by max_adobe_only_users (not applied):\n\n")
		writeChanges(&b, p.Orgs, p.Withheld, "  ")
	}
	if len(p.Findings) > 0 {
		fmt.Fprintf(&b, "Findings (%d):\n", len(p.Findings))
		for _, f := range p.Findings {
			mark := "!"
			if f.Severity != SeverityWarning {
				mark = "·"
			}
			fmt.Fprintf(&b, "  %s %s\n", mark, f.Message)
		}
		b.WriteString("\n")
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintf(&b, "Warnings (%d):\n", len(p.Warnings))
		for _, s := range p.Warnings {
			fmt.Fprintf(&b, "  ! %s\n", s)
		}
		b.WriteString("\n")
	}
	b.WriteString(planTotals(p))
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChanges(b *strings.Builder, orgs []string, cs []Change, indent string) {
	byOrg := map[string][]*Change{}
	for i := range cs {
		byOrg[cs[i].Org] = append(byOrg[cs[i].Org], &cs[i])
	}
	for _, org := range orgs {
		list := byOrg[org]
		if len(list) == 0 {
			continue
		}
		fmt.Fprintf(b, "%s%s:\n", indent, strings.ToUpper(orgLabel(org)[:1])+orgLabel(org)[1:])
		for _, sec := range actionSections {
			var in []*Change
			for _, c := range list {
				if c.Action == sec.action {
					in = append(in, c)
				}
			}
			if len(in) == 0 {
				continue
			}
			fmt.Fprintf(b, "%s  %s %s (%d)\n", indent, sec.sign, sec.title, len(in))
			lastRule := ""
			for _, c := range in {
				if c.Rule != lastRule {
					fmt.Fprintf(b, "%s      # %s\n", indent, c.Rule)
					lastRule = c.Rule
				}
				fmt.Fprintf(b, "%s      %s\n", indent, changeLine(c))
			}
		}
		b.WriteString("\n")
	}
}

func changeLine(c *Change) string {
	var b strings.Builder
	if c.Action == ActionCreateGroup {
		fmt.Fprintf(&b, "%q", c.Group)
		return b.String()
	}
	b.WriteString(c.User.User)
	if c.User.Domain != "" {
		b.WriteString(" (domain " + c.User.Domain + ")")
	}
	if c.User.Type != "" {
		b.WriteString(" [" + string(c.User.Type) + "]")
	}
	switch c.Action {
	case ActionCreate:
		var parts []string
		for _, a := range c.Attrs {
			parts = append(parts, fmt.Sprintf("%s=%q", a.Name, a.After))
		}
		fmt.Fprintf(&b, "  %s", strings.Join(parts, " "))
		if c.Option != "" {
			fmt.Fprintf(&b, " (%s)", c.Option)
		}
	case ActionUpdate:
		var parts []string
		for _, a := range c.Attrs {
			if a.Before == a.After {
				parts = append(parts, fmt.Sprintf("%s %q (re-sent)", a.Name, a.After))
			} else {
				parts = append(parts, fmt.Sprintf("%s %q → %q", a.Name, a.Before, a.After))
			}
		}
		fmt.Fprintf(&b, "  %s", strings.Join(parts, ", "))
	case ActionAddGroups, ActionRemoveGroups:
		fmt.Fprintf(&b, "  %s", quoteList(c.Groups))
		if c.Action == ActionAddGroups && len(c.Reasons) > 0 {
			fmt.Fprintf(&b, "  ← %s", strings.Join(c.Reasons, "; "))
		}
	}
	if c.Blocked != "" {
		fmt.Fprintf(&b, "  ✗ NOT SENT: %s", c.Blocked)
	}
	return b.String()
}

// planTotals is the closing line: how many changes of each kind.
func planTotals(p *Plan) string {
	n := map[Action]int{}
	for _, c := range p.Changes {
		n[c.Action]++
	}
	users := map[string]bool{}
	for _, c := range p.Changes {
		if c.Action != ActionCreateGroup {
			users[c.Org+"\x00"+c.Key] = true
		}
	}
	s := fmt.Sprintf("Plan: %d changes for %d users: %d to create, %d to update, %d group additions, %d group removals, %d removals from org, %d deletions",
		len(p.Changes)-n[ActionCreateGroup], len(users), n[ActionCreate], n[ActionUpdate], n[ActionAddGroups],
		n[ActionRemoveGroups]+n[ActionRemoveAllGroups], n[ActionRemoveFromOrg], n[ActionDelete])
	if g := n[ActionCreateGroup]; g > 0 {
		s += fmt.Sprintf("; %d user groups to create", g)
	}
	if len(p.Withheld) > 0 {
		s += fmt.Sprintf("; %d withheld", len(p.Withheld))
	}
	return s + "."
}
