package google

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/usersync/usersync/core"
)

var _ core.UserLookup = (*Source)(nil)

// LookupUser finds one Google user by primary email, alias or id
// (users.get; 404 means there is none), whether or not it would be
// selected, for explain. Its groups are the requested groups it is a
// member of, directly or through nested groups (read as Users reads them),
// named as asked, plus the email of every other group it is a direct
// member of (groups.list with userKey). A suspended or archived user is
// returned with Disabled set, so that explain says it is never selected
// rather than "not found". where names the customer or domain searched.
func (s *Source) LookupUser(ctx context.Context, query string, q core.SourceQuery) (*core.DirectoryUser, string, error) {
	query = strings.TrimSpace(query)
	scope := "customer " + s.cfg.Customer
	if s.cfg.Domain != "" {
		scope = "domain " + s.cfg.Domain
	}
	where := fmt.Sprintf("Google Workspace %s (users.get by primary email or alias %q", scope, query)
	if s.cfg.AllUsersQuery != "" {
		where += fmt.Sprintf("; all_users_query %q is not applied to a lookup", s.cfg.AllUsersQuery)
	}
	where += ")"
	c, err := newClient(s.cfg, &s.tok, s.log)
	if err != nil {
		return nil, where, err
	}
	st := &readState{Source: s, c: c, r: core.NopReporter{}, ext: extendedFields(s.cfg, q.ExtendedAttributes), byID: map[string]int{}}
	v := url.Values{"projection": {st.projection()}, "viewType": {"admin_view"}}
	var raw map[string]any
	err = c.getJSON(ctx, "google user lookup", c.endpoint("/users/"+url.PathEscape(query), v), &raw, st.r)
	if core.Code(err) == core.CodeNotFound {
		return nil, where, nil
	}
	if err != nil {
		return nil, where, err
	}
	id, _ := raw["id"].(string)
	if id == "" {
		return nil, where, core.Errorf(core.CodeInconsistent, "google user lookup", "the user %q has no id", query)
	}
	u, ok := st.convert(id, raw)
	if !ok {
		return nil, where, nil
	}
	switch sus, arc := truthy(raw["suspended"]), truthy(raw["archived"]); {
	case sus && arc:
		u.Disabled = "suspended and archived in Google Workspace"
	case sus:
		u.Disabled = "suspended in Google Workspace"
	case arc:
		u.Disabled = "archived in Google Workspace"
	}
	// The requested groups, expanded as a read expands them.
	st.users, st.byID[id] = []core.DirectoryUser{u}, 0
	asked := map[string]bool{}
	for _, name := range q.Groups {
		if asked[name] {
			continue
		}
		asked[name] = true
		g, err := st.findGroup(ctx, name)
		if err != nil {
			return nil, where, err
		}
		if g == nil {
			continue
		}
		asked[strings.ToLower(g.Email)] = true
		if err := st.expand(ctx, name, g); err != nil {
			return nil, where, err
		}
	}
	u = st.users[0]
	// Its other direct groups, so that explain can show them.
	gv := url.Values{"userKey": {id}, "maxResults": {pageSize(s.cfg.PageSize, 200)}}
	token := ""
	for page := 1; ; page++ {
		if token != "" {
			gv.Set("pageToken", token)
		}
		var resp struct {
			Groups        []group `json:"groups"`
			NextPageToken string  `json:"nextPageToken"`
		}
		op := fmt.Sprintf("google groups of user %s page %d", id, page)
		if err := c.getJSON(ctx, op, c.endpoint("/groups", gv), &resp, st.r); err != nil {
			return nil, where, err
		}
		for _, g := range resp.Groups {
			if !asked[g.Name] && !asked[strings.ToLower(g.Email)] {
				addGroup(&u, g.Email)
			}
		}
		if resp.NextPageToken == "" {
			break
		}
		if resp.NextPageToken == token {
			return nil, where, core.Errorf(core.CodeInconsistent, op, "the next page token repeats the current page")
		}
		token = resp.NextPageToken
	}
	return &u, where, nil
}
