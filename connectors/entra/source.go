package entra

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/usersync/usersync/core"
)

// Source reads a Microsoft Entra ID tenant. It implements core.Source.
type Source struct {
	cfg Config
	log *slog.Logger
	// tok is the access token, shared by Users calls until it expires.
	tok *tokenCache
}

var _ core.Source = (*Source)(nil)

// New returns a Source for cfg. A nil logger discards messages.
func New(cfg Config, logger *slog.Logger) *Source {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.EmailFormat.IsSet() {
		cfg.EmailFormat = mustFormat("{mail}")
	}
	if cfg.AuthorityHost == "" {
		cfg.AuthorityHost = DefaultAuthorityHost
	}
	if cfg.GraphHost == "" {
		cfg.GraphHost = DefaultGraphHost
	}
	return &Source{cfg: cfg, log: logger.With("connector", "entra"), tok: &tokenCache{}}
}

// Users reads the users q asks for. A requested group that Entra does not
// have is listed in MissingGroups; any failed read is an error, never a
// short list.
func (s *Source) Users(ctx context.Context, q core.SourceQuery, r core.Reporter) (core.DirectoryResult, error) {
	if r == nil {
		r = core.NopReporter{}
	}
	if q.WantMemberGroups {
		s.log.Warn("additional-group rules are not supported by the Entra connector and are ignored for Entra users")
	}
	c, err := newClient(s.cfg, s.log, s.tok)
	if err != nil {
		return core.DirectoryResult{}, err
	}
	st := &readState{Source: s, c: c, r: r, byID: map[string]int{}}
	st.selects = st.selectList(q.ExtendedAttributes)
	res, err := st.read(ctx, q)
	if err != nil {
		return core.DirectoryResult{}, err
	}
	st.progress(true)
	s.log.Info("read Entra users", "users", len(res.Users), "groups", st.groups.Load(), "requests", c.requests.Load())
	return res, nil
}

// groupWorkers is how many groups are read at once: enough to hide
// Graph's latency, few enough to stay clear of its per-app limits.
const groupWorkers = 4

func (st *readState) read(ctx context.Context, q core.SourceQuery) (core.DirectoryResult, error) {
	var res core.DirectoryResult
	if q.AllUsers {
		if err := st.readUsers(ctx); err != nil {
			return res, err
		}
	}
	var names []string
	seen := map[string]bool{}
	for _, group := range q.Groups {
		if name := strings.TrimSpace(group); !seen[name] {
			seen[name] = true
			names = append(names, group)
		}
	}
	// Groups are read in parallel and merged in the order asked, so the
	// result does not depend on which read finished first. The first
	// failure cancels the others.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]groupRead, len(names))
	sem := make(chan struct{}, groupWorkers)
	var wg sync.WaitGroup
	for i, group := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i].err = &core.Error{Code: core.CodeCanceled, Op: "entra", Err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			results[i] = st.readGroup(ctx, group, !q.AllUsers)
			if results[i].err != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	// Report the first failure in request order that is not merely the
	// cancellation another failure caused.
	var firstErr error
	for _, r := range results {
		if r.err == nil {
			continue
		}
		if firstErr == nil || core.Code(firstErr) == core.CodeCanceled && core.Code(r.err) != core.CodeCanceled {
			firstErr = r.err
		}
	}
	if firstErr != nil {
		return res, firstErr
	}
	for i, group := range names {
		r := results[i]
		if r.missing {
			st.log.Warn("no Entra group has this displayName", "group", strings.TrimSpace(group))
			res.MissingGroups = append(res.MissingGroups, group)
			continue
		}
		for _, m := range r.members {
			st.merge(group, m, !q.AllUsers)
		}
		st.log.Debug("read Entra group", "group", group, "members", len(r.members))
	}
	res.Users = st.users
	return res, nil
}

// groupRead is what one group's read found.
type groupRead struct {
	missing bool
	members []member
	err     error
}

// member is one enabled user among a group's transitive members; user is
// set (ok) when the member was converted.
type member struct {
	id   string
	user core.DirectoryUser
	ok   bool
}

// readState is one Users call's accumulated result.
type readState struct {
	*Source
	c       *client
	r       core.Reporter
	selects string
	ext     []string
	users   []core.DirectoryUser
	byID    map[string]int // object id -> index in users

	// Counters for progress reports, updated by the group readers.
	groups, pages, seen atomic.Int64
	mu                  sync.Mutex // guards gate and the reports
	gate                core.ProgressGate
	noEmail             sync.Map // ids of users skipped for want of an email
}

// progress reports at most about ten times a second; the final report
// always goes out.
// Users counts the user records read so far (a user in two groups
// twice) until the final report, which counts distinct users.
func (st *readState) progress(done bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.gate.Allow(st.c.clock.Now(), done) {
		return
	}
	users := int(st.seen.Load())
	if done {
		users = len(st.users)
	}
	st.r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: users, Groups: int(st.groups.Load()), Pages: int(st.pages.Load()), Done: done})
}

