package google

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

// Source reads a Google Workspace directory. It implements core.Source.
type Source struct {
	cfg Config
	log *slog.Logger
	tok tokenCache
}

var _ core.Source = (*Source)(nil)

// New returns a Source for cfg. A nil logger discards messages.
func New(cfg Config, logger *slog.Logger) *Source {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if !cfg.EmailFormat.IsSet() {
		cfg.EmailFormat = mustFormat(DefaultEmailFormat)
	}
	if cfg.Customer == "" && cfg.Domain == "" {
		cfg.Customer = "my_customer"
	}
	s := &Source{cfg: cfg, log: logger.With("connector", "google")}
	if cfg.UserIdentityTypeFormat.IsSet() {
		s.log.Warn("user_identity_type_format is not used by the Google connector: every user gets user_identity_type",
			"format", cfg.UserIdentityTypeFormat.String())
	}
	return s
}

// Users reads the users of the customer (q.AllUsers) or the transitive
// members of q.Groups, without suspended or archived users. A requested
// group Google does not have is listed in MissingGroups; any failed read
// is an error, never a short list.
func (s *Source) Users(ctx context.Context, q core.SourceQuery, r core.Reporter) (core.DirectoryResult, error) {
	if r == nil {
		r = core.NopReporter{}
	}
	if q.WantMemberGroups {
		s.log.Warn("additional-group rules are not supported by the Google connector and are ignored for Google users")
	}
	c, err := newClient(s.cfg, &s.tok, s.log)
	if err != nil {
		return core.DirectoryResult{}, err
	}
	st := &readState{Source: s, c: c, r: r, ext: extendedFields(s.cfg, q.ExtendedAttributes), byID: map[string]int{}}
	if err := st.readUsers(ctx, q); err != nil {
		return core.DirectoryResult{}, err
	}
	var res core.DirectoryResult
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
			s.log.Warn("no Google group found", "group", group)
			res.MissingGroups = append(res.MissingGroups, group)
			continue
		}
		if err := st.expand(ctx, group, g); err != nil {
			return core.DirectoryResult{}, err
		}
		st.groups++
		st.progress(false)
	}
	for _, u := range st.users {
		if q.AllUsers || len(u.Groups) > 0 {
			res.Users = append(res.Users, u)
		}
	}
	st.selected = len(res.Users)
	st.progress(true)
	s.log.Info("read Google users", "users", len(res.Users), "groups", st.groups, "requests", c.requests)
	return res, nil
}

// readState is one Users call's accumulated result.
type readState struct {
	*Source
	c        *client
	r        core.Reporter
	ext      []string
	users    []core.DirectoryUser // every active user, in listing order
	byID     map[string]int       // Google user id -> index in users
	groups   int
	pages    int
	selected int
	gate     core.ProgressGate
}

// progress reports at most about ten times a second; the final report
// always goes out.
func (st *readState) progress(done bool) {
	if !st.gate.Allow(st.c.clock.Now(), done) {
		return
	}
	n := len(st.users)
	if done {
		n = st.selected
	}
	st.r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: n, Groups: st.groups, Pages: st.pages, Done: done})
}

func (st *readState) scope() url.Values {
	v := url.Values{}
	if st.cfg.Domain != "" {
		v.Set("domain", st.cfg.Domain)
	} else {
		v.Set("customer", st.cfg.Customer)
	}
	return v
}

func pageSize(cfg int, max int) string {
	if cfg <= 0 || cfg > max {
		cfg = max
	}
	return strconv.Itoa(cfg)
}

