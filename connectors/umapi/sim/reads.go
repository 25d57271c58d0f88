package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// wireUser is a user object as the read endpoints send it (§3.1, §3.6).
type wireUser struct {
	ID        string   `json:"id"`
	Email     string   `json:"email"`
	Status    string   `json:"status"`
	Groups    []string `json:"groups,omitempty"`
	Username  string   `json:"username"`
	Domain    string   `json:"domain"`
	Firstname string   `json:"firstname,omitempty"`
	Lastname  string   `json:"lastname,omitempty"`
	Country   string   `json:"country,omitempty"`
	Type      string   `json:"type"`
}

func toWire(u *user, inherited, withGroups bool) wireUser {
	w := wireUser{ID: u.id(), Email: u.email, Status: "active", Username: u.username, Domain: u.domain,
		Firstname: u.firstname, Lastname: u.lastname, Country: u.country, Type: u.typ.String()}
	if withGroups {
		w.Groups = u.groupNames(inherited)
	}
	return w
}

// usersPage is the body of a users list (§3.1, §3.2); usersPageResp
// writes it by hand for speed (see wire.go), tests decode it.
type usersPage struct {
	LastPage  bool       `json:"lastPage"`
	Result    string     `json:"result"`
	GroupName string     `json:"groupName,omitempty"`
	Users     []wireUser `json:"users"`
}

// queryBool parses a boolean query parameter case-insensitively, as the
// Python client sends "True" and "False".
func queryBool(q url.Values, key string, def bool) bool {
	v := q.Get(key)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(strings.ToLower(v))
	if err != nil {
		return def
	}
	return b
}

func parsePage(p string) (int, bool) {
	n, err := strconv.Atoi(p)
	return n, err == nil && n >= 0
}

// pageOf clamps page to the last page and returns the bounds of its items
// and the paging figures. A page past the end returns the last page (§3.1).
func pageOf(total, size, page int) (start, end, pageCount, current int) {
	pageCount = max(1, (total+size-1)/size)
	current = min(page, pageCount-1)
	start = min(current*size, total)
	end = min(start+size, total)
	return
}

func pagingHeaders(total, pageCount, current, items int) http.Header {
	h := http.Header{}
	h.Set("X-Total-Count", strconv.Itoa(total))
	h.Set("X-Page-Count", strconv.Itoa(pageCount))
	h.Set("X-Current-Page", strconv.Itoa(current))
	h.Set("X-Page-Size", strconv.Itoa(items))
	return h
}

// usersList serves GET /users/{orgId}/{page}[/{groupName}].
func (s *Server) usersList(r *http.Request, pageStr, groupName string, inGroup bool) response {
	page, ok := parsePage(pageStr)
	if !ok {
		return jsonResp(http.StatusBadRequest, resultMessage{"error.page.invalid", "Invalid page number: " + pageStr})
	}
	q := r.URL.Query()
	directOnly := queryBool(q, "directOnly", true)
	excludeGroups := queryBool(q, "excludeGroups", false)
	dom := q.Get("domain")
	status := q.Get("status")

	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.org
	var g *group
	if inGroup {
		g = o.groupBy[lower(groupName)]
		if g == nil && strings.HasPrefix(groupName, "_") && o.knownAdminName(groupName) {
			// An admin group that has no members yet: empty list.
			return s.usersPageResp(nil, 0, groupName, true, false)
		}
		if g == nil {
			return jsonResp(http.StatusNotFound, map[string]any{"lastPage": false,
				"result": "error.group.not_found", "message": "Not found: Group " + groupName})
		}
	}
	if dom != "" && o.domainBy[lower(dom)] == nil {
		return jsonResp(http.StatusNotFound, map[string]any{"lastPage": false,
			"result": "error.domain.not_found", "message": "Not found: Domain " + dom})
	}
	list := o.users
	if g != nil || dom != "" || status == "inactive" {
		list = make([]*user, 0, 1024)
		if status != "inactive" { // every simulated member holds an active licence
			for _, u := range o.users {
				if (g == nil || u.memberOf(g, directOnly)) && (dom == "" || strings.EqualFold(u.domain, dom)) {
					list = append(list, u)
				}
			}
		}
	}
	name := ""
	if inGroup {
		name = g.name
	}
	return s.usersPageResp(list, page, name, !directOnly, !excludeGroups)
}

