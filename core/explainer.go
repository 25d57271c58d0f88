package core

import (
	"context"
	"fmt"
	"strings"
)

// tracer follows one user through a planning run. The planner checks for
// a nil tracer before any tracing work, so normal runs pay nothing.
type tracer struct {
	q     string // lower-cased email or username
	steps []ExplainStep
	dir   *DirectoryUser
	adobe *AdobeUser
	// adobeOnly is set when the user was found to be Adobe-only, so that
	// the safety limit concerns it.
	adobeOnly bool
}

func (t *tracer) dirHit(u *DirectoryUser) bool {
	if t == nil {
		return false
	}
	return lowerTrim(u.Email) == t.q || lowerTrim(u.Username) == t.q
}

func (t *tracer) adobeHit(a *AdobeUser) bool {
	if t == nil {
		return false
	}
	return lowerTrim(a.Email) == t.q || lowerTrim(a.Username) == t.q
}

func (t *tracer) add(stage, outcome, format string, args ...any) {
	t.steps = append(t.steps, ExplainStep{Stage: stage, Outcome: outcome, Detail: fmt.Sprintf(format, args...)})
}

func (t *tracer) hitChange(c *Change) bool {
	if c.Action == ActionCreateGroup {
		return false
	}
	if lowerTrim(c.User.User) == t.q || lowerTrim(c.User.Email) == t.q {
		return true
	}
	parts := strings.Split(c.Key, ",")
	for _, p := range parts[1:] {
		if p == t.q {
			return true
		}
	}
	return false
}

// trace adds a step when tracing, regardless of the user.
func (p *planner) trace(stage, outcome, format string, args ...any) {
	if p.tr != nil {
		p.tr.add(stage, outcome, format, args...)
	}
}

// Explain tells the story of one user (an email or username, matched
// case-insensitively): the source record, selection, each mapping rule
// that fired, the hook's effect, additional groups, the matched Adobe
// account, exclusions, its Adobe-only fate, the limit and the resulting
// changes. It runs the planner with tracing for that user.
func Explain(ctx context.Context, snap *Snapshot, o *Options, query string) (*Explanation, error) {
	tr := &tracer{q: lowerTrim(query)}
	if tr.q == "" {
		return nil, Errorf(CodeInvalidInput, "explain", "no user given: name an email or username")
	}
	p, err := newPlanner(ctx, snap, o, tr)
	if err != nil {
		return nil, err
	}
	plan, err := p.run()
	if err != nil {
		return nil, err
	}
	ex := &Explanation{Query: query, Directory: tr.dir, Adobe: tr.adobe, Steps: tr.steps}
	if tr.adobe == nil && !p.listMode() && !p.push() {
		ex.Steps = append(ex.Steps, ExplainStep{Stage: "match", Outcome: "no account",
			Detail: fmt.Sprintf("no Adobe account read has the email or username %q", tr.q)})
	}
	// By change ID: a change split by max_group_removals or a licence
	// quota has one part planned and one withheld.
	withheld := map[int]bool{}
	adobeOnlyHeld := false
	for _, c := range plan.Withheld {
		if tr.hitChange(&c) {
			withheld[c.ID] = true
			if c.Held == HoldAdobeOnly || c.Held == "" {
				adobeOnlyHeld = true
			} else if n := len(c.Reasons); n > 0 {
				ex.Steps = append(ex.Steps, ExplainStep{Stage: "limit", Outcome: "withheld", Detail: c.Reasons[n-1]})
			}
		}
	}
	for _, c := range append(append([]Change(nil), plan.Changes...), plan.Withheld...) {
		if tr.hitChange(&c) {
			ex.Changes = append(ex.Changes, c)
		}
	}
	if lim := plan.Limit; lim != nil && adobeOnlyHeld {
		ex.Steps = append(ex.Steps, ExplainStep{Stage: "limit", Outcome: "withheld",
			Detail: fmt.Sprintf("%d Adobe-only users exceed max_adobe_only_users %s (at most %d), so no Adobe-only change is made, this user's included", lim.Count, lim.Setting, lim.Max)})
	} else if lim != nil && tr.adobeOnly {
		ex.Steps = append(ex.Steps, ExplainStep{Stage: "limit", Outcome: "within limit",
			Detail: fmt.Sprintf("%d Adobe-only users, max_adobe_only_users %s allows %d", lim.Count, lim.Setting, lim.Max)})
	}
	if len(ex.Changes) == 0 {
		ex.Steps = append(ex.Steps, ExplainStep{Stage: "result", Outcome: "no change", Detail: "the plan has no change for this user"})
	}
	for _, c := range ex.Changes {
		outcome := "planned"
		if withheld[c.ID] {
			outcome = "withheld"
		}
		ex.Steps = append(ex.Steps, ExplainStep{Stage: "result", Outcome: outcome, Detail: describeChange(&c)})
	}
	return ex, nil
}

// describeChange says what a change does, in plain words.
func describeChange(c *Change) string {
	where := orgLabel(c.Org)
	switch c.Action {
	case ActionCreate:
		return fmt.Sprintf("create %s account %s in %s (%s)", c.User.Type, c.User.User, where, c.Rule)
	case ActionUpdate:
		var parts []string
		for _, a := range c.Attrs {
			parts = append(parts, fmt.Sprintf("%s %q → %q", a.Name, a.Before, a.After))
		}
		return fmt.Sprintf("update %s in %s: %s", c.User.User, where, strings.Join(parts, ", "))
	case ActionAddGroups:
		return fmt.Sprintf("add %s to %s in %s (%s)", c.User.User, quoteList(c.Groups), where, strings.Join(c.Reasons, "; "))
	case ActionRemoveGroups:
		return fmt.Sprintf("remove %s from %s in %s (%s)", c.User.User, quoteList(c.Groups), where, c.Rule)
	case ActionRemoveAllGroups:
		return fmt.Sprintf("remove %s from every group in %s (%s)", c.User.User, where, c.Rule)
	case ActionRemoveFromOrg:
		return fmt.Sprintf("remove %s from %s (%s)", c.User.User, where, c.Rule)
	case ActionDelete:
		return fmt.Sprintf("remove %s from %s and delete the account (%s)", c.User.User, where, c.Rule)
	case ActionCreateGroup:
		return fmt.Sprintf("create user group %q in %s", c.Group, where)
	}
	return string(c.Action)
}