// readUsers lists every user of the customer or domain that
// all_users_query selects, keeping the active ones.
func (st *readState) readUsers(ctx context.Context, q core.SourceQuery) error {
	v := st.scope()
	v.Set("maxResults", pageSize(st.cfg.PageSize, 500))
	v.Set("projection", st.projection())
	v.Set("viewType", "admin_view")
	if st.cfg.AllUsersQuery != "" {
		v.Set("query", st.cfg.AllUsersQuery)
	}
	token := ""
	for page := 1; ; page++ {
		if token != "" {
			v.Set("pageToken", token)
		}
		var resp struct {
			Users         []map[string]any `json:"users"`
			NextPageToken string           `json:"nextPageToken"`
		}
		if err := st.c.getJSON(ctx, fmt.Sprintf("google users page %d", page), st.c.endpoint("/users", v), &resp, st.r); err != nil {
			return err
		}
		st.pages++
		for _, raw := range resp.Users {
			st.add(raw)
		}
		st.progress(false)
		if resp.NextPageToken == "" {
			return nil
		}
		if resp.NextPageToken == token {
			return core.Errorf(core.CodeInconsistent, "google users", "the next page token repeats the current page")
		}
		token = resp.NextPageToken
	}
}

// projection is "full" when a format or extended attribute reads custom
// schemas, "basic" otherwise.
func (st *readState) projection() string {
	for _, f := range st.formats() {
		for _, p := range f.Fields() {
			if strings.HasPrefix(p, "customSchemas") {
				return "full"
			}
		}
	}
	for _, e := range st.ext {
		if strings.HasPrefix(e, "customSchemas") {
			return "full"
		}
	}
	return "basic"
}

func (st *readState) formats() []Format {
	c := st.cfg
	return []Format{c.EmailFormat, c.UsernameFormat, c.DomainFormat, c.GivenNameFormat, c.SurnameFormat, c.CountryCodeFormat}
}

// add converts one listed user; suspended and archived users are never
// kept.
func (st *readState) add(raw map[string]any) {
	id, _ := raw["id"].(string)
	email, _ := raw["primaryEmail"].(string)
	if id == "" {
		st.log.Warn("skipping a Google user without an id", "email", email)
		return
	}
	if truthy(raw["suspended"]) || truthy(raw["archived"]) {
		st.log.Debug("skipping suspended or archived Google user", "id", id, "email", email)
		return
	}
	if _, dup := st.byID[id]; dup {
		return
	}
	u, ok := st.convert(id, raw)
	if !ok {
		return
	}
	st.byID[id] = len(st.users)
	st.users = append(st.users, u)
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// group is the part of a Google group the connector reads.
type group struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// findGroup resolves a directory_group: an email address with groups.get,
// otherwise a name with groups.list (name='…'), which must be unique. It
// returns nil when there is no such group.
func (st *readState) findGroup(ctx context.Context, name string) (*group, error) {
	name = strings.TrimSpace(name)
	if strings.Contains(name, "@") {
		var g group
		err := st.c.getJSON(ctx, fmt.Sprintf("google group %q", name), st.c.endpoint("/groups/"+url.PathEscape(name), nil), &g, st.r)
		if core.Code(err) == core.CodeNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		st.pages++
		return &g, nil
	}
	v := st.scope()
	v.Set("query", "name='"+strings.ReplaceAll(name, "'", `\'`)+"'")
	v.Set("maxResults", "200")
	var found []group
	token := ""
	for page := 1; ; page++ {
		if token != "" {
			v.Set("pageToken", token)
		}
		var resp struct {
			Groups        []group `json:"groups"`
			NextPageToken string  `json:"nextPageToken"`
		}
		if err := st.c.getJSON(ctx, fmt.Sprintf("google group search %q page %d", name, page), st.c.endpoint("/groups", v), &resp, st.r); err != nil {
			return nil, err
		}
		st.pages++
		for _, g := range resp.Groups {
			if g.Name == name {
				found = append(found, g)
			}
		}
		if resp.NextPageToken == "" || resp.NextPageToken == token {
			break
		}
		token = resp.NextPageToken
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &found[0], nil
	}
	emails := make([]string, len(found))
	for i, g := range found {
		emails[i] = g.Email
	}
	return nil, core.Errorf(core.CodeInvalidInput, "google group "+strconv.Quote(name),
		"%d groups have this name (%s); name the group by its email address in directory_group", len(found), strings.Join(emails, ", "))
}

// member is the part of a group member the connector reads.
type member struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Type  string `json:"type"`
}

