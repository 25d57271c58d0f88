package umapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/usersync/usersync/core"
)

// maxPages guards the sequential paging of endpoints without paging
// headers against a server that never says lastPage.
const maxPages = 100000

// wireUser is a user as the users list returns it (reference §3.6).
type wireUser struct {
	ID        string   `json:"id"`
	Email     string   `json:"email"`
	Status    string   `json:"status"`
	Username  string   `json:"username"`
	Domain    string   `json:"domain"`
	Firstname string   `json:"firstname"`
	Lastname  string   `json:"lastname"`
	Country   string   `json:"country"`
	Type      string   `json:"type"`
	Groups    []string `json:"groups"`
}

type usersPage struct {
	LastPage *bool      `json:"lastPage"`
	Result   string     `json:"result"`
	Message  string     `json:"message"`
	Users    []wireUser `json:"users"`
}

type wireGroup struct {
	GroupName   string `json:"groupName"`
	Type        string `json:"type"`
	MemberCount int    `json:"memberCount"`
	ProductName string `json:"productName"`
	ReadOnly    bool   `json:"isReadOnly"`
	// LicenseQuota is documented as a string ("50", "UNLIMITED"); a
	// number is accepted too.
	LicenseQuota json.RawMessage `json:"licenseQuota"`
}

// quotaText returns a licenseQuota as text: "50", "UNLIMITED", or "" when
// absent or of another JSON type.
func quotaText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := n.Int64(); err == nil {
			return strconv.FormatInt(i, 10)
		}
	}
	return ""
}

type groupsPage struct {
	LastPage *bool       `json:"lastPage"`
	Result   string      `json:"result"`
	Groups   []wireGroup `json:"groups"`
}

// paging are a page's paging headers; a field is -1 when absent.
type paging struct {
	total, pages, current, size int
}

func readPaging(h http.Header) paging {
	get := func(k string) int {
		v, err := strconv.Atoi(strings.TrimSpace(h.Get(k)))
		if err != nil || v < 0 {
			return -1
		}
		return v
	}
	return paging{total: get("X-Total-Count"), pages: get("X-Page-Count"), current: get("X-Current-Page"), size: get("X-Page-Size")}
}

// progress coalesces read progress to about ten reports a second.
type progress struct {
	mu    sync.Mutex
	r     core.Reporter
	clock core.Clock
	gate  core.ProgressGate
	p     core.Progress
}

func (p *progress) add(users, pages, pagesTotal int, force bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.p.Users += users
	p.p.Pages += pages
	if pagesTotal > 0 {
		p.p.PagesTotal = pagesTotal
	}
	if !p.gate.Allow(p.clock.Now(), force) {
		return
	}
	p.r.Progress(p.p)
}

// Users reads the org's users: all of them, or the direct members of each
// group in q.Groups (a group that does not exist has no members). It fails
// closed: a page that cannot be read after the retries, or that disagrees
// with the others (page count or total changing, a page short or repeated,
// a user listed twice), fails the whole read with CodeUnavailable or
// CodeInconsistent, never a partial list.
func (c *Client) Users(ctx context.Context, q core.AdobeQuery, r core.Reporter) ([]core.AdobeUser, error) {
	if r == nil {
		r = nopReporter()
	}
	prog := &progress{r: r, clock: c.clock, p: core.Progress{Phase: core.PhaseAdobe, Org: c.opts.Name}}
	org := url.PathEscape(c.opts.OrgID)
	org = strings.ReplaceAll(org, "%40", "@")
	type listing struct {
		op    string
		url   func(page int) string
		group bool
	}
	var lists []listing
	if q.All {
		lists = append(lists, listing{op: "umapi users", url: func(p int) string {
			return fmt.Sprintf("%s/users/%s/%d?directOnly=true", c.base, org, p)
		}})
	} else {
		for _, g := range q.Groups {
			eg := strings.ReplaceAll(url.PathEscape(g), "%2F", "/")
			lists = append(lists, listing{op: fmt.Sprintf("umapi users of group %q", g), group: true, url: func(p int) string {
				return fmt.Sprintf("%s/users/%s/%d/%s?directOnly=true", c.base, org, p, eg)
			}})
		}
	}
	var out []core.AdobeUser
	var seen *userSet
	for i, l := range lists {
		users, err := c.listUsers(ctx, l.op, l.url, l.group, i == 0, i == len(lists)-1, r, prog)
		if err != nil {
			return nil, err
		}
		if out == nil {
			// The first list is kept as it is (dropping any repeat in
			// place) rather than copied: it is the whole org with q.All.
			seen = newUserSet(len(users))
			out = users[:0]
		}
		for _, u := range users {
			if !seen.add(out, &u) {
				continue // a member of several of the groups asked for
			}
			out = append(out, u)
		}
	}
	prog.add(0, 0, 0, true)
	return out, nil
}

