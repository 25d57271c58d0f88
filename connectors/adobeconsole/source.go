package adobeconsole

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/usersync/usersync/core"
)

// Source reads the users of another Adobe org through a core.Target. It
// implements core.Source and only ever reads.
type Source struct {
	cfg    Config
	target core.Target
	log    *slog.Logger
}

var _ core.Source = (*Source)(nil)

// New returns a Source that reads the org t reaches. A nil logger discards
// messages.
func New(cfg Config, t core.Target, logger *slog.Logger) *Source {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, target: t, log: logger.With("connector", "adobe_console")}
}

// Users reads every user of the source org (UMAPI has no server-side query
// by several groups, and UST reads them all too), keeps those of the
// configured identity type, and returns all of them (AllUsers) or the
// members of q.Groups. Group names are matched case-insensitively; each
// user's Groups are the requested names it is a member of, spelled as
// requested, and MemberGroups are all its console groups.
func (s *Source) Users(ctx context.Context, q core.SourceQuery, r core.Reporter) (core.DirectoryResult, error) {
	var res core.DirectoryResult
	if r == nil {
		r = core.NopReporter{}
	}
	if len(q.ExtendedAttributes) > 0 {
		s.log.Warn("extended attributes are not supported by the adobe_console connector; they are left empty", "attributes", q.ExtendedAttributes)
	}
	rr := &phaseReporter{Reporter: r}

	groups, err := s.target.Groups(ctx, rr)
	if err != nil {
		return res, wrap(err, "adobe_console: reading the groups of org "+s.cfg.OrgID)
	}
	exists := make(map[string]bool, len(groups))
	for _, g := range groups {
		exists[core.NormalizeGroup(g.Name)] = true
	}
	// requested maps a normalised name to the spellings asked for.
	requested := map[string][]string{}
	var order []string
	for _, g := range q.Groups {
		k := core.NormalizeGroup(g)
		if contains(requested[k], g) {
			continue
		}
		if !exists[k] {
			if !contains(res.MissingGroups, g) {
				s.log.Warn("no group found in the source org", "group", g)
				res.MissingGroups = append(res.MissingGroups, g)
			}
			continue
		}
		if _, ok := requested[k]; !ok {
			order = append(order, k)
		}
		requested[k] = append(requested[k], g)
	}
	rr.setGroups(len(order))

	all, err := s.target.Users(ctx, core.AdobeQuery{All: true}, rr)
	if err != nil {
		return core.DirectoryResult{}, wrap(err, "adobe_console: reading the users of org "+s.cfg.OrgID)
	}
	if err := ctx.Err(); err != nil {
		return core.DirectoryResult{}, &core.Error{Code: core.CodeCanceled, Op: "adobe_console", Err: err}
	}

	seen := map[string]bool{}
	for _, a := range all {
		if s.cfg.IdentityTypeFilter != "" && !strings.EqualFold(string(a.Type), string(s.cfg.IdentityTypeFilter)) {
			continue
		}
		typ, err := core.ParseIdentityType(string(a.Type))
		if err != nil {
			s.log.Warn("skipping console user with an invalid identity type", "email", a.Email, "error", err)
			continue
		}
		key := strings.ToLower(string(typ) + "," + a.Username + "," + a.Domain)
		if seen[key] {
			continue
		}
		u := convert(typ, a, s.cfg.OrgID)
		for _, g := range a.Groups {
			for _, name := range requested[core.NormalizeGroup(g)] {
				if !contains(u.Groups, name) {
					u.Groups = append(u.Groups, name)
				}
			}
		}
		if !q.AllUsers && len(u.Groups) == 0 {
			continue
		}
		seen[key] = true
		res.Users = append(res.Users, u)
	}
	r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: len(res.Users), Groups: len(order), Pages: rr.pageCount(), Done: true})
	s.log.Info("read console users", "org", s.cfg.OrgID, "read", len(all), "users", len(res.Users))
	return res, nil
}

// convert makes a DirectoryUser from a console user. Attributes are the
// ones UST's hook sees for this connector.
func convert(typ core.IdentityType, a core.AdobeUser, org string) core.DirectoryUser {
	u := core.DirectoryUser{
		Type: typ, Username: a.Username, Domain: a.Domain, Email: a.Email,
		Firstname: a.Firstname, Lastname: a.Lastname, Country: a.Country,
		Origin: fmt.Sprintf("adobe org %s user %s", org, orFirst(a.Username, a.Email)),
		Attributes: map[string]any{
			"email": orNil(a.Email), "type": string(typ), "username": orNil(a.Username), "domain": orNil(a.Domain),
			"firstname": orNil(a.Firstname), "lastname": orNil(a.Lastname), "country": orNil(a.Country),
		},
	}
	if len(a.Groups) > 0 {
		u.MemberGroups = append([]string(nil), a.Groups...)
	}
	return u
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func orFirst(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// wrap adds context to a target error and keeps its code; a cancelled
// read stays recognisable as one.
func wrap(err error, op string) error {
	code := core.Code(err)
	if code == core.CodeUnknown && errors.Is(err, context.Canceled) {
		code = core.CodeCanceled
	}
	return &core.Error{Code: code, Op: op, Err: err}
}

// phaseReporter passes the target's throttle waits on and re-labels its
// read progress as the directory phase, since this org is the source.
// It may be called from several goroutines (the UMAPI client pages in
// parallel), hence the mutex.
type phaseReporter struct {
	core.Reporter
	mu     sync.Mutex
	groups int
	pages  int
}

func (p *phaseReporter) Progress(pr core.Progress) {
	p.mu.Lock()
	pr.Phase = core.PhaseDirectory
	pr.Org = ""
	pr.Done = false // the source reports its own final progress
	pr.Groups = p.groups
	p.pages = max(p.pages, pr.Pages)
	p.mu.Unlock()
	p.Reporter.Progress(pr)
}

func (p *phaseReporter) setGroups(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.groups = n
}

func (p *phaseReporter) pageCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages
}
