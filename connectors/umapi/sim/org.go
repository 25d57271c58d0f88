package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// idType is a user's identity type.
type idType uint8

const (
	adobeID idType = iota + 1
	enterpriseID
	federatedID
)

func (t idType) String() string {
	switch t {
	case adobeID:
		return "adobeID"
	case enterpriseID:
		return "enterpriseID"
	case federatedID:
		return "federatedID"
	}
	return "unknown"
}

func parseIDType(s string) (idType, bool) {
	switch s {
	case "adobeID":
		return adobeID, true
	case "enterpriseID":
		return enterpriseID, true
	case "federatedID":
		return federatedID, true
	}
	return 0, false
}

// Group types as the groups list reports them.
const (
	typeUserGroup       = "USER_GROUP"
	typeProductProfile  = "PRODUCT_PROFILE"
	typeSysAdmin        = "SYSADMIN_GROUP"
	typeDeploymentAdmin = "DEPLOYMENT_ADMIN_GROUP"
	typeSupportAdmin    = "SUPPORT_ADMIN_GROUP"
	typeProductAdmin    = "PRODUCT_ADMIN_GROUP"
	typeProfileAdmin    = "PROFILE_ADMIN_GROUP"
	typeUserAdmin       = "USER_ADMIN_GROUP"
	typeDeveloper       = "DEVELOPER_GROUP"
)

var groupTypes = []string{typeUserGroup, typeProductProfile, typeSysAdmin, typeDeploymentAdmin,
	typeSupportAdmin, typeProductAdmin, typeProfileAdmin, typeUserAdmin, typeDeveloper}

// user is one member of the org. Strings keep the case they were created
// with; the indexes are keyed by lower-cased values.
type user struct {
	typ       idType
	email     string
	username  string
	domain    string
	firstname string
	lastname  string
	country   string
	groups    []*group
	pos       int // index in org.users
}

func (u *user) inGroup(g *group) bool { return slices.Contains(u.groups, g) }

type group struct {
	id          int64
	name        string
	typ         string
	productName string
	description string
	readOnly    bool
	profiles    []*group // product profiles a user group grants
	members     int
	quota       json.RawMessage // licenseQuota as seeded (product profiles)
}

type domain struct {
	name    string
	typ     idType
	trusted bool
}

// org is the simulated organisation. It is not safe for concurrent use; the
// server serialises access.
type org struct {
	id, clientID, clientSecret string

	domains  []*domain
	domainBy map[string]*domain

	groups  []*group
	groupBy map[string]*group
	nextGID int64

	// users holds members in creation order for paging; removed members
	// leave nil holes until compact.
	users []*user
	holes int
	// adobe indexes Adobe IDs and byEmail Enterprise and Federated IDs by
	// lower-cased email. byName indexes Enterprise and Federated IDs whose
	// username differs from their email, by nameKey.
	adobe, byEmail, byName map[string]*user

	// strs interns the few distinct domain and country strings, so that a
	// million users do not hold a million copies of them.
	strs map[string]string
}

func (o *org) intern(v string) string {
	if v == "" {
		return ""
	}
	if iv, ok := o.strs[v]; ok {
		return iv
	}
	o.strs[v] = v
	return v
}

func lower(s string) string { return strings.ToLower(s) }

// nameKey is the byName key: an email-form username alone, a plain
// username with its domain.
func nameKey(username, dom string) string {
	if strings.Contains(username, "@") {
		return lower(username)
	}
	return lower(username) + "\x00" + lower(dom)
}