// adobeKey is adobeUserKey as a map key that needs no concatenation.
type adobeKey struct{ typ, email, username, domain string }

func keyOf(u *core.AdobeUser) adobeKey {
	return adobeKey{string(u.Type), strings.ToLower(u.Email), strings.ToLower(u.Username), strings.ToLower(u.Domain)}
}

func adobeUserKey(u core.AdobeUser) string {
	return string(u.Type) + "\x00" + strings.ToLower(u.Email) + "\x00" + strings.ToLower(u.Username) + "\x00" + strings.ToLower(u.Domain)
}

// listUsers reads every page of one user listing. Page 0 comes first; when
// its headers give the page count, the middle pages are fetched in parallel
// and the last page last, so that it can carry the sync-end signal as UST's
// does.
func (c *Client) listUsers(ctx context.Context, op string, urlFor func(int) string, group, first, final bool,
	r core.Reporter, prog *progress) ([]core.AdobeUser, error) {
	pragma0 := ""
	if first {
		pragma0 = "umapi-sync-start"
	}
	p0, h0, err := c.usersPage(ctx, op, urlFor(0), 0, pragma0, nil, r)
	if err != nil {
		if group && core.Code(err) == core.CodeNotFound {
			return nil, nil // no such group: no members (as UST reads a 404)
		}
		return nil, err
	}
	// Pages are decoded into records as they arrive, so that the wire
	// form of a big org is never held in memory all at once.
	pages := []convertedPage{p0.converted()}
	var flat *flatList
	seq := h0.pages < 0
	if !seq {
		if h0.pages == 0 {
			h0.pages = 1
		}
		if err := checkPage(op, 0, h0, h0, p0, len(p0.Users)); err != nil {
			return nil, err
		}
		flat = newFlatList(h0, len(p0.Users))
		flat.place(0, &pages[0])
		prog.add(len(p0.Users), 1, h0.pages, false)
		if h0.pages > 1 {
			pages = append(pages, make([]convertedPage, h0.pages-1)...)
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				firstErr error
			)
			sem := make(chan struct{}, c.opts.ReadConcurrency)
			fetch := func(page int, pragma string) {
				p, h, err := c.usersPage(ctx, op, urlFor(page), page, pragma, flat.slot(page), r)
				if err == nil {
					err = checkPage(op, page, h0, h, p, len(p0.Users))
				} else if core.Code(err) == core.CodeNotFound {
					err = core.Errorf(core.CodeInconsistent, op, "page %d disappeared while reading (HTTP 404)", page)
				}
				var cp convertedPage
				if err == nil {
					cp = p.converted()
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
						cancel()
					}
					return
				}
				flat.place(page, &cp)
				pages[page] = cp
				prog.add(len(cp.users), 1, 0, false)
			}
			for page := 1; page < h0.pages-1 && ctx.Err() == nil; page++ {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					fetch(page, "")
				})
			}
			wg.Wait()
			if firstErr == nil {
				pragma := ""
				if final {
					pragma = "umapi-sync-end"
				}
				fetch(h0.pages-1, pragma)
			}
			if firstErr != nil {
				if ctx.Err() != nil && core.Code(firstErr) == core.CodeUnknown {
					return nil, core.Errorf(core.CodeCanceled, op, "interrupted")
				}
				return nil, firstErr
			}
		}
	} else {
		// No paging headers: follow lastPage, one page at a time.
		prog.add(len(p0.Users), 1, 0, false)
		last := p0
		for page := 1; !(last.LastPage != nil && *last.LastPage) && len(last.Users) > 0; page++ {
			if page >= maxPages {
				return nil, core.Errorf(core.CodeInconsistent, op, "more than %d pages without a last page", maxPages)
			}
			p, h, err := c.usersPage(ctx, op, urlFor(page), page, "", nil, r)
			if err != nil {
				if core.Code(err) == core.CodeNotFound {
					err = core.Errorf(core.CodeInconsistent, op, "page %d disappeared while reading (HTTP 404)", page)
				}
				return nil, err
			}
			if h.current >= 0 && h.current != page {
				return nil, core.Errorf(core.CodeInconsistent, op, "asked for page %d, got page %d", page, h.current)
			}
			pages = append(pages, p.converted())
			prog.add(len(p.Users), 1, 0, false)
			last = p
		}
	}
	n := 0
	for _, p := range pages {
		n += len(p.users)
	}
	if h0.total >= 0 && n > h0.total {
		return nil, core.Errorf(core.CodeInconsistent, op, "read %d users but the server counts %d", n, h0.total)
	}
	seen := make(map[string]int, n)
	for pi, p := range pages {
		for i, u := range p.users {
			k := p.ids[i]
			if k == "" {
				k = adobeUserKey(u)
			}
			if prev, dup := seen[k]; dup {
				return nil, core.Errorf(core.CodeInconsistent, op, "user %s is listed on pages %d and %d: the list changed while it was read", u.Email, prev, pi)
			}
			seen[k] = pi
		}
	}
	if out, ok := flat.whole(n); ok {
		return out, nil
	}
	out := make([]core.AdobeUser, 0, n)
	for _, p := range pages {
		out = append(out, p.users...)
	}
	return out, nil
}