// expand adds group to the Groups of every active user that is a member
// of g directly or through nested groups. Each group is read once, so a
// cycle ends; a nested group that cannot be read is an error.
func (st *readState) expand(ctx context.Context, name string, g *group) error {
	visited := map[string]bool{g.ID: true}
	queue := []group{*g}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		key := cur.ID
		if key == "" {
			key = cur.Email
		}
		v := url.Values{"maxResults": {pageSize(st.cfg.PageSize, 200)}}
		token := ""
		for page := 1; ; page++ {
			if token != "" {
				v.Set("pageToken", token)
			}
			var resp struct {
				Members       []member `json:"members"`
				NextPageToken string   `json:"nextPageToken"`
			}
			label := cur.Email
			if label == "" {
				label = key
			}
			op := fmt.Sprintf("google members of group %q page %d", label, page)
			if label != name {
				op = fmt.Sprintf("google members of group %q (nested in %q) page %d", label, name, page)
			}
			if err := st.c.getJSON(ctx, op, st.c.endpoint("/groups/"+url.PathEscape(key)+"/members", v), &resp, st.r); err != nil {
				return err
			}
			st.pages++
			for _, m := range resp.Members {
				switch strings.ToUpper(m.Type) {
				case "USER":
					if i, ok := st.byID[m.ID]; ok {
						addGroup(&st.users[i], name)
					}
				case "GROUP":
					if m.ID != "" && !visited[m.ID] {
						visited[m.ID] = true
						queue = append(queue, group{ID: m.ID, Email: m.Email})
					}
				case "CUSTOMER":
					// The whole customer is a member: every user is.
					for i := range st.users {
						addGroup(&st.users[i], name)
					}
				}
			}
			st.progress(false)
			if resp.NextPageToken == "" {
				break
			}
			if resp.NextPageToken == token {
				return core.Errorf(core.CodeInconsistent, op, "the next page token repeats the current page")
			}
			token = resp.NextPageToken
		}
	}
	return nil
}

func addGroup(u *core.DirectoryUser, g string) {
	for _, x := range u.Groups {
		if x == g {
			return
		}
	}
	u.Groups = append(u.Groups, g)
}

// extendedFields lists the extended attributes to copy, without those the
// formats already read.
func extendedFields(cfg Config, ext []string) []string {
	return attrformat.Unreferenced(ext, cfg.GivenNameFormat.Format, cfg.SurnameFormat.Format,
		cfg.CountryCodeFormat.Format, cfg.UserIdentityTypeFormat.Format, cfg.EmailFormat.Format,
		cfg.UsernameFormat.Format, cfg.DomainFormat.Format)
}

// convert turns a Google user into a DirectoryUser with UST's rules: the
// email is required; the username defaults to the email; the domain
// defaults to the email's domain unless the username is the email; the
// country is upper-cased.
func (st *readState) convert(id string, raw map[string]any) (core.DirectoryUser, bool) {
	cfg := st.cfg
	primary, _ := raw["primaryEmail"].(string)
	attrs := map[string]any{"id": id, "primaryEmail": nilIfEmpty(primary)}
	email, missing, _ := cfg.EmailFormat.Render(raw)
	email = strings.TrimSpace(email)
	if email == "" {
		st.log.Warn("skipping Google user: empty email attribute", "id", id, "attribute", missing)
		return core.DirectoryUser{}, false
	}
	u := core.DirectoryUser{Email: email, Type: cfg.UserIdentityType, Origin: "google user " + id}
	attrs["email"] = email
	if cfg.UserIdentityType != "" {
		attrs["identity_type"] = string(cfg.UserIdentityType)
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
		attrs["familyName"] = v
	} else {
		attrs["familyName"] = nil
	}
	if v, _, ok := cfg.CountryCodeFormat.Render(raw); ok {
		u.Country = strings.ToUpper(v)
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
