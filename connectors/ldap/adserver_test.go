package ldap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	ber "github.com/go-asn1-ber/asn1-ber"
	ldapv3 "github.com/go-ldap/ldap/v3"

	"github.com/usersync/usersync/core"
)

// adServer imitates the parts of Active Directory that OpenLDAP cannot:
// multi-valued attributes returned in ranges ("member;range=0-1499", then
// "member;range=1500-*" ...), the LDAP_MATCHING_RULE_IN_CHAIN filter
// (memberOf:1.2.840.113556.1.4.1941:=DN) for nested groups, and NTLM binds
// (Microsoft's "sicily" exchange, checked against a known NT hash). It
// speaks just enough LDAP for the connector: bind, search, unbind.
type adServer struct {
	addr     string
	password string
	maxRange int // values per range, like AD's MaxValRange (1500)

	groups map[string][]string // lower DN -> member DNs
	users  map[string]adUser   // lower DN -> user
	// truncate makes the server answer range requests for this group's
	// member attribute from this offset on with nothing, as when the entry
	// changed during the read.
	truncate map[string]int

	mu       sync.Mutex
	searches int
	// dropAt closes the connection instead of answering the dropAt-th
	// search of a connection, drops times.
	dropAt, drops int
}

// The NTLM account of the imitation, and the NT hash (MD4 of the UTF-16
// password) of "Password", from the NTLM specification's test vectors.
const (
	ntlmDomain = "EXAMPLE"
	ntlmUser   = "svc-usersync"
	ntlmNTHash = "a4f49c406510bdcab6824ee7c30fd852"
)

// ntlmChallenge builds an NTLM CHALLENGE_MESSAGE with a fresh server
// challenge, which it stores in c.
func ntlmChallenge(c *[8]byte) []byte {
	rand.Read(c[:])
	target := utf16le(ntlmDomain)
	info := binary.LittleEndian.AppendUint16(nil, 2) // MsvAvNbDomainName
	info = binary.LittleEndian.AppendUint16(info, uint16(len(target)))
	info = append(info, target...)
	info = append(info, 0, 0, 0, 0) // MsvAvEOL
	const header = 48
	const flags = 0x00000001 | 0x00000200 | 0x00080000 | 0x00800000 // unicode, NTLM, extended security, target info
	m := []byte("NTLMSSP\x00")
	m = binary.LittleEndian.AppendUint32(m, 2)
	m = appendVarField(m, len(target), header)
	m = binary.LittleEndian.AppendUint32(m, flags)
	m = append(m, c[:]...)
	m = append(m, make([]byte, 8)...)
	m = appendVarField(m, len(info), header+len(target))
	return append(append(m, target...), info...)
}

func appendVarField(b []byte, n, offset int) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	return binary.LittleEndian.AppendUint32(b, uint32(offset))
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

// ntlmValid checks an AUTHENTICATE_MESSAGE: the account and domain it
// names, and its NTLMv2 proof against the known NT hash.
func (s *adServer) ntlmValid(challenge [8]byte, m []byte) bool {
	field := func(i int) []byte { // i-th var field after the 12-byte header
		off := 12 + 8*i
		if len(m) < off+8 {
			return nil
		}
		n := int(binary.LittleEndian.Uint16(m[off:]))
		at := int(binary.LittleEndian.Uint32(m[off+4:]))
		if at+n > len(m) {
			return nil
		}
		return m[at : at+n]
	}
	nt, domain, user := field(1), field(2), field(3)
	if len(nt) < 16 || !bytes.Equal(domain, utf16le(ntlmDomain)) || !bytes.Equal(user, utf16le(ntlmUser)) {
		return false
	}
	hash, _ := hex.DecodeString(ntlmNTHash)
	mac := hmac.New(md5.New, hash)
	mac.Write(utf16le(strings.ToUpper(ntlmUser) + ntlmDomain))
	v2 := hmac.New(md5.New, mac.Sum(nil))
	v2.Write(challenge[:])
	v2.Write(nt[16:])
	return hmac.Equal(v2.Sum(nil), nt[:16])
}

type adUser struct {
	dn       string
	attrs    map[string][]string
	disabled bool
}

const adBase = "DC=example,DC=com"