// convertedPage is a page of users and their server IDs ("" when absent).
type convertedPage struct {
	users []core.AdobeUser
	ids   []string
}

func convert(ws []wireUser) convertedPage {
	cp := convertedPage{users: make([]core.AdobeUser, len(ws)), ids: make([]string, len(ws))}
	for i, w := range ws {
		u := core.AdobeUser{Type: core.IdentityType(w.Type), Username: w.Username, Domain: w.Domain, Email: w.Email,
			Firstname: w.Firstname, Lastname: w.Lastname, Country: w.Country, Groups: w.Groups, Status: w.Status}
		if t, err := core.ParseIdentityType(w.Type); err == nil {
			u.Type = t
		}
		cp.users[i], cp.ids[i] = u, w.ID
	}
	return cp
}

// checkPage compares a page with page 0's figures.
func checkPage(op string, page int, h0, h paging, p *userRecords, fullSize int) error {
	bad := func(format string, args ...any) error {
		return core.Errorf(core.CodeInconsistent, op, "page %d: "+format+"; the list changed while it was read or the answer was cut short", append([]any{page}, args...)...)
	}
	pc := max(h.pages, 1)
	switch {
	case h.pages >= 0 && pc != h0.pages:
		return bad("the page count changed from %d to %d", h0.pages, pc)
	case h0.total >= 0 && h.total >= 0 && h.total != h0.total:
		return bad("the user count changed from %d to %d", h0.total, h.total)
	case h.current >= 0 && h.current != page:
		return bad("the server answered with page %d", h.current)
	case h.size >= 0 && h.size != len(p.Users):
		return bad("%d users listed but X-Page-Size says %d", len(p.Users), h.size)
	case p.LastPage != nil && *p.LastPage != (page == h0.pages-1):
		return bad("lastPage is %v on page %d of %d", *p.LastPage, page+1, h0.pages)
	case page < h0.pages-1 && page > 0 && len(p.Users) != fullSize:
		return bad("%d users where every page but the last holds %d", len(p.Users), fullSize)
	case page < h0.pages-1 && len(p.Users) == 0:
		return bad("an empty page before the last")
	}
	return nil
}