func (s *Server) usersPageResp(list []*user, page int, groupName string, inherited, withGroups bool) response {
	start, end, pageCount, current := pageOf(len(list), usersPageSize, page)
	b := make([]byte, 0, 64+(end-start)*256)
	b = append(b, `{"lastPage":`...)
	b = strconv.AppendBool(b, current == pageCount-1)
	b = append(b, `,"result":"success"`...)
	if groupName != "" {
		b = append(b, `,"groupName":`...)
		b = appendString(b, groupName)
	}
	b = append(b, `,"users":[`...)
	for i, u := range list[start:end] {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUser(b, u, inherited, withGroups)
	}
	b = append(b, "]}\n"...)
	return response{status: http.StatusOK, raw: b,
		header: pagingHeaders(len(list), pageCount, current, end-start)}
}

// knownAdminName reports whether name is an admin group the org could
// have, without creating it.
func (o *org) knownAdminName(name string) bool {
	ln := lower(name)
	switch {
	case ln == "_org_admin", ln == "_deployment_admin", ln == "_support_admin":
		return true
	case strings.HasPrefix(ln, "_admin_"):
		return o.groupBy[ln[len("_admin_"):]] != nil
	case strings.HasPrefix(ln, "_developer_"):
		g := o.groupBy[ln[len("_developer_"):]]
		return g != nil && g.typ == typeProductProfile
	case strings.HasPrefix(ln, "_product_admin_"):
		for _, g := range o.groups {
			if g.typ == typeProductProfile && strings.EqualFold(g.productName, name[len("_product_admin_"):]) {
				return true
			}
		}
	}
	return false
}

// singleUser serves GET /organizations/{orgId}/users/{userString}.
func (s *Server) singleUser(r *http.Request, who string) response {
	dom := r.URL.Query().Get("domain")
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.org
	var u *user
	switch {
	case strings.EqualFold(dom, "AdobeID"):
		u = o.adobe[lower(who)]
	case strings.Contains(who, "@"):
		u = o.lookup(who, "", false)
		if u != nil && dom != "" && u.typ == adobeID {
			u = nil // a directory domain was asked for; the Adobe ID is not in it
		}
	default:
		u = o.lookup(who, dom, false)
	}
	if u == nil {
		return jsonResp(http.StatusNotFound, resultMessage{"error.user.not_found", "User not found " + who})
	}
	return jsonResp(http.StatusOK, map[string]any{"result": "success", "user": toWire(u, false, true)})
}

type wireGroup struct {
	GroupID            int64  `json:"groupId"`
	GroupName          string `json:"groupName"`
	Type               string `json:"type"`
	MemberCount        int    `json:"memberCount"`
	AdminGroupName     string `json:"adminGroupName,omitempty"`
	ProductName        string `json:"productName,omitempty"`
	UserGroupName      string `json:"userGroupName,omitempty"`
	ProductProfileName string `json:"productProfileName,omitempty"`
	// LicenseQuota is served as seeded (product profiles only).
	LicenseQuota json.RawMessage `json:"licenseQuota,omitempty"`
}

// groupsList serves GET /groups/{orgId}/{page}. It sends no paging
// headers (UNCERTAIN; the stricter choice: clients page on lastPage).
func (s *Server) groupsList(pageStr string) response {
	page, ok := parsePage(pageStr)
	if !ok {
		return jsonResp(http.StatusBadRequest, resultMessage{"error.page.invalid", "Invalid page number: " + pageStr})
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.org
	total := len(o.groups)
	pageCount := max(1, (total+groupsPageSize-1)/groupsPageSize)
	if page >= pageCount {
		// UNCERTAIN: the stricter of the two documented answers.
		return jsonResp(http.StatusOK, map[string]any{"lastPage": true, "result": "Not found"})
	}
	start := page * groupsPageSize
	end := min(start+groupsPageSize, total)
	groups := make([]wireGroup, 0, end-start)
	for _, g := range o.groups[start:end] {
		wg := wireGroup{GroupID: g.id, GroupName: g.name, Type: g.typ, MemberCount: g.members,
			AdminGroupName: o.adminGroupOf(g), ProductName: g.productName, LicenseQuota: g.quota}
		switch g.typ {
		case typeUserAdmin:
			wg.UserGroupName = g.name[len("_admin_"):]
		case typeProfileAdmin, typeDeveloper:
			if g.typ == typeProfileAdmin {
				wg.ProductProfileName = g.name[len("_admin_"):]
			} else {
				wg.ProductProfileName = g.name[len("_developer_"):]
			}
		}
		groups = append(groups, wg)
	}
	return jsonResp(http.StatusOK, map[string]any{"lastPage": page == pageCount-1, "result": "success", "groups": groups})
}