func adGroup(cn string) string { return "CN=" + cn + ",OU=Groups," + adBase }
func adUserDN(i int) string    { return fmt.Sprintf("CN=User %05d,OU=Staff,%s", i, adBase) }

// newADServer serves on loopback until the test ends.
func newADServer(t *testing.T) *adServer {
	t.Helper()
	s := &adServer{password: "ad-Secret-1", maxRange: 1500, groups: map[string][]string{},
		users: map[string]adUser{}, truncate: map[string]int{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serve(c)
			}()
		}
	}()
	go func() { <-t.Context().Done(); l.Close() }()
	return s
}

func (s *adServer) addUser(dn, mail string, groups ...string) {
	attrs := map[string][]string{"mail": {mail}, "givenName": {"Given"}, "sn": {strings.SplitN(dn, ",", 2)[0][3:]}}
	for _, g := range groups {
		attrs["memberOf"] = append(attrs["memberOf"], g)
		s.groups[strings.ToLower(g)] = append(s.groups[strings.ToLower(g)], dn)
	}
	s.users[strings.ToLower(dn)] = adUser{dn: dn, attrs: attrs}
}

func (s *adServer) addGroup(dn string, members ...string) {
	k := strings.ToLower(dn)
	s.groups[k] = append(s.groups[k], members...)
}

func (s *adServer) serve(c net.Conn) {
	defer c.Close()
	var wmu sync.Mutex
	send := func(p *ber.Packet) error {
		wmu.Lock()
		defer wmu.Unlock()
		_, err := c.Write(p.Bytes())
		return err
	}
	in := bufio.NewReader(c)
	connSearches := 0
	var challenge [8]byte
	for {
		p, err := ber.ReadPacket(in)
		if err != nil || len(p.Children) < 2 {
			return
		}
		id, _ := p.Children[0].Value.(int64)
		op := p.Children[1]
		switch op.Tag {
		case ldapv3.ApplicationBindRequest:
			if len(op.Children) != 3 {
				return
			}
			var reply *ber.Packet
			switch auth := op.Children[2]; auth.Tag {
			case 10: // Microsoft's sicily NTLM negotiate: answer with a challenge
				// Active Directory sends the challenge in the matchedDN field.
				reply = ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldapv3.ApplicationBindResponse, nil, "result")
				reply.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(0), "resultCode"))
				reply.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(ntlmChallenge(&challenge)), "challenge"))
				reply.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "diagnosticMessage"))
			case 11: // the NTLM authenticate message
				code := ldapv3.LDAPResultInvalidCredentials
				if s.ntlmValid(challenge, auth.Data.Bytes()) {
					code = ldapv3.LDAPResultSuccess
				}
				reply = result(ldapv3.ApplicationBindResponse, code, "")
			default: // simple
				code := ldapv3.LDAPResultInvalidCredentials
				if auth.Data.String() == s.password {
					code = ldapv3.LDAPResultSuccess
				}
				reply = result(ldapv3.ApplicationBindResponse, code, "")
			}
			if send(envelope(id, reply)) != nil {
				return
			}
		case ldapv3.ApplicationUnbindRequest:
			return
		case ldapv3.ApplicationSearchRequest:
			connSearches++
			s.mu.Lock()
			drop := s.drops > 0 && connSearches == s.dropAt
			if drop {
				s.drops--
			}
			s.mu.Unlock()
			if drop {
				return
			}
			for _, r := range s.search(op) {
				if send(envelope(id, r)) != nil {
					return
				}
			}
		case ldapv3.ApplicationAbandonRequest:
		default:
			if send(envelope(id, result(ldapv3.ApplicationExtendedResponse, ldapv3.LDAPResultProtocolError, "unsupported"))) != nil {
				return
			}
		}
	}
}

var (
	cnAssertion       = regexp.MustCompile(`\(cn=([^)]*)\)`)
	memberOfAssertion = regexp.MustCompile(`\(memberOf(:1\.2\.840\.113556\.1\.4\.1941:)?=([^)]*)\)`)
)

