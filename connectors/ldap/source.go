package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ldapv3 "github.com/go-ldap/ldap/v3"

	"github.com/usersync/usersync/core"
)

// Source reads users and group memberships from an LDAP directory or
// Active Directory. It implements core.Source.
type Source struct {
	cfg       Config
	log       *slog.Logger
	base      *ldapv3.DN    // parsed BaseDN; nil for the root
	retryWait time.Duration // see the package variable
}

var _ core.Source = (*Source)(nil)

// New returns a Source for cfg. A nil logger discards messages.
func New(cfg Config, logger *slog.Logger) *Source {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Source{cfg: cfg, log: logger, retryWait: retryWait}
	if cfg.BaseDN != "" {
		s.base, _ = parseDN(cfg.BaseDN) // validated by ParseConfig
	}
	return s
}

// dialTimeout bounds connecting and the TLS handshake; searches are bounded
// by the caller's context instead, since a large directory legitimately
// takes minutes.
const dialTimeout = 30 * time.Second

// requestTimeout bounds one request (a bind, one page of a search).
const requestTimeout = 10 * time.Minute

// lookupWorkers is how many base-object lookups of a two-step read are in
// flight at once on the one connection.
const lookupWorkers = 8

// conn is one bound connection for the duration of a read.
type conn struct {
	*ldapv3.Conn
	stop func() bool
}

func (c *conn) close() {
	c.stop()
	c.Close()
}

// connect dials, upgrades with StartTLS if configured, and binds. The
// connection is closed when ctx ends, which aborts a search in flight.
func (s *Source) connect(ctx context.Context) (*conn, error) {
	u := s.cfg.URL
	tlsCfg := &tls.Config{
		ServerName: u.Hostname(),
		MinVersion: tls.VersionTLS12,
		RootCAs:    s.cfg.RootCAs,
		// Only an explicit require_tls_cert: false turns checking off
		// (UST never checked without require_tls_cert: true).
		InsecureSkipVerify: s.cfg.SkipVerify, //nolint:gosec // documented opt-out, warned about
	}
	if s.cfg.SkipVerify && (u.Scheme == "ldaps" || s.cfg.StartTLS) {
		s.log.Warn("require_tls_cert is false: the directory's TLS certificate is not checked", "logger", s.cfg.LoggerName, "host", u.Host)
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := &net.Dialer{}
	raw, err := d.DialContext(dctx, "tcp", u.Host)
	if err != nil {
		return nil, s.fail(ctx, "ldap connect "+u.Host, err)
	}
	isTLS := u.Scheme == "ldaps"
	if isTLS {
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, s.fail(ctx, "ldap connect "+u.Host, fmt.Errorf("TLS handshake: %w%s", err, tlsHint(err)))
		}
		raw = tc
	}
	lc := ldapv3.NewConn(raw, isTLS)
	// A backstop for a server that accepts a request and never answers;
	// a dead network is found sooner by TCP keep-alives.
	lc.SetTimeout(requestTimeout)
	lc.Start()
	c := &conn{Conn: lc}
	c.stop = context.AfterFunc(ctx, func() { lc.Close() })
	if s.cfg.StartTLS {
		if err := lc.StartTLS(tlsCfg); err != nil {
			c.close()
			return nil, s.fail(ctx, "ldap StartTLS "+u.Host, fmt.Errorf("%w%s", err, tlsHint(err)))
		}
	}
	if err := s.bind(lc); err != nil {
		c.close()
		return nil, s.fail(ctx, fmt.Sprintf("ldap %s bind as %q", s.cfg.Auth, s.cfg.Username), err)
	}
	return c, nil
}

func tlsHint(err error) string {
	var uerr x509.UnknownAuthorityError
	switch {
	case errors.As(err, &uerr) || strings.Contains(err.Error(), "certificate signed by unknown authority"):
		return " (set ca_cert_file to the CA that signed the directory's certificate, or, at your own risk, require_tls_cert: false)"
	case strings.Contains(err.Error(), "certificate is valid for"):
		return " (host must be a name the server's certificate is valid for)"
	}
	return ""
}

func (s *Source) bind(lc *ldapv3.Conn) error {
	switch s.cfg.Auth {
	case AuthAnonymous:
		return nil // LDAPv3 treats an unbound connection as anonymous
	case AuthNTLM:
		// The domain goes into the negotiate message; the whole
		// DOMAIN\user goes to go-ntlmssp, which puts its domain into the
		// authenticate message (given only "user", it would send no domain).
		domain, _ := splitNTLMUser(s.cfg.Username)
		pw := string(s.cfg.Password)
		if lmntHash.MatchString(pw) {
			// UST (ldap3) accepts "LMHASH:NTHASH" in place of a password.
			return lc.NTLMBindWithHash(domain, s.cfg.Username, pw[strings.LastIndexByte(pw, ':')+1:])
		}
		return lc.NTLMBind(domain, s.cfg.Username, pw)
	default:
		return lc.Bind(s.cfg.Username, string(s.cfg.Password))
	}
}