// buildOrg checks a seed and builds the org it describes.
func buildOrg(s *Seed) (*org, error) {
	o := &org{
		id: s.OrgID, clientID: s.ClientID, clientSecret: s.ClientSecret,
		domainBy: map[string]*domain{}, groupBy: map[string]*group{},
		adobe: map[string]*user{}, byEmail: map[string]*user{}, byName: map[string]*user{},
		strs: map[string]string{}, nextGID: 100001,
	}
	if o.id == "" {
		o.id = DefaultOrgID
	} else if !strings.HasSuffix(o.id, "@AdobeOrg") {
		return nil, fieldError("org_id", "%q does not end in @AdobeOrg", o.id)
	}
	if o.clientID == "" {
		o.clientID = DefaultClientID
	}
	if o.clientSecret == "" {
		o.clientSecret = DefaultClientSecret
	}
	for i, d := range s.Domains {
		f := fmt.Sprintf("domains[%d]", i)
		if d.Name == "" || strings.Contains(d.Name, "@") {
			return nil, fieldError(f+".name", "%q is not a domain name", d.Name)
		}
		t, ok := parseIDType(d.Type)
		if !ok || t == adobeID {
			return nil, fieldError(f+".type", "%q is not enterpriseID or federatedID", d.Type)
		}
		if o.domainBy[lower(d.Name)] != nil {
			return nil, fieldError(f+".name", "%q is listed twice", d.Name)
		}
		dm := &domain{name: d.Name, typ: t, trusted: d.Trusted}
		o.domains = append(o.domains, dm)
		o.domainBy[lower(d.Name)] = dm
	}
	for i, g := range s.Groups {
		f := fmt.Sprintf("groups[%d]", i)
		if g.Name == "" {
			return nil, fieldError(f+".name", "missing")
		}
		if o.groupBy[lower(g.Name)] != nil {
			return nil, fieldError(f+".name", "%q is listed twice (names are case-insensitive)", g.Name)
		}
		typ := g.Type
		if typ == "" {
			typ = typeUserGroup
		}
		if !slices.Contains(groupTypes, typ) {
			return nil, fieldError(f+".type", "%q is not one of %s", g.Type, strings.Join(groupTypes, ", "))
		}
		if typ == typeProductProfile && g.ProductName == "" {
			return nil, fieldError(f+".productName", "missing (required for a PRODUCT_PROFILE)")
		}
		if typ == typeUserGroup && strings.HasPrefix(g.Name, "_") {
			return nil, fieldError(f+".name", "%q: user group names must not start with _", g.Name)
		}
		if len(g.LicenseQuota) > 0 {
			if typ != typeProductProfile {
				return nil, fieldError(f+".licenseQuota", "only a PRODUCT_PROFILE has a licence quota")
			}
			if !validQuota(g.LicenseQuota) {
				return nil, fieldError(f+".licenseQuota", "%s: must be a whole number (as a string or a number) or \"UNLIMITED\"", g.LicenseQuota)
			}
		}
		o.addGroup(&group{name: g.Name, typ: typ, productName: g.ProductName,
			description: g.Description, readOnly: g.ReadOnly, quota: slices.Clone(g.LicenseQuota)})
	}
	for i, g := range s.Groups {
		if len(g.ProductConfigurations) == 0 {
			continue
		}
		f := fmt.Sprintf("groups[%d].productConfigurations", i)
		ug := o.groupBy[lower(g.Name)]
		if ug.typ != typeUserGroup {
			return nil, fieldError(f, "only a USER_GROUP grants product profiles")
		}
		for _, p := range g.ProductConfigurations {
			pg := o.groupBy[lower(p)]
			if pg == nil || pg.typ != typeProductProfile {
				return nil, fieldError(f, "%q is not a PRODUCT_PROFILE of this seed", p)
			}
			if !slices.Contains(ug.profiles, pg) {
				ug.profiles = append(ug.profiles, pg)
			}
		}
	}
	o.users = make([]*user, 0, len(s.Users))
	for i, su := range s.Users {
		if err := o.seedUser(i, su); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *org) seedUser(i int, su SeedUser) error {
	f := fmt.Sprintf("users[%d]", i)
	t, ok := parseIDType(su.Type)
	if !ok {
		return fieldError(f+".type", "%q is not adobeID, enterpriseID or federatedID", su.Type)
	}
	if !validEmail(su.Email) {
		return fieldError(f+".email", "%q is not an email address", su.Email)
	}
	u := &user{typ: t, email: su.Email, username: su.Username, domain: o.intern(su.Domain),
		firstname: su.Firstname, lastname: su.Lastname, country: o.intern(su.Country)}
	if u.username == "" || u.username == u.email {
		u.username = u.email // share the string: a million users add up
	}
	if u.domain == "" {
		u.domain = emailDomain(u.email)
	}
	switch t {
	case adobeID:
		if o.adobe[lower(u.email)] != nil {
			return fieldError(f+".email", "an Adobe ID %q is listed twice", u.email)
		}
		if !strings.EqualFold(u.username, u.email) {
			return fieldError(f+".username", "an Adobe ID's username is its email")
		}
	default:
		d := o.domainBy[lower(u.domain)]
		if d == nil {
			return fieldError(f+".domain", "%q is not a domain of this seed (add it to domains)", u.domain)
		}
		if d.typ != t {
			return fieldError(f+".type", "%s user in %s domain %q", t, d.typ, d.name)
		}
		if t == enterpriseID && !strings.EqualFold(u.username, u.email) {
			return fieldError(f+".username", "an Enterprise ID's username is its email")
		}
		if o.byEmail[lower(u.email)] != nil {
			return fieldError(f+".email", "%q is listed twice", u.email)
		}
		if o.usernameTaken(u.username, u.domain) != nil {
			return fieldError(f+".username", "%q is listed twice", u.username)
		}
	}
	if u.country != "" && !validCountry(u.country, t) {
		return fieldError(f+".country", "%q is not an ISO 3166 alpha-2 country code", u.country)
	}
	for j, name := range su.Groups {
		g := o.groupBy[lower(name)]
		if g == nil && strings.HasPrefix(name, "_") {
			g = o.adminGroup(name, true)
		}
		if g == nil {
			return fieldError(fmt.Sprintf("%s.groups[%d]", f, j), "%q is not a group of this seed", name)
		}
		if !u.inGroup(g) {
			u.groups = append(u.groups, g)
			g.members++
		}
	}
	o.insertUser(u)
	return nil
}

func (o *org) addGroup(g *group) {
	g.id = o.nextGID
	o.nextGID++
	o.groups = append(o.groups, g)
	o.groupBy[lower(g.name)] = g
}

// adminGroup resolves the name of an admin group (_org_admin,
// _admin_<group>, _product_admin_<product>, ...), creating its record the
// first time it is needed, as the real org does when an admin is first
// assigned. allowOrgAdmin permits the groups the API cannot assign.
func (o *org) adminGroup(name string, allowOrgAdmin bool) *group {
	if g := o.groupBy[lower(name)]; g != nil {
		return g
	}
	ln := lower(name)
	var typ string
	switch {
	case ln == "_org_admin":
		if !allowOrgAdmin {
			return nil
		}
		typ = typeSysAdmin
	case ln == "_deployment_admin":
		typ = typeDeploymentAdmin
	case ln == "_support_admin":
		typ = typeSupportAdmin
	case strings.HasPrefix(ln, "_product_admin_"):
		product := name[len("_product_admin_"):]
		if !slices.ContainsFunc(o.groups, func(g *group) bool {
			return g.typ == typeProductProfile && strings.EqualFold(g.productName, product)
		}) {
			return nil
		}
		typ = typeProductAdmin
	case strings.HasPrefix(ln, "_admin_"):
		target := o.groupBy[ln[len("_admin_"):]]
		switch {
		case target == nil:
			return nil
		case target.typ == typeUserGroup:
			typ = typeUserAdmin
		case target.typ == typeProductProfile:
			typ = typeProfileAdmin
		default:
			return nil
		}
	case strings.HasPrefix(ln, "_developer_"):
		target := o.groupBy[ln[len("_developer_"):]]
		if target == nil || target.typ != typeProductProfile {
			return nil
		}
		typ = typeDeveloper
	default:
		return nil
	}
	g := &group{name: name, typ: typ}
	o.addGroup(g)
	return g
}

// adminGroupOf returns the name of g's admin group when it has members.
func (o *org) adminGroupOf(g *group) string {
	if g.typ != typeUserGroup && g.typ != typeProductProfile {
		return ""
	}
	if ag := o.groupBy["_admin_"+lower(g.name)]; ag != nil && ag.members > 0 {
		return ag.name
	}
	return ""
}

func (o *org) insertUser(u *user) {
	u.pos = len(o.users)
	o.users = append(o.users, u)
	if u.typ == adobeID {
		o.adobe[lower(u.email)] = u
		return
	}
	o.byEmail[lower(u.email)] = u
	if !strings.EqualFold(u.username, u.email) {
		o.byName[nameKey(u.username, u.domain)] = u
	}
}

func (o *org) unindex(u *user) {
	if u.typ == adobeID {
		delete(o.adobe, lower(u.email))
		return
	}
	delete(o.byEmail, lower(u.email))
	if !strings.EqualFold(u.username, u.email) {
		delete(o.byName, nameKey(u.username, u.domain))
	}
}

func (o *org) removeUser(u *user) {
	o.unindex(u)
	for _, g := range u.groups {
		g.members--
	}
	u.groups = nil
	o.users[u.pos] = nil
	o.holes++
}

// compact closes the holes removals left in o.users.
func (o *org) compact() {
	if o.holes == 0 {
		return
	}
	n := 0
	for _, u := range o.users {
		if u != nil {
			u.pos = n
			o.users[n] = u
			n++
		}
	}
	clear(o.users[n:])
	o.users = o.users[:n]
	o.holes = 0
}

// usernameTaken returns the Enterprise or Federated user holding username
// in dom's directory, if any.
func (o *org) usernameTaken(username, dom string) *user {
	if u := o.byName[nameKey(username, dom)]; u != nil {
		return u
	}
	if strings.Contains(username, "@") {
		if u := o.byEmail[lower(username)]; u != nil && strings.EqualFold(u.username, u.email) {
			return u
		}
	}
	return nil
}

// lookup finds the user a command or a single-user query names (§6.2): an
// email selects the Enterprise or Federated account unless useAdobeID is
// set or there is none; a plain username needs its domain.
func (o *org) lookup(userStr, dom string, useAdobeID bool) *user {
	if !strings.Contains(userStr, "@") {
		if dom == "" {
			return nil
		}
		return o.byName[nameKey(userStr, dom)]
	}
	k := lower(userStr)
	if useAdobeID {
		return o.adobe[k]
	}
	if u := o.byEmail[k]; u != nil {
		return u
	}
	return o.adobe[k]
}

// userGroups lists u's group names; with inherited, the product profiles
// its user groups grant are added.
func (u *user) groupNames(inherited bool) []string {
	if len(u.groups) == 0 {
		return nil
	}
	names := make([]string, 0, len(u.groups))
	for _, g := range u.groups {
		names = append(names, g.name)
	}
	if inherited {
		for _, g := range u.groups {
			for _, p := range g.profiles {
				if !u.inGroup(p) && !slices.Contains(names, p.name) {
					names = append(names, p.name)
				}
			}
		}
	}
	return names
}

// memberOf reports whether u is in g, directly or (unless directOnly)
// through a user group that grants the profile g.
func (u *user) memberOf(g *group, directOnly bool) bool {
	if u.inGroup(g) {
		return true
	}
	if directOnly || g.typ != typeProductProfile {
		return false
	}
	for _, ug := range u.groups {
		if slices.Contains(ug.profiles, g) {
			return true
		}
	}
	return false
}

// seed renders the org in the seed format, in a deterministic order:
// domains and groups as created, users by lower-cased email then type, and
// each user's groups by lower-cased name.
func (o *org) seed() *Seed {
	s := &Seed{OrgID: o.id, ClientID: o.clientID, ClientSecret: o.clientSecret,
		Domains: []SeedDomain{}, Groups: []SeedGroup{}, Users: []SeedUser{}}
	for _, d := range o.domains {
		s.Domains = append(s.Domains, SeedDomain{Name: d.name, Type: d.typ.String(), Trusted: d.trusted})
	}
	for _, g := range o.groups {
		sg := SeedGroup{Name: g.name, Type: g.typ, ProductName: g.productName,
			Description: g.description, ReadOnly: g.readOnly, LicenseQuota: slices.Clone(g.quota)}
		for _, p := range g.profiles {
			sg.ProductConfigurations = append(sg.ProductConfigurations, p.name)
		}
		s.Groups = append(s.Groups, sg)
	}
	users := make([]*user, 0, len(o.users))
	for _, u := range o.users {
		if u != nil {
			users = append(users, u)
		}
	}
	slices.SortFunc(users, func(a, b *user) int {
		if c := strings.Compare(lower(a.email), lower(b.email)); c != 0 {
			return c
		}
		return int(a.typ) - int(b.typ)
	})
	for _, u := range users {
		names := u.groupNames(false)
		slices.SortFunc(names, func(a, b string) int { return strings.Compare(lower(a), lower(b)) })
		s.Users = append(s.Users, SeedUser{Email: u.email, Username: u.username, Domain: u.domain,
			Type: u.typ.String(), Firstname: u.firstname, Lastname: u.lastname, Country: u.country,
			Groups: names})
	}
	return s
}

// validEmail is the server's shape check: one @, something either side,
// at most 60 characters (ErrorRef error.user.email.invalid).
func validEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	return at > 0 && at == strings.LastIndexByte(e, '@') && at < len(e)-1 && len(e) <= 60 &&
		!strings.ContainsAny(e, " \t\r\n,;<>")
}
