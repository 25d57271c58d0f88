package tui

import (
	"fmt"
	"strings"

	"github.com/usersync/usersync/core"
)

// idFilter narrows the review to some change IDs (the changes of one
// mapping row); label names it in the filter line.
type idFilter struct {
	label string
	ids   map[int]bool
}

// findingsBanner is the review's one-line summary of the plan's warnings
// (core.Diagnose's findings), or "" when there are none.
func (m *Model) findingsBanner(w int) string {
	var mapping, other []string
	for _, f := range m.findings() {
		if f.Severity != core.SeverityWarning {
			continue
		}
		switch f.Kind {
		case core.FindingDirectoryGroupMissing:
			s := fmt.Sprintf("%q not in the directory", f.Group)
			if f.Suggestion != "" {
				s += fmt.Sprintf(" (did you mean %q?)", f.Suggestion)
			}
			mapping = append(mapping, s)
		case core.FindingAdobeGroupMissing:
			mapping = append(mapping, fmt.Sprintf("%q not in org %s", f.Group, f.Org))
		case core.FindingUnmappedGroup:
			s := fmt.Sprintf("%q (%d users) not mapped", f.Group, f.Members)
			if f.Suggestion != "" {
				s += fmt.Sprintf(" (did you mean %q?)", f.Suggestion)
			}
			mapping = append(mapping, s)
		default:
			other = append(other, f.Message)
		}
	}
	if len(mapping)+len(other) == 0 {
		return ""
	}
	var s string
	if len(mapping) > 0 {
		s = fmt.Sprintf("⚠ %d mapping problems: %s", len(mapping), strings.Join(mapping, " · "))
		if len(mapping) == 1 {
			s = "⚠ 1 mapping problem: " + mapping[0]
		}
		if len(other) > 0 {
			s += fmt.Sprintf(" · %d more warnings", len(other))
		}
		s += " — 3 Mappings"
	} else {
		s = fmt.Sprintf("⚠ %d warnings: %s", len(other), strings.Join(other, " · "))
	}
	return m.st.warn.Render(fit(s, w))
}

// blockedWords is what the review's WHAT column says of a change that
// cannot succeed and is not sent.
func blockedWords(c *core.Change, summary string) string {
	reason := c.Blocked
	if _, r, ok := strings.Cut(reason, "]: "); ok {
		reason = r
	}
	return "✗ not sent: " + summary + " — " + reason
}