// splitNTLMUser splits DOMAIN\user; user@domain is passed whole, with an
// empty domain, which NTLM servers accept.
func splitNTLMUser(u string) (domain, user string) {
	if i := strings.IndexByte(u, '\\'); i >= 0 {
		return u[:i], u[i+1:]
	}
	return "", u
}

// fail turns a driver error into a core.Error with a code and, where the
// cause is common, a hint. The password is never part of err.
func (s *Source) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return &core.Error{Code: core.CodeCanceled, Op: op, Err: fmt.Errorf("interrupted: %w", context.Cause(ctx))}
	}
	code := core.CodeUnavailable
	hint := ""
	var le *ldapv3.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldapv3.LDAPResultInvalidCredentials, ldapv3.LDAPResultInappropriateAuthentication:
			code = core.CodeUnauthenticated
			hint = " (check username and password)"
		case ldapv3.LDAPResultInsufficientAccessRights:
			code = core.CodePermissionDenied
		case ldapv3.LDAPResultStrongAuthRequired, ldapv3.LDAPResultConfidentialityRequired:
			code = core.CodePermissionDenied
			hint = " (the server requires an encrypted connection: use ldaps:// or set require_tls_cert or start_tls)"
		case ldapv3.LDAPResultAuthMethodNotSupported:
			code = core.CodeInvalidInput
			hint = " (the server does not offer this authentication_method)"
		case ldapv3.LDAPResultSizeLimitExceeded, ldapv3.LDAPResultTimeLimitExceeded, ldapv3.LDAPResultAdminLimitExceeded:
			code = core.CodeInconsistent
			hint = " (the server stopped the search early; nothing was read: set search_page_size below the server's limit, e.g. 1000 for Active Directory's MaxPageSize)"
		case ldapv3.LDAPResultNoSuchObject:
			code = core.CodeNotFound
			hint = " (check base_dn)"
		case ldapv3.LDAPResultReferral:
			code = core.CodeInvalidInput
			hint = " (the server holds no data under base_dn and referred the search elsewhere: check base_dn, or point host at the server that holds it, or at a global catalog)"
		case ldapv3.LDAPResultFilterError, ldapv3.LDAPResultInvalidDNSyntax, ldapv3.LDAPResultUndefinedAttributeType,
			ldapv3.LDAPResultInappropriateMatching, ldapv3.LDAPResultProtocolError:
			code = core.CodeInvalidInput
		case ldapv3.LDAPResultUnwillingToPerform:
			code = core.CodePermissionDenied
		}
	}
	return &core.Error{Code: code, Op: op, Err: fmt.Errorf("%w%s", err, hint)}
}

// reader reads over one connection. The readers that follow referrals to
// other servers share the readState of the reader that started the read.
type reader struct {
	*readState
	s     *Source
	c     *conn
	depth int // referral hops from the configured host
}

// readState is the state of one Users call.
type readState struct {
	q    core.SourceQuery
	r    core.Reporter
	attr []string // attributes requested for users

	mu      sync.Mutex
	byDN    map[string]*core.DirectoryUser
	skipped map[string]bool
	entries int
	pages   int
	groups  int
	gate    core.ProgressGate

	referralsLogged bool
}

// Users reads the directory as q asks (UST §3.4.1, §8.1). Any failed,
// limited or interrupted search is an error; no partial list is returned.
func (s *Source) Users(ctx context.Context, q core.SourceQuery, r core.Reporter) (core.DirectoryResult, error) {
	if r == nil {
		r = core.NopReporter{}
	}
	if q.WantMemberGroups && s.cfg.DynamicMemberAttribute == "" {
		return core.DirectoryResult{}, core.Errorf(core.CodeInvalidInput, s.cfg.File,
			"additional_groups rules need dynamic_group_member_attribute (for example memberOf) in the LDAP connector configuration")
	}
	for attempt := 1; ; attempt++ {
		c, err := s.connect(ctx)
		if err != nil {
			return core.DirectoryResult{}, err
		}
		rd := &reader{s: s, c: c, readState: &readState{q: q, r: r, attr: s.userAttributes(q),
			byDN: map[string]*core.DirectoryUser{}, skipped: map[string]bool{}}}
		res, err := rd.read(ctx)
		c.close()
		if err == nil {
			rd.progress(true)
			return res, nil
		}
		if attempt >= readAttempts || ctx.Err() != nil || !connectionLost(err) {
			return core.DirectoryResult{}, err
		}
		// Long reads outlive idle timeouts and load balancers (UST issue
		// #782). Nothing read so far is kept: the read starts over on a
		// new connection, so the result is still one consistent read.
		s.log.Warn("connection to the directory lost; reading again from the start",
			"logger", s.cfg.LoggerName, "entries_read", rd.entries, "error", err)
		select {
		case <-ctx.Done():
			return core.DirectoryResult{}, s.fail(ctx, "ldap read", ctx.Err())
		case <-time.After(s.retryWait):
		}
	}
}

// retryWait is the pause before reading again after a lost connection.
// It is a variable so that tests can shorten it.
var retryWait = 5 * time.Second