// usersPage fetches and decodes one page, retrying an answer that is not
// JSON like a dropped connection.
func (c *Client) usersPage(ctx context.Context, op, u string, page int, pragma string, into []core.AdobeUser, r core.Reporter) (*userRecords, paging, error) {
	pop := fmt.Sprintf("%s page %d", op, page)
	var p *userRecords
	rep, err := c.doDecode(ctx, call{op: pop, method: http.MethodGet, url: u, auth: true, pragma: pragma}, r, func(rep *reply) error {
		var err error
		p, err = decodeUserRecords(rep.body, readPaging(rep.header).size, into)
		if err == nil {
			recycle(rep) // the records hold copies of what they need
		}
		return err
	})
	if err != nil {
		return nil, paging{}, err
	}
	if p.Result != "success" {
		return nil, paging{}, core.Errorf(core.CodeInconsistent, pop, "result %q: %s", p.Result, p.Message)
	}
	return p, readPaging(rep.header), nil
}

// doJSON runs cl and decodes a 2xx JSON answer into v. A 2xx answer that is
// not valid JSON (a body cut short by a proxy, say) is sent again, up to
// Retries calls in all.
func (c *Client) doJSON(ctx context.Context, cl call, r core.Reporter, v any) (*reply, error) {
	return c.doDecode(ctx, cl, r, func(rep *reply) error { return json.Unmarshal(rep.body, v) })
}

// doDecode is doJSON with its own decoding.
func (c *Client) doDecode(ctx context.Context, cl call, r core.Reporter, decode func(*reply) error) (*reply, error) {
	for n := 1; ; n++ {
		rep, err := c.do(ctx, cl, r)
		if err != nil {
			return rep, err
		}
		err = decode(rep)
		if err == nil {
			return rep, nil
		}
		if n >= c.opts.Retries {
			return rep, core.Errorf(core.CodeUnavailable, cl.op, "the answer is not valid JSON after %d tries: %v", n, err)
		}
		c.log.Warn(fmt.Sprintf("UMAPI answered %s with malformed JSON (try %d of %d); sending again", cl.op, n, c.opts.Retries), "org", c.opts.Name)
	}
}

// Groups lists every user group, product profile and admin group.
func (c *Client) Groups(ctx context.Context, r core.Reporter) ([]core.AdobeGroup, error) {
	if r == nil {
		r = nopReporter()
	}
	org := strings.ReplaceAll(url.PathEscape(c.opts.OrgID), "%40", "@")
	var out []core.AdobeGroup
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page >= maxPages {
			return nil, core.Errorf(core.CodeInconsistent, "umapi groups", "more than %d pages without a last page", maxPages)
		}
		op := fmt.Sprintf("umapi groups page %d", page)
		var p groupsPage
		_, err := c.doJSON(ctx, call{op: op, method: http.MethodGet, url: fmt.Sprintf("%s/groups/%s/%d", c.base, org, page), auth: true}, r, &p)
		if err != nil {
			return nil, err
		}
		last := p.LastPage != nil && *p.LastPage
		if p.Result != "success" {
			// A page past the end may answer {"lastPage": true, "result":
			// "Not found"}; anything else is a failed read.
			if last && len(p.Groups) == 0 {
				break
			}
			return nil, core.Errorf(core.CodeInconsistent, op, "result %q", p.Result)
		}
		for _, g := range p.Groups {
			k := strings.ToLower(g.GroupName)
			if seen[k] {
				return nil, core.Errorf(core.CodeInconsistent, op, "group %q is listed twice: the list changed while it was read", g.GroupName)
			}
			seen[k] = true
			out = append(out, core.AdobeGroup{Name: g.GroupName, Type: g.Type, ProductName: g.ProductName,
				MemberCount: g.MemberCount, ReadOnly: g.ReadOnly, LicenseQuota: quotaText(g.LicenseQuota)})
		}
		r.Progress(core.Progress{Phase: core.PhaseAdobe, Org: c.opts.Name, Groups: len(out)})
		if last || len(p.Groups) == 0 {
			break
		}
	}
	return out, nil
}