// search answers a search request with entries and a done message.
func (s *adServer) search(op *ber.Packet) []*ber.Packet {
	s.mu.Lock()
	s.searches++
	s.mu.Unlock()
	base := op.Children[0].Data.String()
	scope, _ := op.Children[1].Value.(int64)
	filter, err := ldapv3.DecompileFilter(op.Children[6])
	if err != nil {
		return []*ber.Packet{result(ldapv3.ApplicationSearchResultDone, ldapv3.LDAPResultProtocolError, err.Error())}
	}
	var attrs []string
	for _, a := range op.Children[7].Children {
		attrs = append(attrs, a.Data.String())
	}
	done := result(ldapv3.ApplicationSearchResultDone, ldapv3.LDAPResultSuccess, "")
	var out []*ber.Packet
	if scope == int64(ldapv3.ScopeBaseObject) {
		if base == "" { // the root DSE
			caps := map[string][]string{"supportedCapabilities": {"1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670"}}
			return append(out, s.entry("", caps, attrs), done)
		}
		k := strings.ToLower(base)
		if u, ok := s.users[k]; ok && !u.disabled {
			return append(out, s.entry(u.dn, u.attrs, attrs), done)
		}
		if m, ok := s.groups[k]; ok && !strings.Contains(filter, "objectClass=user") {
			return append(out, s.entry(base, map[string][]string{"member": m}, attrs), done)
		}
		if ok := s.groups[k] != nil; ok {
			return append(out, done) // a group does not match the user filter
		}
		return []*ber.Packet{result(ldapv3.ApplicationSearchResultDone, ldapv3.LDAPResultNoSuchObject, "")}
	}
	switch {
	case strings.Contains(filter, "objectCategory=group"):
		m := cnAssertion.FindStringSubmatch(filter)
		if m == nil {
			break
		}
		dn := adGroup(unescapeFilter(m[1]))
		if members, ok := s.groups[strings.ToLower(dn)]; ok {
			out = append(out, s.entry(dn, map[string][]string{"member": members}, attrs))
		}
	case memberOfAssertion.MatchString(filter):
		m := memberOfAssertion.FindStringSubmatch(filter)
		for _, dn := range s.members(unescapeFilter(m[2]), m[1] != "") {
			if u, ok := s.users[strings.ToLower(dn)]; ok && !u.disabled {
				out = append(out, s.entry(u.dn, u.attrs, attrs))
			}
		}
	}
	return append(out, done)
}

// members lists the user DNs in group dn, transitively when chain is set.
func (s *adServer) members(dn string, chain bool) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(g string)
	walk = func(g string) {
		if seen[strings.ToLower(g)] {
			return
		}
		seen[strings.ToLower(g)] = true
		for _, m := range s.groups[strings.ToLower(g)] {
			if _, isGroup := s.groups[strings.ToLower(m)]; isGroup {
				if chain {
					walk(m)
				}
				continue
			}
			if !seen[strings.ToLower(m)] {
				seen[strings.ToLower(m)] = true
				out = append(out, m)
			}
		}
	}
	walk(dn)
	return out
}

// entry encodes a search result entry with the requested attributes,
// ranging any with more than maxRange values as Active Directory does.
func (s *adServer) entry(dn string, have map[string][]string, requested []string) *ber.Packet {
	e := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldapv3.ApplicationSearchResultEntry, nil, "entry")
	e.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "dn"))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for _, req := range requested {
		name, lo, _, ranged := parseRange(req)
		if !ranged {
			name, lo = req, 0
		}
		var vals []string
		for k, v := range have {
			if strings.EqualFold(k, name) {
				name, vals = k, v
			}
		}
		if vals == nil {
			continue
		}
		if !ranged && len(vals) <= s.maxRange {
			list.AppendChild(attribute(name, vals))
			continue
		}
		if cut, ok := s.truncate[strings.ToLower(dn)]; ok && lo >= cut {
			continue // the server has nothing more: the entry changed
		}
		hi := min(lo+s.maxRange, len(vals))
		label := strconv.Itoa(hi - 1)
		if hi == len(vals) {
			label = "*"
		}
		list.AppendChild(attribute(fmt.Sprintf("%s;range=%d-%s", name, lo, label), vals[min(lo, len(vals)):hi]))
	}
	e.AppendChild(list)
	return e
}

func attribute(name string, vals []string) *ber.Packet {
	a := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
	a.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, "type"))
	set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "values")
	for _, v := range vals {
		set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "value"))
	}
	a.AppendChild(set)
	return a
}

