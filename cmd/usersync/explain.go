package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/store"
)

func cmdExplain(ctx context.Context, e *env, args []string) int {
	sf, rf, rest, code, ok := parseSync(e, "explain", "explain USER [-c FILE] [UST sync flags] [--json]", args, nil)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		fmt.Fprintln(e.stderr, "Usage: usersync explain USER (an email or username) [-c FILE] [sync flags]")
		return exitUsage
	}
	// Log lines go to stderr at warning level: stdout carries the story.
	p, code := loadPipeline(ctx, e, sf, rf, quietWriter{e})
	if p == nil {
		return code
	}
	defer p.close()
	snap, err := core.Fetch(ctx, p.source, p.targets, p.opts, core.NopReporter{})
	if err != nil {
		return fatal(e, err)
	}
	x, err := core.ExplainFrom(ctx, snap, p.source, p.opts, rest[0])
	if err != nil {
		return fatal(e, err)
	}
	explainRemembered(e, p, x)
	if rf.json {
		json.NewEncoder(e.stdout).Encode(x)
		return exitOK
	}
	printExplanation(e, x)
	return exitOK
}

// explainRemembered adds a step for each of the user's changes that an
// exclusion remembered in the console holds back in every run. The
// database is only read; when there is none yet, or a run holds it,
// nothing is added.
func explainRemembered(e *env, p *pipeline, x *core.Explanation) {
	path := dbPath(e, p.rf.db, p.cfg.File)
	if _, err := os.Stat(path); err != nil {
		return
	}
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		x.Steps = append(x.Steps, core.ExplainStep{Stage: "exclusion", Outcome: "unknown",
			Detail: fmt.Sprintf("remembered exclusions not read: %v", err)})
		return
	}
	ex, err := db.Exclusions()
	if err != nil {
		err = fmt.Errorf("remembered exclusions not read: %w", err)
	}
	if cerr := db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing the database after reading the remembered exclusions: %w", cerr)
	}
	if err != nil {
		x.Steps = append(x.Steps, core.ExplainStep{Stage: "exclusion", Outcome: "unknown", Detail: err.Error()})
		if ex == nil {
			return
		}
	}
	for _, c := range x.Changes {
		for _, r := range ex {
			if r.Matches(c) {
				note := ""
				if r.Note != "" {
					note = " (" + r.Note + ")"
				}
				x.Steps = append(x.Steps, core.ExplainStep{Stage: "exclusion", Outcome: "remembered",
					Detail: fmt.Sprintf("a remembered exclusion%s holds back this change in every run: %s; forget it in the console (E)", note, describeChange(c))})
			}
		}
	}
}

// quietWriter passes only warning-and-worse log lines to stderr.
type quietWriter struct{ e *env }

func (q quietWriter) Write(b []byte) (int, error) {
	s := string(b)
	if strings.Contains(s, " WARNING ") || strings.Contains(s, " ERROR ") || strings.Contains(s, " CRITICAL ") {
		return q.e.stderr.Write(b)
	}
	return len(b), nil
}

func printExplanation(e *env, x *core.Explanation) {
	fmt.Fprintf(e.stdout, "Why %s is or is not synced\n\n", x.Query)
	for i, s := range x.Steps {
		fmt.Fprintf(e.stdout, "%2d. [%s] %s\n    %s\n", i+1, s.Stage, s.Outcome, strings.ReplaceAll(s.Detail, "\n", "\n    "))
	}
	if len(x.Changes) == 0 {
		fmt.Fprintln(e.stdout, "\nResult: no change for this user.")
		return
	}
	fmt.Fprintln(e.stdout, "\nResult:")
	for _, c := range x.Changes {
		fmt.Fprintf(e.stdout, "  - [%s] %s\n", c.Org, describeChange(c))
	}
}

// cmdCheck validates the configuration and reaches both sides: the
// directory (bind, file readable), a token for every org, and every mapped
// group present on both sides, with suggestions for near-misses.
// interactiveCheckTimeout bounds each UMAPI call of a check run at a
// terminal.
const interactiveCheckTimeout = 10 * time.Second