// readAttempts is how many times a read is started when the connection
// drops during it.
const readAttempts = 2

// connectionLost reports whether err means the connection broke (or the
// server said it is unavailable) rather than that the server refused
// something: fail gives everything it does not recognise as a refusal
// the code Unavailable.
func connectionLost(err error) bool {
	return core.Code(err) == core.CodeUnavailable
}

func (rd *reader) read(ctx context.Context) (core.DirectoryResult, error) {
	s := rd.s
	var res core.DirectoryResult
	if err := rd.checkInChainRule(ctx); err != nil {
		return res, err
	}
	if rd.q.AllUsers {
		err := rd.search(ctx, "ldap search all users", s.cfg.BaseDN, ldapv3.ScopeWholeSubtree,
			wrapFilter(s.cfg.AllUsersFilter), rd.attr, func(e *ldapv3.Entry) error {
				rd.add(e, "")
				return nil
			})
		if err != nil {
			return res, err
		}
		if len(rd.byDN) == 0 {
			// The default filter is Active Directory's; on other servers it
			// matches nothing.
			s.log.Warn("all_users_filter matched no users", "logger", s.cfg.LoggerName, "filter", s.cfg.AllUsersFilter, "base_dn", s.cfg.BaseDN)
		}
	}
	seen := map[string]bool{}
	for _, g := range rd.q.Groups {
		if seen[g] {
			continue
		}
		seen[g] = true
		found, err := rd.readGroup(ctx, g)
		if err != nil {
			return res, err
		}
		if !found {
			s.log.Warn("no group found in the directory", "logger", s.cfg.LoggerName, "group", g)
			res.MissingGroups = append(res.MissingGroups, g)
		}
		rd.mu.Lock()
		rd.groups++
		rd.mu.Unlock()
		rd.progress(false)
	}
	keys := make([]string, 0, len(rd.byDN))
	for k := range rd.byDN {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	res.Users = make([]core.DirectoryUser, 0, len(keys))
	for _, k := range keys {
		res.Users = append(res.Users, *rd.byDN[k])
	}
	return res, nil
}

// The matching rule Active Directory evaluates through nested groups, and
// the root DSE capabilities of servers that have it (Active Directory,
// AD LDS, and Samba's AD, which advertises the first).
const inChainRule = "1.2.840.113556.1.4.1941"

var adCapabilities = []string{"1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1851"}

// checkInChainRule refuses filters that use Active Directory's in-chain
// matching rule on a server that is not Active Directory: OpenLDAP, for
// one, answers such a filter with no entries and no error, so every group
// would silently look empty.
func (rd *reader) checkInChainRule(ctx context.Context) error {
	s := rd.s
	key := ""
	switch {
	case len(rd.q.Groups) > 0 && s.cfg.TwoSteps == nil && strings.Contains(s.cfg.GroupMemberFilterFormat, inChainRule):
		key = "group_member_filter_format"
	case strings.Contains(s.cfg.AllUsersFilter, inChainRule):
		key = "all_users_filter"
	case len(rd.q.Groups) > 0 && strings.Contains(s.cfg.GroupFilterFormat, inChainRule):
		key = "group_filter_format"
	default:
		return nil
	}
	res, err := rd.c.Search(ldapv3.NewSearchRequest("", ldapv3.ScopeBaseObject, ldapv3.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"supportedCapabilities"}, nil))
	if err != nil || len(res.Entries) == 0 {
		if ctx.Err() != nil {
			return s.fail(ctx, "ldap read root DSE", ctx.Err())
		}
		s.log.Warn("cannot tell whether the server supports Active Directory's in-chain matching rule (the root DSE is not readable)",
			"logger", s.cfg.LoggerName, "key", key)
		return nil
	}
	for _, c := range res.Entries[0].GetEqualFoldAttributeValues("supportedCapabilities") {
		if contains(adCapabilities, c) {
			return nil
		}
	}
	return core.Errorf(core.CodeInvalidInput, s.cfg.File,
		"%s uses Active Directory's in-chain matching rule (%s), which this server does not support (it is not Active Directory): it would match nothing; for nested groups use two_steps_lookup with nested_group: true instead",
		key, inChainRule)
}