func result(tag ber.Tag, code int, msg string) *ber.Packet {
	r := ber.Encode(ber.ClassApplication, ber.TypeConstructed, tag, nil, "result")
	r.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(code), "resultCode"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, msg, "diagnosticMessage"))
	return r
}

func envelope(id int64, op *ber.Packet) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP message")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "messageID"))
	p.AppendChild(op)
	return p
}

// unescapeFilter undoes RFC 4515 hex escapes.
func unescapeFilter(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// adDirectory fills s with a 13,000-member group (the size of UST's issue
// #423), a nested group, a user in 2,000 groups, a disabled user and a
// group whose member list changes during the read.
func adDirectory(s *adServer) {
	const big = 13000
	for i := 1; i <= big; i++ {
		s.addUser(adUserDN(i), fmt.Sprintf("user%05d@example.com", i), adGroup("Everyone"))
	}
	s.addUser(adUserDN(big+1), "nested@example.com", adGroup("Inner"))
	s.addGroup(adGroup("Outer"), adGroup("Inner"), adUserDN(1))
	s.addGroup(adGroup("Inner"), adGroup("Outer")) // a cycle
	var many []string
	for i := range 2000 {
		g := adGroup(fmt.Sprintf("Team %04d", i))
		s.addGroup(g)
		many = append(many, g)
	}
	s.addUser(adUserDN(big+2), "joiner@example.com", append(many, adGroup("Joiners"))...)
	s.addUser(adUserDN(big+3), "disabled@example.com", adGroup("Joiners"))
	u := s.users[strings.ToLower(adUserDN(big+3))]
	u.disabled = true
	s.users[strings.ToLower(adUserDN(big+3))] = u
	for i := 1; i <= 4000; i++ {
		s.addGroup(adGroup("Shifting"), adUserDN(i))
	}
	// A member in another domain (outside base_dn) and one that was deleted.
	s.addGroup(adGroup("Mixed"), adUserDN(7), "CN=Partner,OU=Staff,DC=partner,DC=com", "CN=Deleted User,OU=Staff,"+adBase)
	s.truncate[strings.ToLower(adGroup("Shifting"))] = 3000
}

func adConfig(t *testing.T, s *adServer, extra string) Config {
	t.Helper()
	yml := fmt.Sprintf(`host: ldap://%s
base_dn: %s
username: CN=svc,%s
password: %s
group_filter_format: "(&(objectCategory=group)(cn={group}))"
search_page_size: 1000
`, s.addr, adBase, adBase, s.password) + extra
	n, err := configParse(t, yml)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(context.Background(), n, nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return c
}

func TestActiveDirectory(t *testing.T) {
	s := newADServer(t)
	adDirectory(s)
	twoSteps := "two_steps_lookup:\n  group_member_attribute_name: member\n  nested_group: true\n"

	t.Run("13,000-member group", func(t *testing.T) {
		cfg := adConfig(t, s, twoSteps)
		res, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Everyone"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.Users); got != 13000 {
			t.Errorf("Users(Everyone) returned %d users; want 13000 (all ranges read)", got)
		}
	})
	t.Run("nested with a cycle", func(t *testing.T) {
		cfg := adConfig(t, s, twoSteps)
		res, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Outer"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range res.Users {
			got = append(got, u.Email)
		}
		if want := []string{"user00001@example.com", "nested@example.com"}; !sameSet(got, want) {
			t.Errorf("Users(Outer) = %v; want %v", got, want)
		}
	})
	t.Run("members outside base_dn or deleted", func(t *testing.T) {
		cfg := adConfig(t, s, twoSteps)
		res, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Mixed"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Users) != 1 || res.Users[0].Email != "user00007@example.com" {
			t.Errorf("Users(Mixed) = %+v; want only user00007", res.Users)
		}
	})
	t.Run("matching rule in chain", func(t *testing.T) {
		cfg := adConfig(t, s, "group_member_filter_format: \"(memberOf:1.2.840.113556.1.4.1941:={group_dn})\"\n")
		res, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Outer"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(res.Users); got != 2 {
			t.Errorf("Users(Outer) with the in-chain rule returned %d users; want 2", got)
		}
	})
	t.Run("ranged memberOf feeds member groups", func(t *testing.T) {
		cfg := adConfig(t, s, "dynamic_group_member_attribute: memberOf\n")
		q := core.SourceQuery{Groups: []string{"Joiners"}, WantMemberGroups: true}
		res, err := New(cfg, nil).Users(context.Background(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Users) != 1 {
			t.Fatalf("Users(Joiners) returned %d users; want 1 (the disabled one is filtered)", len(res.Users))
		}
		mg := res.Users[0].MemberGroups
		if len(mg) != 2001 || mg[0] != "Team 0000" || mg[2000] != "Joiners" {
			t.Errorf("MemberGroups has %d groups (first %q); want 2001 from Team 0000 to Joiners", len(mg), mg[0])
		}
	})
	t.Run("range that stops early is an error", func(t *testing.T) {
		cfg := adConfig(t, s, twoSteps)
		res, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Shifting"}}, nil)
		if err == nil || core.Code(err) != core.CodeInconsistent || len(res.Users) != 0 {
			t.Errorf("Users(Shifting) = %d users, error %v; want none and an inconsistent-read error", len(res.Users), err)
		}
	})
	t.Run("connection lost once", func(t *testing.T) {
		s.mu.Lock()
		s.dropAt, s.drops = 500, 1
		s.mu.Unlock()
		cfg := adConfig(t, s, twoSteps)
		src := New(cfg, nil)
		src.retryWait = time.Millisecond
		res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Everyone"}}, nil)
		if err != nil || len(res.Users) != 13000 {
			t.Errorf("Users(Everyone) with one dropped connection = %d users, %v; want 13000 after reading again", len(res.Users), err)
		}
	})
	t.Run("connection lost every time", func(t *testing.T) {
		s.mu.Lock()
		s.dropAt, s.drops = 3, 100
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.drops = 0
			s.mu.Unlock()
		}()
		cfg := adConfig(t, s, twoSteps)
		src := New(cfg, nil)
		src.retryWait = time.Millisecond
		res, err := src.Users(context.Background(), core.SourceQuery{Groups: []string{"Everyone"}}, nil)
		if err == nil || core.Code(err) != core.CodeUnavailable || len(res.Users) != 0 {
			t.Errorf("Users(Everyone) with dropped connections = %d users, %v; want none and an unavailable error", len(res.Users), err)
		}
	})
	t.Run("ntlm", func(t *testing.T) {
		for _, tc := range []struct {
			user, password string
			ok             bool
		}{
			{`EXAMPLE\svc-usersync`, "Password", true},
			{`EXAMPLE\svc-usersync`, "aad3b435b51404eeaad3b435b51404ee:" + ntlmNTHash, true}, // pass the hash, as UST allows
			{`EXAMPLE\svc-usersync`, "Wrong-Pa55", false},
			{`OTHER\svc-usersync`, "Password", false},
		} {
			yml := strings.NewReplacer("CN=svc,"+adBase, tc.user, s.password, tc.password).Replace(
				fmt.Sprintf("host: ldap://%s\nbase_dn: %s\nusername: 'CN=svc,%s'\npassword: '%s'\nauthentication_method: NTLM\n", s.addr, adBase, adBase, s.password))
			n, err := configParse(t, yml)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := ParseConfig(context.Background(), n, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = New(cfg, nil).Users(context.Background(), core.SourceQuery{}, nil)
			if tc.ok && err != nil {
				t.Errorf("NTLM bind as %s: %v", tc.user, err)
			}
			if !tc.ok && core.Code(err) != core.CodeUnauthenticated {
				t.Errorf("NTLM bind as %s with a wrong secret: error %v; want unauthenticated", tc.user, err)
			}
			if err != nil && strings.Contains(err.Error(), tc.password) {
				t.Errorf("error %q contains the secret", err)
			}
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := adConfig(t, s, "")
		cfg.Password = "nope"
		_, err := New(cfg, nil).Users(context.Background(), core.SourceQuery{Groups: []string{"Outer"}}, nil)
		var le *ldapv3.Error
		if !errors.As(err, &le) || core.Code(err) != core.CodeUnauthenticated {
			t.Errorf("Users with a wrong password: error %v; want an unauthenticated LDAP error", err)
		}
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
