package umapi

import (
	"bytes"
	"encoding/json"
	"hash/maphash"
	"unicode/utf8"

	"github.com/usersync/usersync/core"
)

// A users page is decoded straight into core.AdobeUser records by a small
// scanner for the shape UMAPI sends, instead of into wireUser values that
// are then converted: a million-user org is 500 pages of 2,000 users, and
// the generic decoder's reflection, per-field strings and intermediate
// copies were most of the read's cost. Values that repeat across users
// (identity type, status, domain, country, group names) are interned per
// page, a username equal to the email shares its string, and a page's
// group lists share one backing array.
//
// The scanner accepts only input it decodes exactly as encoding/json
// would into usersPage and convert; anything else (a key in another case,
// a value of an unexpected type, a null user, a repeated users list,
// malformed JSON) makes it give up, and the page is decoded by
// encoding/json as before, with the same result or the same error.

// userRecords is a decoded users page.
type userRecords struct {
	LastPage *bool
	Result   string
	Message  string
	Users    []core.AdobeUser
	ids      []string // server IDs, "" when absent
}

// decodeUserRecords decodes a users page; sizeHint is the expected number
// of users (the X-Page-Size header), or less than 1 when unknown. When into
// is not nil the users are decoded into its capacity as far as it goes.
func decodeUserRecords(data []byte, sizeHint int, into []core.AdobeUser) (*userRecords, error) {
	s := pageScanner{b: data, strs: map[string]string{}, into: into}
	if p, ok := s.page(sizeHint); ok {
		return p, nil
	}
	var w usersPage
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	cp := convert(w.Users)
	return &userRecords{LastPage: w.LastPage, Result: w.Result, Message: w.Message, Users: cp.users, ids: cp.ids}, nil
}

type pageScanner struct {
	b    []byte
	i    int
	strs map[string]string
	// groups is the shared backing array of the page's group lists.
	groups []string
	// lists shares the group lists of users whose groups are written
	// the same way.
	lists map[string][]string
	into  []core.AdobeUser
}

func (s *pageScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and reports the next byte (0 at the end).
func (s *pageScanner) next() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *pageScanner) lit(word string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

// token scans a string token at s.i and returns its raw contents; plain
// is false when they hold escapes or bytes that are not plain ASCII.
func (s *pageScanner) token() (raw []byte, plain, ok bool) {
	if s.next() != '"' {
		return nil, false, false
	}
	start := s.i + 1
	plain = true
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], plain, true
		case c == '\\':
			plain = false
			j++
		case c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return nil, false, false
}

// str scans a string token into a new string.
func (s *pageScanner) str() (string, bool) {
	start := s.i
	raw, plain, ok := s.token()
	if !ok {
		return "", false
	}
	if plain || (bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)) {
		return string(raw), true
	}
	var v string
	if json.Unmarshal(s.b[start:s.i], &v) != nil {
		return "", false
	}
	return v, true
}

// interned scans a string token, sharing the string with equal values of
// the page.
func (s *pageScanner) interned() (string, bool) {
	start := s.i
	raw, plain, ok := s.token()
	if !ok {
		return "", false
	}
	if !plain {
		s.i = start
		return s.str()
	}
	if v, ok := s.strs[string(raw)]; ok {
		return v, true
	}
	v := string(raw)
	s.strs[v] = v
	return v, true
}

// null consumes a null literal.
func (s *pageScanner) null() bool {
	return s.next() == 'n' && s.lit("null")
}

// key scans an object key and its colon. Keys with escapes are left to
// the generic decoder.
func (s *pageScanner) key() ([]byte, bool) {
	raw, plain, ok := s.token()
	if !ok || !plain || s.next() != ':' {
		return nil, false
	}
	s.i++
	return raw, true
}

// unknown reports whether k is none of known in any case: encoding/json
// matches keys without regard to case, which the scanner leaves to it.
func unknown(k []byte, known ...string) bool {
	for _, n := range known {
		if bytes.EqualFold(k, []byte(n)) {
			return false
		}
	}
	return true
}

