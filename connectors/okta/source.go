package okta

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/attrformat"
)

// Source reads an Okta org. It implements core.Source.
type Source struct {
	cfg Config
	log *slog.Logger
}

var _ core.Source = (*Source)(nil)

// New returns a Source for cfg. A nil logger discards messages.
func New(cfg Config, logger *slog.Logger) *Source {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AllUsersFilter == nil {
		f, err := CompileFilter(DefaultAllUsersFilter)
		if err != nil {
			panic(err)
		}
		cfg.AllUsersFilter = f
	}
	if cfg.GroupFilterFormat == "" {
		cfg.GroupFilterFormat = "{group}"
	}
	if !cfg.EmailFormat.IsSet() {
		cfg.EmailFormat = mustFormat("{email}")
	}
	s := &Source{cfg: cfg, log: logger.With("connector", "okta")}
	if cfg.UserIdentityTypeFormat.IsSet() {
		s.log.Warn("user_identity_type_format is not used by the Okta connector (as in UST): every Okta user gets user_identity_type",
			"format", cfg.UserIdentityTypeFormat.String())
	}
	return s
}

// errAllUsers is the message for a query that asks for every user (UST
// refuses --users all with Okta too).
const errAllUsers = "the Okta connector cannot read all users; run with --users mapped or --users group NAMES"

// oktaGroup is the part of an Okta group object the connector reads.
type oktaGroup struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
}

// Users reads the members of q.Groups that pass all_users_filter. A
// requested group Okta does not have is listed in MissingGroups; any
// failed read is an error, never a short list.
func (s *Source) Users(ctx context.Context, q core.SourceQuery, r core.Reporter) (core.DirectoryResult, error) {
	var res core.DirectoryResult
	if r == nil {
		r = core.NopReporter{}
	}
	if q.AllUsers {
		return res, core.Errorf(core.CodeInvalidInput, "okta", errAllUsers)
	}
	if q.WantMemberGroups {
		s.log.Warn("additional-group rules are not supported by the Okta connector and are ignored for Okta users")
	}
	c, err := newClient(s.cfg, s.log)
	if err != nil {
		return res, err
	}
	st := &readState{
		Source:   s,
		c:        c,
		r:        r,
		ext:      extendedFields(s.cfg, q.ExtendedAttributes),
		byID:     map[string]int{},
		verdicts: map[string]bool{},
	}
	seen := map[string]bool{}
	for _, group := range q.Groups {
		if seen[group] {
			continue
		}
		seen[group] = true
		g, err := st.findGroup(ctx, group)
		if err != nil {
			return core.DirectoryResult{}, err
		}
		if g == nil {
			s.log.Warn("no Okta group found", "group", group)
			res.MissingGroups = append(res.MissingGroups, group)
			continue
		}
		if err := st.readMembers(ctx, group, g); err != nil {
			return core.DirectoryResult{}, err
		}
		st.groups++
		st.progress(false)
	}
	st.progress(true)
	res.Users = st.users
	s.log.Info("read Okta users", "users", len(st.users), "groups", st.groups, "requests", c.requests)
	return res, nil
}

// readState is one Users call's accumulated result.
type readState struct {
	*Source
	c        *client
	r        core.Reporter
	ext      []string
	users    []core.DirectoryUser
	byID     map[string]int  // Okta id -> index in users
	verdicts map[string]bool // Okta id -> all_users_filter result, for users in several groups
	groups   int
	pages    int
	gate     core.ProgressGate
}

// progress reports at most about ten times a second; the final report
// always goes out.
func (st *readState) progress(done bool) {
	if !st.gate.Allow(st.c.clock.Now(), done) {
		return
	}
	st.r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: len(st.users), Groups: st.groups, Pages: st.pages, Done: done})
}

