package entra

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/usersync/usersync/core"
)

var _ core.UserLookup = (*Source)(nil)

// disabledReason is what explain says of an account Entra has disabled.
const disabledReason = "disabled in Entra (accountEnabled is false)"

// LookupUser finds one Entra user by mail or userPrincipalName (GET
// /users with $filter) with the displayNames of every group it is in,
// directly or through nested groups (transitiveMemberOf cast to groups),
// whether or not it would be selected, for explain. A disabled account is
// returned with Disabled set, so that explain says it is never selected
// rather than "not found"; so is one all_users_filter rejects. It returns nil and no error when the tenant has
// no such user; where names the tenant and the filter searched.
func (s *Source) LookupUser(ctx context.Context, query string, q core.SourceQuery) (*core.DirectoryUser, string, error) {
	query = strings.TrimSpace(query)
	lit := "'" + strings.ReplaceAll(query, "'", "''") + "'"
	filter := "mail eq " + lit + " or userPrincipalName eq " + lit
	where := fmt.Sprintf("Entra tenant %s (user lookup $filter %q; all_users_filter %q)", s.cfg.TenantID, filter, s.cfg.AllUsersFilter)
	c, err := newClient(s.cfg, s.log, s.tok)
	if err != nil {
		return nil, where, err
	}
	st := &readState{Source: s, c: c, r: core.NopReporter{}, byID: map[string]int{}}
	st.selects = st.selectList(q.ExtendedAttributes)
	next := c.endpoint("/users", url.Values{"$filter": {filter}, "$select": {st.selects}, "$top": {"999"}})
	var found []map[string]any
	for n := 1; next != ""; n++ {
		p, err := c.get(ctx, fmt.Sprintf("entra user lookup page %d", n), next, false, st.r)
		if err != nil {
			return nil, where, err
		}
		found = append(found, p.Value...)
		next = p.NextLink
	}
	// One user's mail may be another's userPrincipalName: prefer the one
	// whose converted email or username is the query.
	var u *core.DirectoryUser
	var id string
	for _, raw := range found {
		rid, _ := raw["id"].(string)
		if rid == "" {
			continue
		}
		cu, ok := st.convert(rid, raw)
		if !ok {
			continue
		}
		if enabled, ok := raw["accountEnabled"].(bool); ok && !enabled {
			cu.Disabled = disabledReason
		}
		exact := strings.EqualFold(cu.Email, query) || strings.EqualFold(cu.Username, query)
		if u == nil || exact {
			u, id = &cu, rid
		}
		if exact {
			break
		}
	}
	if u == nil {
		return nil, where, nil
	}
	if u.Disabled == "" && s.cfg.AllUsersFilter != "" {
		// A read applies all_users_filter to every listing: a user it
		// rejects is never selected, whatever its groups.
		v := url.Values{"$filter": {"id eq '" + strings.ReplaceAll(id, "'", "''") + "' and (" + s.cfg.AllUsersFilter + ")"},
			"$select": {"id"}, "$count": {"true"}}
		p, err := c.get(ctx, "entra user lookup: all_users_filter", c.endpoint("/users", v), true, st.r)
		if err != nil {
			return nil, where, err
		}
		if len(p.Value) == 0 {
			u.Disabled = fmt.Sprintf("excluded by all_users_filter %q", s.cfg.AllUsersFilter)
		}
	}
	groups, err := st.memberOf(ctx, id)
	if err != nil {
		return nil, where, err
	}
	u.Groups = groups
	return u, where, nil
}

// memberOf lists the displayNames of the groups user id is in, directly
// or through nested groups.
func (st *readState) memberOf(ctx context.Context, id string) ([]string, error) {
	next := st.c.endpoint("/users/"+url.PathEscape(id)+"/transitiveMemberOf/microsoft.graph.group",
		url.Values{"$select": {"id,displayName"}, "$top": {"999"}})
	var out []string
	for n := 1; next != ""; n++ {
		p, err := st.c.get(ctx, fmt.Sprintf("entra groups of user %s page %d", id, n), next, false, st.r)
		if err != nil {
			return nil, err
		}
		for _, g := range p.Value {
			if dn, _ := g["displayName"].(string); dn != "" {
				out = append(out, dn)
			}
		}
		next = p.NextLink
	}
	return out, nil
}
