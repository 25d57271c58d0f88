package sim

import (
	"hash/fnv"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The users list is the simulator's hot path (a million-user org is 500
// pages of 2,000), so user objects are written by hand into one buffer
// instead of through reflection; the output is the same JSON that
// encoding/json would produce for wireUser, less its HTML escaping.

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendID appends the user's opaque ID as a JSON string. It is derived
// from the identity, so it is stable across resets.
func (u *user) appendID(b []byte) []byte {
	h := fnv.New64a()
	h.Write([]byte(u.typ.String()))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(u.email)))
	sum := h.Sum64()
	b = append(b, '"')
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, "0123456789ABCDEF"[(sum>>uint(shift))&0xf])
	}
	b = append(b, '@')
	b = strconv.AppendUint(b, sum&0xffff, 16)
	return append(b, `.e"`...)
}

func (u *user) id() string {
	b := u.appendID(nil)
	return string(b[1 : len(b)-1])
}

// appendUser appends u as a users-list object (see wireUser).
func appendUser(b []byte, u *user, inherited, withGroups bool) []byte {
	b = append(b, `{"id":`...)
	b = u.appendID(b)
	b = append(b, `,"email":`...)
	b = appendString(b, u.email)
	b = append(b, `,"status":"active"`...)
	if withGroups {
		if names := u.groupNames(inherited); len(names) > 0 {
			b = append(b, `,"groups":[`...)
			for i, n := range names {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, n)
			}
			b = append(b, ']')
		}
	}
	b = append(b, `,"username":`...)
	b = appendString(b, u.username)
	b = append(b, `,"domain":`...)
	b = appendString(b, u.domain)
	for _, f := range [...]struct{ k, v string }{{`,"firstname":`, u.firstname}, {`,"lastname":`, u.lastname}, {`,"country":`, u.country}} {
		if f.v != "" {
			b = append(b, f.k...)
			b = appendString(b, f.v)
		}
	}
	b = append(b, `,"type":"`...)
	b = append(b, u.typ.String()...)
	return append(b, `"}`...)
}