// selectList is the $select of user reads: the object id, accountEnabled
// (so that disabled accounts can be dropped whatever the filter), the user
// principal name (for messages) and every property the formats and the
// extension read.
func (st *readState) selectList(extended []string) string {
	props := []string{"id", "accountEnabled", "userPrincipalName"}
	add := func(p string) {
		p, _, _ = strings.Cut(p, ".")
		if p != "" && !slices.Contains(props, p) {
			props = append(props, p)
		}
	}
	cfg := st.cfg
	used := map[string]bool{}
	for _, f := range []Format{cfg.EmailFormat, cfg.UsernameFormat, cfg.DomainFormat, cfg.GivenNameFormat,
		cfg.SurnameFormat, cfg.CountryCodeFormat, cfg.UserIdentityTypeFormat} {
		for _, name := range f.Fields() {
			add(name)
			used[name] = true
		}
	}
	for _, e := range extended {
		if used[e] || slices.Contains(st.ext, e) {
			continue
		}
		if !validField(e) {
			st.log.Warn("extended attribute is not a Graph property name; it will be empty", "attribute", e)
			continue
		}
		st.ext = append(st.ext, e)
		add(e)
	}
	return strings.Join(props, ",")
}

// pageSize is the $top of listings.
func (st *readState) pageSize() string {
	if st.cfg.PageSize > 0 {
		return strconv.Itoa(st.cfg.PageSize)
	}
	return "999"
}

// userQuery is the query of a user listing: the properties, the page size
// and all_users_filter as an advanced query.
func (st *readState) userQuery(selects string) (url.Values, bool) {
	v := url.Values{"$select": {selects}, "$top": {st.pageSize()}}
	if st.cfg.AllUsersFilter == "" {
		return v, false
	}
	v.Set("$filter", st.cfg.AllUsersFilter)
	v.Set("$count", "true")
	return v, true
}

// readUsers pages through /users.
func (st *readState) readUsers(ctx context.Context) error {
	query, advanced := st.userQuery(st.selects)
	next := st.c.endpoint("/users", query)
	for n := 1; next != ""; n++ {
		p, err := st.c.get(ctx, fmt.Sprintf("entra users page %d", n), next, advanced, st.r)
		if err != nil {
			return err
		}
		st.pages.Add(1)
		for _, raw := range p.Value {
			m, ok, err := st.member("", raw, true)
			if err != nil {
				return err
			}
			if ok {
				st.seen.Add(1)
				st.merge("", m, true)
			}
		}
		st.progress(false)
		next = p.NextLink
	}
	return nil
}