// skip passes over any valid JSON value.
func (s *pageScanner) skip() bool {
	switch s.next() {
	case '"':
		start := s.i
		_, plain, ok := s.token()
		return ok && (plain || json.Valid(s.b[start:s.i]))
	case '{':
		return s.object(func([]byte) bool { return s.skip() })
	case '[':
		s.i++
		if s.next() == ']' {
			s.i++
			return true
		}
		for {
			if !s.skip() {
				return false
			}
			switch s.next() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	}
	// A number or a literal: up to the next delimiter.
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		s.i++
	}
	return s.i > start && json.Valid(s.b[start:s.i])
}

// object calls field for each key of an object until it returns false.
func (s *pageScanner) object(field func(k []byte) bool) bool {
	if s.next() != '{' {
		return false
	}
	s.i++
	if s.next() == '}' {
		s.i++
		return true
	}
	for {
		k, ok := s.key()
		if !ok || !field(k) {
			return false
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *pageScanner) page(sizeHint int) (*userRecords, bool) {
	p := &userRecords{}
	sawUsers := false
	ok := s.object(func(k []byte) bool {
		switch string(k) {
		case "lastPage":
			switch s.next() {
			case 't', 'f':
				v := s.lit("true")
				if !v && !s.lit("false") {
					return false
				}
				p.LastPage = &v
				return true
			case 'n':
				p.LastPage = nil
				return s.null()
			}
			return false
		case "result":
			return s.stringField(&p.Result)
		case "message":
			return s.stringField(&p.Message)
		case "users":
			if sawUsers {
				return false
			}
			sawUsers = true
			if s.null() {
				return true
			}
			return s.users(p, sizeHint)
		}
		return unknown(k, "lastPage", "result", "message", "users") && s.skip()
	})
	if s.ws(); !ok || s.i != len(s.b) {
		return nil, false
	}
	return p, true
}

// stringField scans a string or null into *dst (null leaves it as is).
func (s *pageScanner) stringField(dst *string) bool {
	if s.null() {
		return true
	}
	v, ok := s.str()
	*dst = v
	return ok
}

func (s *pageScanner) internedField(dst *string) bool {
	if s.null() {
		return true
	}
	v, ok := s.interned()
	*dst = v
	return ok
}

func (s *pageScanner) users(p *userRecords, sizeHint int) bool {
	if s.next() != '[' {
		return false
	}
	s.i++
	if sizeHint > 0 {
		sizeHint = min(sizeHint, 100_000)
		if s.into == nil {
			p.Users = make([]core.AdobeUser, 0, sizeHint)
		}
		p.ids = make([]string, 0, sizeHint)
	}
	if s.into != nil {
		p.Users = s.into[:0]
	}
	if s.next() == ']' {
		s.i++
		if p.Users == nil {
			p.Users = []core.AdobeUser{}
		}
		return true
	}
	for {
		var u core.AdobeUser
		var id, typ string
		ok := s.object(func(k []byte) bool {
			switch string(k) {
			case "id":
				return s.stringField(&id)
			case "email":
				return s.stringField(&u.Email)
			case "username":
				start := s.i
				if raw, plain, ok := s.token(); ok && plain && string(raw) == u.Email {
					u.Username = u.Email
					return true
				}
				s.i = start
				return s.stringField(&u.Username)
			case "status":
				return s.internedField(&u.Status)
			case "domain":
				return s.internedField(&u.Domain)
			case "firstname":
				return s.stringField(&u.Firstname)
			case "lastname":
				return s.stringField(&u.Lastname)
			case "country":
				return s.internedField(&u.Country)
			case "type":
				return s.internedField(&typ)
			case "groups":
				return s.groupList(&u.Groups)
			}
			return unknown(k, "id", "email", "username", "status", "domain", "firstname", "lastname", "country", "type", "groups") && s.skip()
		})
		if !ok {
			return false
		}
		u.Type = core.IdentityType(typ)
		if t, err := core.ParseIdentityType(typ); err == nil {
			u.Type = t
		}
		p.Users = append(p.Users, u)
		p.ids = append(p.ids, id)
		switch s.next() {
		case ',':
			s.i++
		case ']':
			s.i++
			return true
		default:
			return false
		}
	}
}

// groupList scans an array of group names (or null) into *dst.
func (s *pageScanner) groupList(dst *[]string) bool {
	if s.null() {
		*dst = nil
		return true
	}
	if s.next() != '[' {
		return false
	}
	open := s.i
	if end := bytes.IndexByte(s.b[open:], ']'); end > 0 {
		if l, ok := s.lists[string(s.b[open:open+end+1])]; ok {
			s.i = open + end + 1
			*dst = l
			return true
		}
	}
	s.i++
	if cap(s.groups)-len(s.groups) < 64 {
		// A new backing array; the lists already made keep the old one.
		// Most lists are shared, so few are made.
		s.groups = make([]string, 0, 1024)
	}
	start := len(s.groups)
	if s.next() == ']' {
		s.i++
		*dst = []string{}
		return true
	}
	for {
		g, ok := s.interned()
		if !ok {
			return false
		}
		s.groups = append(s.groups, g)
		switch s.next() {
		case ',':
			s.i++
		case ']':
			s.i++
			*dst = s.groups[start:len(s.groups):len(s.groups)]
			if s.lists == nil {
				s.lists = map[string][]string{}
			}
			s.lists[string(s.b[open:s.i])] = *dst
			return true
		default:
			return false
		}
	}
}

// converted returns the page's records with their IDs.
func (p *userRecords) converted() convertedPage {
	return convertedPage{users: p.Users, ids: p.ids}
}

// flatList is the users of a paged listing in one slice, each page copied
// to its place as it arrives, so that the listing is never held twice
// (once in pages, once in the result). It is used when the paging headers
// of page 0 are consistent; a listing whose pages do not tile the counted
// total is put together from its pages instead.
type flatList struct {
	users    []core.AdobeUser
	pageSize int
	placed   int
}

// maxFlat bounds the slice allocated on the word of the paging headers.
const maxFlat = 20_000_000

func newFlatList(h0 paging, pageSize int) *flatList {
	if h0.total < 0 || h0.total > maxFlat || h0.total > h0.pages*pageSize || h0.total <= (h0.pages-1)*pageSize {
		return nil
	}
	return &flatList{users: make([]core.AdobeUser, h0.total), pageSize: pageSize}
}

// slot is where page's users go, for decoding them in place; nil when
// there is no list.
func (f *flatList) slot(page int) []core.AdobeUser {
	if f == nil {
		return nil
	}
	at := min(page*f.pageSize, len(f.users))
	end := min(at+f.pageSize, len(f.users))
	return f.users[at:at:end]
}

// place copies a page's users to their place (unless they were decoded
// there) and points the page at them.
func (f *flatList) place(page int, cp *convertedPage) {
	if f == nil {
		return
	}
	at := page * f.pageSize
	if at+len(cp.users) > len(f.users) || (len(cp.users) != f.pageSize && at+len(cp.users) != len(f.users)) {
		return
	}
	if len(cp.users) > 0 && &cp.users[0] != &f.users[at] {
		copy(f.users[at:], cp.users)
	}
	cp.users = f.users[at : at+len(cp.users) : at+len(cp.users)]
	f.placed += len(cp.users)
}

// whole returns the listing when every one of its n users was placed.
func (f *flatList) whole(n int) ([]core.AdobeUser, bool) {
	if f == nil || f.placed != n || n != len(f.users) {
		return nil, false
	}
	return f.users, true
}

// userSet is the set of users kept so far by their adobeUserKey. It holds
// a hash of each key and the index of the user with that hash; the few
// keys whose hash another kept key already has are held in full. A
// million keys in full would cost a map of a million four-string keys.
type userSet struct {
	seed   maphash.Seed
	byHash map[uint64]int
	full   map[adobeKey]struct{}
}

func newUserSet(n int) *userSet {
	return &userSet{seed: maphash.MakeSeed(), byHash: make(map[uint64]int, n)}
}

func (s *userSet) hash(k adobeKey) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	for _, p := range [...]string{k.typ, k.email, k.username, k.domain} {
		h.WriteString(p)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// add adds u, about to be appended to kept, and reports whether it was
// new.
func (s *userSet) add(kept []core.AdobeUser, u *core.AdobeUser) bool {
	k := keyOf(u)
	h := s.hash(k)
	j, ok := s.byHash[h]
	if !ok {
		s.byHash[h] = len(kept)
		return true
	}
	if keyOf(&kept[j]) == k {
		return false
	}
	if _, ok := s.full[k]; ok {
		return false
	}
	if s.full == nil {
		s.full = map[adobeKey]struct{}{}
	}
	s.full[k] = struct{}{}
	return true
}