func cmdCheck(ctx context.Context, e *env, args []string) int {
	sf, rf, rest, code, ok := parseSync(e, "check", "check [-c FILE] [UST sync flags]", args, nil)
	if !ok {
		return code
	}
	if !noArgs(e, "check", rest) {
		return exitUsage
	}
	p, code := loadPipeline(ctx, e, sf, rf, quietWriter{e})
	if p == nil {
		return code
	}
	defer p.close()
	// At a terminal someone is waiting: an unreachable server should fail
	// in seconds, not after the sync's full timeout and retries.
	fast := ""
	if e.tty {
		for org, u := range p.cfg.UMAPI {
			c := *u
			c.Timeout, c.Retries = min(c.Timeout, interactiveCheckTimeout), 1
			t, err := p.buildTarget(&c)
			if err != nil {
				return fatal(e, fmt.Errorf("%s: %w", u.File, err))
			}
			p.targets[org] = t
		}
		fast = fmt.Sprintf(" (at a terminal the check tries once and waits at most %s; a sync waits server.timeout and retries)", interactiveCheckTimeout)
	}
	problems := 0
	okf := func(format string, a ...any) { fmt.Fprintf(e.stdout, "ok    "+format+"\n", a...) }
	bad := func(format string, a ...any) { problems++; fmt.Fprintf(e.stdout, "FAIL  "+format+"\n", a...) }
	okf("configuration %s is valid", p.cfg.File)

	orgs := make([]string, 0, len(p.targets))
	for org := range p.targets {
		orgs = append(orgs, org)
	}
	sort.Strings(orgs)
	adobeGroups := map[string][]core.AdobeGroup{}
	for _, org := range orgs {
		gs, err := p.targets[org].Groups(ctx, core.NopReporter{})
		if err != nil {
			bad("Adobe org %s: %v%s", org, err, fast)
			continue
		}
		adobeGroups[org] = gs
		okf("Adobe org %s: token obtained, %d groups and product profiles", org, len(gs))
	}
	var dirRead *core.DirectoryResult
	if p.source != nil {
		q := core.DirectoryQuery(p.opts)
		res, err := p.source.Users(ctx, q, core.NopReporter{})
		if err == nil {
			dirRead = &res
		}
		switch {
		case err != nil:
			bad("directory (%s): %v", p.cfg.Invocation.Connector, err)
		default:
			okf("directory (%s): %d users read for %d groups", p.cfg.Invocation.Connector, len(res.Users), len(q.Groups))
			// Suggest from the groups the users read belong to (all of a
			// CSV file's groups; for LDAP and Okta, those of the users
			// selected).
			seen := map[string]bool{}
			var known []string
			for _, u := range append(append([]core.DirectoryUser(nil), res.Users...), res.Unselected...) {
				for _, g := range append(append([]string(nil), u.Groups...), u.MemberGroups...) {
					if !seen[g] {
						seen[g] = true
						known = append(known, g)
					}
				}
			}
			sort.Strings(known)
			for _, g := range res.MissingGroups {
				hint := ""
				if s := core.Nearest(g, known); s != "" {
					hint = fmt.Sprintf(" (did you mean %q?)", s)
				}
				bad("directory group %q is mapped but not found in the directory%s", g, hint)
			}
		}
	}
	for _, m := range p.opts.GroupMapping {
		for _, q := range m.AdobeGroups {
			org, name := core.SplitQualifiedGroup(q)
			if org == "" {
				org = core.PrimaryOrg
			}
			gs, ok := adobeGroups[org]
			if !ok {
				continue
			}
			if hasGroup(gs, name) {
				continue
			}
			hint := ""
			if s := core.Nearest(name, groupNames(gs)); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			if p.opts.AutoCreate {
				okf("Adobe group %q (org %s) is missing and will be created (auto_create)%s", name, org, hint)
				continue
			}
			bad("Adobe group %q mapped from %q is not in org %s%s", name, m.DirectoryGroup, org, hint)
		}
	}
	// The rest of the diagnosis the plan carries: unmapped groups in use,
	// invalid or duplicate users, skipped records. Warnings, not failures.
	if dirRead != nil {
		snap := &core.Snapshot{Directory: *dirRead, Adobe: map[string]core.OrgSnapshot{}}
		for org, gs := range adobeGroups {
			snap.Adobe[org] = core.OrgSnapshot{Groups: gs}
		}
		for _, f := range core.Diagnose(snap, p.opts) {
			switch f.Kind {
			case core.FindingDirectoryGroupMissing, core.FindingAdobeGroupMissing:
				continue // checked above
			}
			label := "WARN  "
			if f.Severity != core.SeverityWarning {
				label = "note  "
			}
			fmt.Fprintln(e.stdout, label+f.Message)
		}
	}
	if problems > 0 {
		fmt.Fprintf(e.stdout, "\n%d problem(s) found.\n", problems)
		return exitFatal
	}
	fmt.Fprintln(e.stdout, "\nEverything checked is in order.")
	return exitOK
}

func hasGroup(gs []core.AdobeGroup, name string) bool {
	n := core.NormalizeGroup(name)
	for _, g := range gs {
		if core.NormalizeGroup(g.Name) == n {
			return true
		}
	}
	return false
}

func groupNames(gs []core.AdobeGroup) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return out
}