// findGroup searches groups with q= (a prefix search in Okta) and returns
// the first whose profile name equals the requested name exactly, or nil.
func (st *readState) findGroup(ctx context.Context, group string) (*oktaGroup, error) {
	name := strings.TrimSpace(group)
	query := url.Values{"q": {st.cfg.groupQuery(name)}, "limit": {"200"}}
	u := st.c.endpoint("/api/v1/groups", query)
	var found *oktaGroup
	for page := 1; u != nil; page++ {
		var groups []oktaGroup
		next, err := st.c.getJSON(ctx, fmt.Sprintf("okta group search %q page %d", name, page), u, &groups, st.r)
		if err != nil {
			return nil, err
		}
		st.pages++
		for i := range groups {
			if groups[i].Profile.Name != name {
				continue
			}
			if found == nil {
				found = &groups[i]
			} else if groups[i].ID != found.ID {
				st.log.Warn("several Okta groups have this name; using the first", "group", name, "id", found.ID, "other_id", groups[i].ID)
			}
		}
		if next != nil && next.String() == u.String() {
			return nil, core.Errorf(core.CodeInconsistent, "okta group search", "the next link repeats the current page")
		}
		u = next
	}
	return found, nil
}

// readMembers pages through a group's members.
func (st *readState) readMembers(ctx context.Context, group string, g *oktaGroup) error {
	limit := st.cfg.PageSize
	if limit <= 0 {
		limit = 1000
	}
	u := st.c.endpoint("/api/v1/groups/"+url.PathEscape(g.ID)+"/users", url.Values{"limit": {strconv.Itoa(limit)}})
	members, kept := 0, 0
	for page := 1; u != nil; page++ {
		var users []map[string]any
		next, err := st.c.getJSON(ctx, fmt.Sprintf("okta members of group %q page %d", group, page), u, &users, st.r)
		if err != nil {
			return err
		}
		st.pages++
		for _, raw := range users {
			members++
			ok, err := st.add(group, raw)
			if err != nil {
				return err
			}
			if ok {
				kept++
			}
		}
		st.progress(false)
		if next != nil && next.String() == u.String() {
			return core.Errorf(core.CodeInconsistent, "okta members of group "+strconv.Quote(group), "the next link repeats the current page")
		}
		u = next
	}
	st.log.Debug("read Okta group", "group", group, "members", members, "users", kept)
	return nil
}