// readGroup finds group name's entry and attaches the group to each member.
func (rd *reader) readGroup(ctx context.Context, name string) (bool, error) {
	s := rd.s
	filter := wrapFilter(strings.ReplaceAll(s.cfg.GroupFilterFormat, "{group}", escapeValue(name)))
	attrs := []string{"1.1"} // no attributes: only the DN is needed
	if s.cfg.TwoSteps != nil {
		attrs = []string{s.cfg.TwoSteps.MemberAttribute}
	}
	var found []*ldapv3.Entry
	op := fmt.Sprintf("ldap search group %q", name)
	err := rd.search(ctx, op, s.cfg.BaseDN, ldapv3.ScopeWholeSubtree, filter, attrs, func(e *ldapv3.Entry) error {
		found = append(found, e)
		return nil
	})
	if err != nil {
		return false, err
	}
	switch len(found) {
	case 0:
		return false, nil
	case 1:
	default:
		dns := make([]string, len(found))
		for i, e := range found {
			dns[i] = e.DN
		}
		return false, core.Errorf(core.CodeInvalidInput, op,
			"%d entries match %s: %s (make group_filter_format select exactly one)", len(found), filter, strings.Join(dns, "; "))
	}
	g := found[0]
	if s.cfg.TwoSteps != nil {
		return true, rd.readMembersTwoSteps(ctx, name, g)
	}
	mf := strings.NewReplacer("{group_dn}", escapeValue(g.DN), "{group}", escapeValue(name)).Replace(s.cfg.GroupMemberFilterFormat)
	filter = "(&" + wrapFilter(mf) + wrapFilter(s.cfg.AllUsersFilter) + ")"
	attrs = rd.attr
	if rd.q.AllUsers {
		// Every member matches all_users_filter, so it was read already:
		// only the DNs are needed, which halves what --users all transfers.
		attrs = []string{"1.1"}
	}
	members := 0
	err = rd.search(ctx, fmt.Sprintf("ldap search members of %q", name), s.cfg.BaseDN, ldapv3.ScopeWholeSubtree,
		filter, attrs, func(e *ldapv3.Entry) error {
			members++
			if rd.q.AllUsers {
				rd.attach(e.DN, name)
			} else {
				rd.add(e, name)
			}
			return nil
		})
	if err == nil && members == 0 {
		// Often a filter the server cannot evaluate rather than an empty
		// group: say which filter found nothing.
		s.log.Warn("group has no members matching the member filter", "logger", s.cfg.LoggerName,
			"group", name, "dn", g.DN, "filter", filter)
	}
	return true, err
}

// attach records that the already-read user dn is in group. A DN not read
// by the all-users search (an entry added since, or one skipped) is left
// out, as it would be had it been read a moment later.
func (rd *reader) attach(dn, group string) bool {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	u := rd.byDN[strings.ToLower(dn)]
	if u == nil {
		return false
	}
	if !contains(u.Groups, group) {
		u.Groups = append(u.Groups, group)
	}
	return true
}

// readMembersTwoSteps reads the member DNs of group g from its member
// attribute and looks each up as a user; with nested_group, member DNs that
// are not users are read as groups in turn. Each group is entered once, so
// cycles end. A member value that is not a DN (a posixGroup's memberUid)
// is looked up as a uid.
func (rd *reader) readMembersTwoSteps(ctx context.Context, name string, g *ldapv3.Entry) error {
	s := rd.s
	memberAttr := s.cfg.TwoSteps.MemberAttribute
	type ref struct {
		value string
		uid   bool
	}
	visited := map[string]bool{strings.ToLower(g.DN): true}
	queued := map[string]bool{}
	var next []ref
	enqueue := func(values []string) {
		for _, v := range values {
			k := strings.ToLower(v)
			if queued[k] {
				continue
			}
			queued[k] = true
			if _, err := parseDN(v); err != nil || !strings.Contains(v, "=") {
				next = append(next, ref{value: v, uid: true})
				continue
			}
			if !rd.s.inBase(v) {
				s.log.Debug("member outside base_dn ignored", "logger", s.cfg.LoggerName, "group", name, "dn", v)
				continue
			}
			next = append(next, ref{value: v})
		}
	}
	enqueue(g.GetEqualFoldAttributeValues(memberAttr))
	userFilter := wrapFilter(s.cfg.AllUsersFilter)
	for len(next) > 0 {
		level := next
		next = nil
		type found struct {
			user    *ldapv3.Entry
			members []string
			group   bool
		}
		results := make([]found, len(level))
		err := parallel(ctx, len(level), lookupWorkers, func(i int) error {
			m := level[i]
			if m.uid {
				u, err := rd.lookupUID(ctx, name, m.value, userFilter)
				results[i].user = u
				return err
			}
			if rd.q.AllUsers && rd.attach(m.value, name) {
				return nil // read by the all-users search
			}
			u, err := rd.lookup(ctx, m.value, userFilter, rd.attr)
			if err != nil {
				return err
			}
			if u != nil {
				results[i].user = u
				return nil
			}
			if !s.cfg.TwoSteps.Nested {
				return nil
			}
			e, err := rd.lookup(ctx, m.value, "(objectClass=*)", []string{memberAttr})
			if err != nil || e == nil {
				return err
			}
			results[i].members = e.GetEqualFoldAttributeValues(memberAttr)
			results[i].group = true
			return nil
		})
		if err != nil {
			return err
		}
		for i, f := range results {
			switch {
			case f.user != nil:
				rd.add(f.user, name)
			case f.group:
				k := strings.ToLower(level[i].value)
				if !visited[k] {
					visited[k] = true
					enqueue(f.members)
				}
			}
		}
		rd.progress(false)
	}
	return nil
}