// findGroup returns the object id of the group whose displayName is name,
// "" when there is none. Several groups with that name are an error: which
// one is meant cannot be known.
func (st *readState) findGroup(ctx context.Context, name string) (string, error) {
	filter := "displayName eq '" + strings.ReplaceAll(name, "'", "''") + "'"
	next := st.c.endpoint("/groups", url.Values{"$filter": {filter}, "$select": {"id,displayName"}, "$top": {"999"}})
	var ids []string
	for n := 1; next != ""; n++ {
		p, err := st.c.get(ctx, fmt.Sprintf("entra group lookup %q page %d", name, n), next, false, st.r)
		if err != nil {
			return "", err
		}
		st.pages.Add(1)
		for _, g := range p.Value {
			id, _ := g["id"].(string)
			dn, _ := g["displayName"].(string)
			// Graph compares displayName without regard to case; a mapping
			// names one group exactly.
			if id != "" && dn == name && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		next = p.NextLink
	}
	switch len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	return "", core.Errorf(core.CodeInvalidInput, "entra group lookup", "%d groups are named %q (object ids %s); give each a distinct displayName",
		len(ids), name, strings.Join(ids, ", "))
}

// readGroup finds a group and pages through its transitive members cast
// to users. With create set, members are converted to users; otherwise
// (--users all) only their ids are read, to attach the group to users
// already read.
func (st *readState) readGroup(ctx context.Context, group string, create bool) groupRead {
	id, err := st.findGroup(ctx, strings.TrimSpace(group))
	if err != nil || id == "" {
		return groupRead{missing: id == "", err: err}
	}
	selects := st.selects
	if !create {
		selects = "id,accountEnabled"
	}
	query, _ := st.userQuery(selects)
	// The OData cast with $count (and any $filter on it) is an advanced
	// query: Graph wants ConsistencyLevel: eventual and $count=true.
	query.Set("$count", "true")
	next := st.c.endpoint("/groups/"+url.PathEscape(id)+"/transitiveMembers/microsoft.graph.user", query)
	var out groupRead
	for n := 1; next != ""; n++ {
		p, err := st.c.get(ctx, fmt.Sprintf("entra members of group %q page %d", group, n), next, true, st.r)
		if err != nil {
			return groupRead{err: err}
		}
		st.pages.Add(1)
		for _, raw := range p.Value {
			m, ok, err := st.member(group, raw, create)
			if err != nil {
				return groupRead{err: err}
			}
			if ok {
				out.members = append(out.members, m)
				st.seen.Add(1)
			}
		}
		st.progress(false)
		next = p.NextLink
	}
	st.groups.Add(1)
	st.progress(false)
	return out
}

// member checks one user object: disabled accounts are dropped (ok
// false); with create, the user is converted.
func (st *readState) member(group string, raw map[string]any, create bool) (member, bool, error) {
	id, _ := raw["id"].(string)
	if id == "" {
		return member{}, false, core.Errorf(core.CodeInconsistent, "entra", "a user without an id in %s", where(group))
	}
	if enabled, ok := raw["accountEnabled"].(bool); ok && !enabled {
		return member{}, false, nil
	}
	m := member{id: id}
	if create {
		m.user, m.ok = st.convert(id, raw)
	}
	return m, true, nil
}

// merge records a member: a user already read gets the group; a new
// converted user is added (create) with it.
func (st *readState) merge(group string, m member, create bool) {
	if i, ok := st.byID[m.id]; ok {
		u := &st.users[i]
		if group != "" && !slices.Contains(u.Groups, group) {
			u.Groups = append(u.Groups, group)
		}
		return
	}
	if !create || !m.ok {
		return
	}
	u := m.user
	if group != "" {
		u.Groups = []string{group}
	}
	st.byID[m.id] = len(st.users)
	st.users = append(st.users, u)
}

func where(group string) string {
	if group == "" {
		return "/users"
	}
	return "the members of " + strconv.Quote(group)
}

// convert turns a Graph user into a DirectoryUser with UST's rules: the
// email is required; the username defaults to the email; the domain
// defaults to the email's domain unless the username is the email; the
// country is upper-cased (empty means default_country_code).
func (st *readState) convert(id string, raw map[string]any) (core.DirectoryUser, bool) {
	cfg := st.cfg
	upn, _ := raw["userPrincipalName"].(string)
	attrs := map[string]any{"id": id, "userPrincipalName": nilIfEmpty(upn)}

	email, missing, _ := cfg.EmailFormat.Render(raw)
	email = strings.TrimSpace(email)
	if email == "" {
		// Once per user, though it may be a member of several groups.
		if _, warned := st.noEmail.LoadOrStore(id, true); !warned {
			st.log.Warn("skipping Entra user: empty email attribute", "id", id, "userPrincipalName", upn, "attribute", missing)
		}
		return core.DirectoryUser{}, false
	}
	origin := "entra user " + id
	if upn != "" {
		origin += " (" + upn + ")"
	}
	u := core.DirectoryUser{Email: email, Type: cfg.UserIdentityType, Origin: origin}
	attrs["email"] = email
	if v, _, ok := cfg.UserIdentityTypeFormat.Render(raw); ok {
		if t, err := core.ParseIdentityType(v); err == nil {
			u.Type = t
		} else {
			st.log.Warn("unknown identity type for Entra user; using user_identity_type", "id", id, "value", v)
		}
	}
	if u.Type != "" {
		attrs["identity_type"] = string(u.Type)
	} else {
		attrs["identity_type"] = nil
	}

	username, _, _ := cfg.UsernameFormat.Render(raw)
	username = strings.TrimSpace(username)
	attrs["username"] = nilIfEmpty(username)
	if username != "" {
		u.Username = username
	} else {
		u.Username = email
	}
	domain, _, _ := cfg.DomainFormat.Render(raw)
	domain = strings.TrimSpace(domain)
	attrs["domain"] = nilIfEmpty(domain)
	switch {
	case domain != "":
		u.Domain = domain
	case username != "" && username != email:
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			u.Domain = email[at+1:]
		}
	}
	if v, _, ok := cfg.GivenNameFormat.Render(raw); ok {
		u.Firstname = v
		attrs["givenName"] = v
	} else {
		attrs["givenName"] = nil
	}
	if v, _, ok := cfg.SurnameFormat.Render(raw); ok {
		u.Lastname = v
		attrs["surname"] = v
	} else {
		attrs["surname"] = nil
	}
	if v, _, ok := cfg.CountryCodeFormat.Render(raw); ok {
		u.Country = strings.ToUpper(strings.TrimSpace(v))
		attrs["c"] = v
	} else {
		attrs["c"] = nil
	}
	for _, name := range st.ext {
		attrs[name] = attributeValue(lookup(raw, name))
	}
	u.Attributes = attrs
	return u, true
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