// add filters and converts one member and records its membership.
func (st *readState) add(group string, raw map[string]any) (bool, error) {
	id, _ := raw["id"].(string)
	if id == "" {
		return false, core.Errorf(core.CodeInconsistent, "okta members of group "+strconv.Quote(group), "a member has no id")
	}
	if i, ok := st.byID[id]; ok {
		u := &st.users[i]
		if !contains(u.Groups, group) {
			u.Groups = append(u.Groups, group)
		}
		return true, nil
	}
	verdict, known := st.verdicts[id]
	if !known {
		var err error
		if verdict, err = st.cfg.AllUsersFilter.Match(raw); err != nil {
			return false, core.Errorf(core.CodeInvalidInput, "okta", "user %s: %v", id, err)
		}
		st.verdicts[id] = verdict
	}
	if !verdict {
		return false, nil
	}
	u, ok := st.convert(id, raw)
	if !ok {
		st.verdicts[id] = false
		return false, nil
	}
	u.Groups = []string{group}
	st.byID[id] = len(st.users)
	st.users = append(st.users, u)
	return true, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// extendedFields lists the extended attributes to copy, without those the
// formats already read (UST drops those, and reports the formatted value).
func extendedFields(cfg Config, ext []string) []string {
	return attrformat.Unreferenced(ext, cfg.GivenNameFormat.Format, cfg.SurnameFormat.Format,
		cfg.CountryCodeFormat.Format, cfg.UserIdentityTypeFormat.Format, cfg.EmailFormat.Format,
		cfg.UsernameFormat.Format, cfg.DomainFormat.Format)
}

// convert turns an Okta user into a DirectoryUser with UST's rules: the
// email is required; the username defaults to the email; the domain
// defaults to the email's domain unless the username is the email; the
// country is upper-cased.
func (st *readState) convert(id string, raw map[string]any) (core.DirectoryUser, bool) {
	profile, _ := raw["profile"].(map[string]any)
	login, _ := profile["login"].(string)
	cfg := st.cfg
	attrs := map[string]any{"id": id, "login": nilIfEmpty(login)}

	email, missing, _ := cfg.EmailFormat.Render(profile)
	email = strings.TrimSpace(email)
	if email == "" {
		if missing != "" {
			st.log.Warn("skipping Okta user: empty email attribute", "login", login, "attribute", missing)
		}
		return core.DirectoryUser{}, false
	}
	u := core.DirectoryUser{Email: email, Type: cfg.UserIdentityType, Origin: "okta user " + id}
	attrs["email"] = email
	if cfg.UserIdentityType != "" {
		attrs["identity_type"] = string(cfg.UserIdentityType)
	} else {
		attrs["identity_type"] = nil
	}

	username, missing, _ := cfg.UsernameFormat.Render(profile)
	username = strings.TrimSpace(username)
	attrs["username"] = nilIfEmpty(username)
	if username != "" {
		u.Username = username
	} else {
		if missing != "" {
			st.log.Warn("no username attribute for Okta user; using the email", "login", login, "attribute", missing, "email", email)
		}
		u.Username = email
	}

	domain, missing, _ := cfg.DomainFormat.Render(profile)
	domain = strings.TrimSpace(domain)
	attrs["domain"] = nilIfEmpty(domain)
	switch {
	case domain != "":
		u.Domain = domain
	case username != email:
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			u.Domain = email[at+1:]
		}
	case missing != "":
		st.log.Warn("no domain attribute for Okta user", "login", login, "attribute", missing)
	}

	if v, missing, ok := cfg.GivenNameFormat.Render(profile); ok {
		u.Firstname = v
		attrs["firstName"] = v
	} else {
		attrs["firstName"] = nil
		if missing != "" {
			st.log.Warn("no given name attribute for Okta user", "login", login, "attribute", missing)
		}
	}
	if v, missing, ok := cfg.SurnameFormat.Render(profile); ok {
		u.Lastname = v
		attrs["lastName"] = v
	} else {
		attrs["lastName"] = nil
		if missing != "" {
			st.log.Warn("no last name attribute for Okta user", "login", login, "attribute", missing)
		}
	}
	if v, missing, ok := cfg.CountryCodeFormat.Render(profile); ok {
		u.Country = strings.ToUpper(v)
		attrs["c"] = v
	} else {
		attrs["c"] = nil
		if missing != "" {
			st.log.Warn("no country code attribute for Okta user", "login", login, "attribute", missing)
		}
	}
	for _, name := range st.ext {
		attrs[name] = attributeValue(profile[name])
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

var _ core.UserLookup = (*Source)(nil)

// LookupUser finds one Okta user by login or email (GET
// /api/v1/users/{login}) with the names of all its groups, whether or not
// it is in a mapped group, for explain. A user all_users_filter rejects is
// returned with a note in its Origin. where names the org and filter.
func (s *Source) LookupUser(ctx context.Context, query string, q core.SourceQuery) (*core.DirectoryUser, string, error) {
	where := fmt.Sprintf("Okta %s (user lookup by login, all_users_filter %q)", s.cfg.Host, s.cfg.AllUsersFilter.String())
	c, err := newClient(s.cfg, s.log)
	if err != nil {
		return nil, where, err
	}
	st := &readState{Source: s, c: c, r: core.NopReporter{}, ext: extendedFields(s.cfg, q.ExtendedAttributes),
		byID: map[string]int{}, verdicts: map[string]bool{}}
	var raw map[string]any
	if _, err := c.getJSON(ctx, "okta user lookup", c.endpoint("/api/v1/users/"+url.PathEscape(strings.TrimSpace(query)), nil), &raw, st.r); err != nil {
		if core.Code(err) == core.CodeNotFound {
			return nil, where, nil
		}
		return nil, where, err
	}
	id, _ := raw["id"].(string)
	u, ok := st.convert(id, raw)
	if !ok {
		return nil, where, nil
	}
	if match, err := s.cfg.AllUsersFilter.Match(raw); err == nil && !match {
		u.Origin += " (all_users_filter does not select it)"
	}
	var groups []oktaGroup
	if _, err := c.getJSON(ctx, "okta user groups", c.endpoint("/api/v1/users/"+url.PathEscape(id)+"/groups", nil), &groups, st.r); err != nil {
		return nil, where, err
	}
	for _, g := range groups {
		u.Groups = append(u.Groups, g.Profile.Name)
	}
	return &u, where, nil
}