// lookupUID finds the user whose uid is uid, for member attributes that
// hold user names rather than DNs (posixGroup's memberUid). No match is a
// warning; more than one is an error.
func (rd *reader) lookupUID(ctx context.Context, group, uid, userFilter string) (*ldapv3.Entry, error) {
	var out []*ldapv3.Entry
	op := fmt.Sprintf("ldap search uid %q (member of %q)", uid, group)
	filter := "(&(uid=" + escapeValue(uid) + ")" + userFilter + ")"
	// Unpaged: lookups run in parallel on one connection, where OpenLDAP
	// allows one paged search at a time, and expect one entry.
	err := rd.searchOnce(ctx, op, rd.s.cfg.BaseDN, ldapv3.ScopeWholeSubtree, filter, rd.attr, func(e *ldapv3.Entry) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch len(out) {
	case 0:
		rd.s.log.Warn("no user has this uid", "logger", rd.s.cfg.LoggerName, "group", group, "uid", uid)
		return nil, nil
	case 1:
		return out[0], nil
	}
	return nil, core.Errorf(core.CodeInconsistent, op, "%d users have this uid", len(out))
}

// lookup reads one entry by DN with a base-object search. A DN that does
// not exist (a dangling member reference) or does not match filter gives
// nil; more than one entry is an error.
func (rd *reader) lookup(ctx context.Context, dn, filter string, attrs []string) (*ldapv3.Entry, error) {
	var out []*ldapv3.Entry
	op := fmt.Sprintf("ldap read %q", dn)
	err := rd.searchOnce(ctx, op, dn, ldapv3.ScopeBaseObject, filter, attrs, func(e *ldapv3.Entry) error {
		out = append(out, e)
		return nil
	})
	if core.Code(err) == core.CodeNotFound {
		rd.s.log.Warn("member entry does not exist", "logger", rd.s.cfg.LoggerName, "dn", dn)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	switch len(out) {
	case 0:
		return nil, nil
	case 1:
		return out[0], nil
	}
	return nil, core.Errorf(core.CodeInconsistent, op, "a base-object read returned %d entries", len(out))
}

// search runs a subtree search, paged when search_page_size is set, and
// calls each for every entry, page by page, so a large directory is never
// held twice in memory.
func (rd *reader) search(ctx context.Context, op, base string, scope int, filter string, attrs []string, each func(*ldapv3.Entry) error) error {
	size := rd.s.cfg.SearchPageSize
	if size == 0 {
		return rd.searchOnce(ctx, op, base, scope, filter, attrs, each)
	}
	paging := ldapv3.NewControlPaging(uint32(size))
	req := ldapv3.NewSearchRequest(base, scope, ldapv3.NeverDerefAliases, 0, 0, false, filter, attrs, []ldapv3.Control{paging})
	for page := 1; ; page++ {
		res, err := rd.c.Search(req)
		if err != nil {
			return rd.s.fail(ctx, fmt.Sprintf("%s (page %d)", op, page), err)
		}
		if err := rd.page(ctx, op, req, res, each); err != nil {
			return err
		}
		ctl := ldapv3.FindControl(res.Controls, ldapv3.ControlTypePaging)
		if ctl == nil {
			return nil // the server ignored the (non-critical) paging control and sent everything
		}
		pc, ok := ctl.(*ldapv3.ControlPaging)
		if !ok || len(pc.Cookie) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return rd.s.fail(ctx, op, err)
		}
		paging.SetCookie(pc.Cookie)
	}
}

func (rd *reader) searchOnce(ctx context.Context, op, base string, scope int, filter string, attrs []string, each func(*ldapv3.Entry) error) error {
	req := ldapv3.NewSearchRequest(base, scope, ldapv3.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
	res, err := rd.c.Search(req)
	if err != nil {
		return rd.s.fail(ctx, op, err)
	}
	return rd.page(ctx, op, req, res, each)
}

// page handles one search response: range completion, entries, then the
// continuation references.
func (rd *reader) page(ctx context.Context, op string, req *ldapv3.SearchRequest, res *ldapv3.SearchResult, each func(*ldapv3.Entry) error) error {
	for _, e := range res.Entries {
		if err := rd.completeRanges(ctx, e); err != nil {
			return err
		}
		if err := each(e); err != nil {
			return err
		}
	}
	rd.mu.Lock()
	rd.entries += len(res.Entries)
	rd.pages++
	rd.mu.Unlock()
	rd.progress(false)
	return rd.references(ctx, op, req, res.Referrals, each)
}

// maxReferralHops bounds chains of referrals (and loops between servers).
const maxReferralHops = 4

// references deals with search continuation references as the referrals
// setting says. References to Active Directory's DNS and configuration
// partitions, which every search from a domain root returns and which
// hold no users, are always skipped.
func (rd *reader) references(ctx context.Context, op string, req *ldapv3.SearchRequest, refs []string, each func(*ldapv3.Entry) error) error {
	var other []string
	for _, ref := range refs {
		if adPartition(ref) {
			rd.s.log.Debug("reference to an Active Directory partition skipped", "logger", rd.s.cfg.LoggerName, "referral", ref)
			continue
		}
		other = append(other, ref)
	}
	if len(other) == 0 {
		return nil
	}
	switch rd.s.cfg.Referrals {
	case ReferralsFail:
		return core.Errorf(core.CodeInconsistent, op,
			"the server says part of base_dn is held by %s; nothing was read. Point host at a global catalog (port 3268) to read a whole forest, set referrals: follow to read it there with the same credentials, or referrals: ignore to leave it out",
			strings.Join(other, ", "))
	case ReferralsIgnore:
		// The same references come back with every search; say so once.
		rd.mu.Lock()
		first := !rd.referralsLogged
		rd.referralsLogged = true
		rd.mu.Unlock()
		level := slog.LevelDebug
		if first {
			level = slog.LevelInfo
		}
		rd.s.log.Log(ctx, level, "search continuation references not followed (referrals: ignore)",
			"logger", rd.s.cfg.LoggerName, "op", op, "referrals", other)
		return nil
	}
	for _, ref := range other {
		if err := rd.follow(ctx, op, req, ref, each); err != nil {
			return err
		}
	}
	return nil
}

// follow runs req's search again where ref points, with the same
// credentials and TLS settings, on a connection of its own. A configured
// ldaps:// host is never downgraded: the referred server is then reached
// with ldaps:// too.
func (rd *reader) follow(ctx context.Context, op string, req *ldapv3.SearchRequest, ref string, each func(*ldapv3.Entry) error) error {
	op = fmt.Sprintf("%s, referred to %s", op, ref)
	if rd.depth >= maxReferralHops {
		return core.Errorf(core.CodeInconsistent, op, "more than %d referrals in a row (a loop between servers?)", maxReferralHops)
	}
	u, dn, err := parseReferral(ref, rd.s.cfg.URL.Scheme)
	if err != nil {
		return core.Errorf(core.CodeInconsistent, op, "cannot follow: %v", err)
	}
	if dn == "" {
		dn = req.BaseDN
	}
	referred := *rd.s
	referred.cfg.URL = u
	if u.Scheme == "ldaps" {
		referred.cfg.StartTLS = false
	}
	c, err := referred.connect(ctx)
	if err != nil {
		return &core.Error{Code: core.Code(err), Op: op, Err: err}
	}
	defer c.close()
	sub := &reader{readState: rd.readState, s: &referred, c: c, depth: rd.depth + 1}
	if req.Scope == ldapv3.ScopeBaseObject {
		return sub.searchOnce(ctx, op, dn, req.Scope, req.Filter, req.Attributes, each)
	}
	return sub.search(ctx, op, dn, req.Scope, req.Filter, req.Attributes, each)
}

// parseReferral splits an LDAP URL (ldap://host[:port]/DN[?...]) into
// the server to connect to and the DN to search. With scheme "ldaps" a
// plain ldap:// referral is upgraded to ldaps:// on port 636.
func parseReferral(ref, scheme string) (*url.URL, string, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return nil, "", err
	}
	dn := strings.TrimPrefix(u.Path, "/")
	if scheme == "ldaps" && strings.EqualFold(u.Scheme, "ldap") {
		u.Scheme, u.Host = "ldaps", u.Hostname()
	}
	target, err := parseHost(u.Scheme + "://" + u.Host)
	if err != nil {
		return nil, "", err
	}
	return target, dn, nil
}

// adPartition reports whether ref points at one of Active Directory's
// DNS or configuration partitions.
func adPartition(ref string) bool {
	u, err := url.Parse(ref)
	if err != nil {
		return false
	}
	dn := strings.ToLower(strings.TrimPrefix(u.Path, "/"))
	for _, p := range []string{"dc=domaindnszones,", "dc=forestdnszones,", "cn=configuration,", "cn=schema,cn=configuration,"} {
		if strings.HasPrefix(dn, p) {
			return true
		}
	}
	return false
}

// completeRanges reads the rest of every attribute Active Directory sent
// in part ("member;range=0-1499"): it asks for "member;range=1500-*" and
// so on until the server marks the last part with "*", then stores the
// values under the plain name. UST skipped this and saw large groups as
// empty (its issue #423).
func (rd *reader) completeRanges(ctx context.Context, e *ldapv3.Entry) error {
	var kept []*ldapv3.EntryAttribute
	ranged := map[string]*ldapv3.EntryAttribute{}
	for _, a := range e.Attributes {
		name, _, hi, ok := parseRange(a.Name)
		if !ok {
			kept = append(kept, a)
			continue
		}
		full := &ldapv3.EntryAttribute{Name: name, Values: append([]string(nil), a.Values...),
			ByteValues: append([][]byte(nil), a.ByteValues...)}
		for hi >= 0 {
			from := hi + 1
			want := fmt.Sprintf("%s;range=%d-*", name, from)
			op := fmt.Sprintf("ldap read %s of %q from value %d", name, e.DN, from)
			// A direct search: the reply is itself ranged and must not be
			// completed again by page.
			res, err := rd.c.Search(ldapv3.NewSearchRequest(e.DN, ldapv3.ScopeBaseObject, ldapv3.NeverDerefAliases,
				0, 0, false, "(objectClass=*)", []string{want}, nil))
			if err != nil {
				return rd.s.fail(ctx, op, err)
			}
			var part *ldapv3.EntryAttribute
			for _, x := range res.Entries {
				for _, xa := range x.Attributes {
					if n, lo, _, ok := parseRange(xa.Name); ok && strings.EqualFold(n, name) && lo == from {
						part = xa
					}
				}
			}
			if part == nil {
				return core.Errorf(core.CodeInconsistent, op, "the server did not return the rest of the ranged attribute (the entry may have changed during the read)")
			}
			_, _, hi, _ = parseRange(part.Name)
			if hi >= 0 && hi < from {
				return core.Errorf(core.CodeInconsistent, op, "the server returned a range ending before it starts (%s)", part.Name)
			}
			full.Values = append(full.Values, part.Values...)
			full.ByteValues = append(full.ByteValues, part.ByteValues...)
		}
		ranged[strings.ToLower(name)] = full
	}
	if len(ranged) == 0 {
		return nil
	}
	// Active Directory may also send the plain name with no values; the
	// completed attribute replaces it.
	out := kept[:0]
	for _, a := range kept {
		if _, ok := ranged[strings.ToLower(a.Name)]; !ok {
			out = append(out, a)
		}
	}
	for _, a := range ranged {
		out = append(out, a)
	}
	e.Attributes = out
	return nil
}

// parseRange splits "member;range=1500-2999" into member, 1500, 2999; an
// open end ("*") gives hi -1.
func parseRange(attr string) (name string, lo, hi int, ok bool) {
	i := strings.Index(strings.ToLower(attr), ";range=")
	if i < 0 {
		return "", 0, 0, false
	}
	lohi := attr[i+len(";range="):]
	if j := strings.IndexByte(lohi, ';'); j >= 0 {
		lohi = lohi[:j]
	}
	a, b, found := strings.Cut(lohi, "-")
	if !found {
		return "", 0, 0, false
	}
	lo, err := strconv.Atoi(a)
	if err != nil {
		return "", 0, 0, false
	}
	hi = -1
	if b != "*" {
		if hi, err = strconv.Atoi(b); err != nil {
			return "", 0, 0, false
		}
	}
	return attr[:i], lo, hi, true
}

// add converts entry e and records its membership of group (if any).
func (rd *reader) add(e *ldapv3.Entry, group string) {
	k := strings.ToLower(e.DN)
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.skipped[k] {
		return
	}
	u := rd.byDN[k]
	if u == nil {
		cu, ok := rd.s.convert(e, rd.q)
		if !ok {
			rd.skipped[k] = true
			return
		}
		u = &cu
		rd.byDN[k] = u
	}
	if group != "" && !contains(u.Groups, group) {
		u.Groups = append(u.Groups, group)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// progress reports what has been read, at most about ten times a second
// unless final.
func (rd *reader) progress(final bool) {
	rd.mu.Lock()
	if !rd.gate.Allow(time.Now(), final) {
		rd.mu.Unlock()
		return
	}
	p := core.Progress{Phase: core.PhaseDirectory, Users: rd.entries, Groups: rd.groups, Pages: rd.pages, Done: final,
		Message: fmt.Sprintf("%d directory entries read", rd.entries)}
	rd.mu.Unlock()
	rd.r.Progress(p)
}

// userAttributes lists the attributes to request for users: those the
// formats read, the extension's extended attributes, and the dynamic
// membership attribute when additional-group rules need it.
func (s *Source) userAttributes(q core.SourceQuery) []string {
	var out []string
	seen := map[string]bool{}
	add := func(names ...string) {
		for _, n := range names {
			if n != "" && !seen[strings.ToLower(n)] {
				seen[strings.ToLower(n)] = true
				out = append(out, n)
			}
		}
	}
	for _, f := range []*Format{s.cfg.EmailFmt, s.cfg.IdentityTypeFmt, s.cfg.UsernameFmt, s.cfg.DomainFmt,
		s.cfg.GivenNameFmt, s.cfg.SurnameFmt, s.cfg.CountryFmt} {
		add(f.Attrs()...)
	}
	add(q.ExtendedAttributes...)
	if q.WantMemberGroups {
		add(s.cfg.DynamicMemberAttribute)
	}
	if len(out) == 0 {
		out = []string{"1.1"}
	}
	return out
}

// convert builds a DirectoryUser from an entry (UST §8.1). ok is false,
// with a warning logged, when the entry cannot be a user.
func (s *Source) convert(e *ldapv3.Entry, q core.SourceQuery) (core.DirectoryUser, bool) {
	first := func(attr string) string {
		v := e.GetEqualFoldAttributeValues(attr)
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	warn := func(msg string, args ...any) {
		s.log.Warn(msg, append([]any{"logger", s.cfg.LoggerName, "dn", e.DN}, args...)...)
	}
	u := core.DirectoryUser{Origin: e.DN}
	email, ok, missing := s.cfg.EmailFmt.Eval(first)
	email = strings.TrimSpace(email)
	if !ok || email == "" {
		warn("skipping user with no email", "attribute", missing)
		return u, false
	}
	u.Email = email
	u.Type = s.cfg.UserIdentityType
	if t, ok, _ := s.cfg.IdentityTypeFmt.Eval(first); ok && strings.TrimSpace(t) != "" {
		it, err := core.ParseIdentityType(t)
		if err != nil {
			warn("skipping user with an invalid identity type", "value", t)
			return u, false
		}
		u.Type = it
	}
	username, ok, missing := s.cfg.UsernameFmt.Eval(first)
	username = strings.TrimSpace(username)
	if !ok || username == "" {
		if s.cfg.UsernameFmt != nil {
			warn("no username; using the email", "attribute", missing, "email", email)
		}
		username = email
	}
	u.Username = username
	if d, ok, _ := s.cfg.DomainFmt.Eval(first); ok && strings.TrimSpace(d) != "" {
		u.Domain = strings.TrimSpace(d)
	} else if s.cfg.UsernameFmt == nil || !strings.EqualFold(username, email) {
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			u.Domain = email[at+1:]
		}
	}
	u.Firstname, _, _ = s.cfg.GivenNameFmt.Eval(first)
	u.Lastname, _, _ = s.cfg.SurnameFmt.Eval(first)
	country, _, _ := s.cfg.CountryFmt.Eval(first)
	u.Country = strings.ToUpper(strings.TrimSpace(country))

	attrs := map[string]any{
		"email": u.Email, "username": u.Username,
		"identity_type": nilIfEmpty(string(u.Type)), "domain": nilIfEmpty(u.Domain),
		"givenName": nilIfEmpty(u.Firstname), "sn": nilIfEmpty(u.Lastname), "c": nilIfEmpty(u.Country),
	}
	for _, a := range q.ExtendedAttributes {
		switch v := e.GetEqualFoldAttributeValues(a); len(v) {
		case 0:
			attrs[a] = nil
		case 1:
			attrs[a] = v[0]
		default:
			attrs[a] = append([]string(nil), v...)
		}
	}
	u.Attributes = attrs
	if q.WantMemberGroups {
		for _, dn := range e.GetEqualFoldAttributeValues(s.cfg.DynamicMemberAttribute) {
			if cn := cnOf(dn); cn != "" && !contains(u.MemberGroups, cn) {
				u.MemberGroups = append(u.MemberGroups, cn)
			}
		}
	}
	return u, true
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// cnOf returns the value of the first CN in dn's first RDN, or "".
func cnOf(dn string) string {
	d, err := parseDN(dn)
	if err != nil || len(d.RDNs) == 0 {
		return ""
	}
	for _, a := range d.RDNs[0].Attributes {
		if strings.EqualFold(a.Type, "cn") {
			return a.Value
		}
	}
	return ""
}

func (s *Source) inBase(dn string) bool {
	if s.base == nil {
		return true
	}
	d, err := parseDN(dn)
	if err != nil {
		return false
	}
	return s.base.EqualFold(d) || s.base.AncestorOfFold(d)
}

func parseDN(dn string) (*ldapv3.DN, error) { return ldapv3.ParseDN(dn) }

// wrapFilter adds the outer parentheses UST adds when a filter lacks them.
func wrapFilter(f string) string {
	f = strings.TrimSpace(f)
	if strings.HasPrefix(f, "(") {
		return f
	}
	return "(" + f + ")"
}

func checkFilter(f string) error {
	_, err := ldapv3.CompileFilter(f)
	return err
}

// escapeValue escapes a value for a filter: go-ldap's RFC 4515 escaping,
// plus the characters UST also escapes, which are harmless as hex escapes
// and keep a group name from changing the filter's structure.
func escapeValue(v string) string {
	v = ldapv3.EscapeFilter(v)
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '&', '|', '<', '>', '~', '!', ':':
			fmt.Fprintf(&b, `\%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// parallel runs fn(0..n-1) with at most workers at once and returns the
// first error; after an error no new calls start.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	idx := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		idx <- i
	}
	close(idx)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = &core.Error{Code: core.CodeCanceled, Op: "ldap read", Err: ctx.Err()}
	}
	return first
}

var _ core.UserLookup = (*Source)(nil)

// LookupUser finds one user by email or username among the users
// all_users_filter selects under base_dn, with its memberships of the
// requested groups, whether or not those make it selected. It reads the
// users as --users all does (one subtree search); where names the server,
// base and filter searched.
func (s *Source) LookupUser(ctx context.Context, query string, q core.SourceQuery) (*core.DirectoryUser, string, error) {
	host := ""
	if s.cfg.URL != nil {
		host = s.cfg.URL.String()
	}
	where := fmt.Sprintf("LDAP %s, base %q, filter %q", host, s.cfg.BaseDN, s.cfg.AllUsersFilter)
	q.AllUsers = true
	res, err := s.Users(ctx, q, core.NopReporter{})
	if err != nil {
		return nil, where, err
	}
	want := strings.ToLower(strings.TrimSpace(query))
	for i := range res.Users {
		u := &res.Users[i]
		if strings.ToLower(u.Email) == want || strings.ToLower(u.Username) == want {
			return u, where, nil
		}
	}
	return nil, where, nil
}
