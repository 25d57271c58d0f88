package core

import (
	"strings"
)

// userKey is a user key (UST §3.3) held as its parts, all trimmed and
// lower-cased, so that building and comparing keys for a million users
// costs no string concatenation until a key is shown.
type userKey struct {
	Type     IdentityType
	Username string
	Domain   string
	Email    string
}

// String returns the key in UST's form "type,username,domain,email".
func (k userKey) String() string {
	return string(k.Type) + "," + k.Username + "," + k.Domain + "," + k.Email
}

// lowerTrim is NormalizeGroup's rule for any identifier; it allocates only
// when the input has upper-case letters or surrounding spaces.
func lowerTrim(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// makeKey builds a key from its raw parts (UST §3.3): the username falls
// back to the email; an email-shaped username has no domain; a username
// that is not email-shaped needs a domain. It reports false for an invalid
// key.
func makeKey(t IdentityType, username, domain, email string) (userKey, bool) {
	if t == "" {
		return userKey{}, false
	}
	k := userKey{Type: t, Email: lowerTrim(email)}
	if username == email {
		// The common case: normalise once.
		k.Username = k.Email
	} else {
		k.Username = lowerTrim(username)
	}
	if k.Username == "" {
		k.Username = k.Email
	}
	if k.Username == "" {
		return userKey{}, false
	}
	if strings.Contains(k.Username, "@") {
		return k, true
	}
	k.Domain = lowerTrim(domain)
	if k.Domain == "" {
		return userKey{}, false
	}
	return k, true
}

// directoryKey builds the key of a directory user; a user without a type
// gets def, the configured user_identity_type.
func directoryKey(u *DirectoryUser, def IdentityType) (userKey, bool) {
	t := u.Type
	if t == "" {
		t = def
	}
	if t != "" && t != FederatedID && t != EnterpriseID && t != AdobeID {
		p, err := ParseIdentityType(string(t))
		if err != nil {
			return userKey{}, false
		}
		t = p
	}
	return makeKey(t, u.Username, u.Domain, u.Email)
}

// adobeKey builds the key of an Adobe user. An Adobe ID is keyed by its
// email alone (UST §3.3).
func adobeKey(u *AdobeUser) (userKey, bool) {
	t := u.Type
	if t != AdobeID && t != EnterpriseID && t != FederatedID {
		p, err := ParseIdentityType(string(t))
		if err != nil {
			return userKey{}, false
		}
		t = p
	}
	if t == AdobeID {
		return makeKey(t, "", "", u.Email)
	}
	return makeKey(t, u.Username, u.Domain, u.Email)
}

// UserKey returns UST's user key "type,username,domain,email" for the given
// parts, or "" when they do not make a valid key (UST §3.3).
func UserKey(t IdentityType, username, domain, email string) string {
	if t != "" {
		p, err := ParseIdentityType(string(t))
		if err != nil {
			return ""
		}
		t = p
	}
	k, ok := makeKey(t, username, domain, email)
	if !ok {
		return ""
	}
	return k.String()
}

// DirectoryUserKey returns the user key of a directory user, using def for a
// user without an identity type; "" means the user has no valid key.
func DirectoryUserKey(u *DirectoryUser, def IdentityType) string {
	k, ok := directoryKey(u, def)
	if !ok {
		return ""
	}
	return k.String()
}

// AdobeUserKey returns the user key of an Adobe user; "" means invalid.
func AdobeUserKey(u *AdobeUser) string {
	k, ok := adobeKey(u)
	if !ok {
		return ""
	}
	return k.String()
}

// twoKeyIndex finds a record by email or by username (UST §3.3, since 2.9):
// a lookup hits when the email equals a record's email, or else when the
// username equals a record's username. Identity type and domain take no
// part. When two records share a key the last one added wins it.
type twoKeyIndex struct {
	byEmail    map[string]int32
	byUsername map[string]int32
}

func newTwoKeyIndex(n int) *twoKeyIndex {
	return &twoKeyIndex{byEmail: make(map[string]int32, n), byUsername: make(map[string]int32, n)}
}

// add indexes record i under its (lower-cased) email and username.
func (x *twoKeyIndex) add(email, username string, i int32) {
	if email != "" {
		x.byEmail[email] = i
	}
	if username != "" {
		x.byUsername[username] = i
	}
}

// lookup returns the record with this email or, failing that, this
// username; -1 when there is none.
func (x *twoKeyIndex) lookup(email, username string) int32 {
	if email != "" {
		if i, ok := x.byEmail[email]; ok {
			return i
		}
	}
	if username != "" {
		if i, ok := x.byUsername[username]; ok {
			return i
		}
	}
	return -1
}

// emailShaped reports whether an identifier is an email address as UST
// tests it: it contains "@".
func emailShaped(s string) bool { return strings.Contains(s, "@") }

// recIndex is the two-key index over selected directory users, tuned for a
// million records: a record whose username equals its email (the common
// case) is stored once, under its email, and a username lookup that falls
// through to the email map checks that the record's username really is the
// one asked for. Lookups are safe from several goroutines once built.
type recIndex struct {
	byEmail    map[string]int32
	byUsername map[string]int32 // only records whose username differs from the email
	username   func(int32) string
}

func newRecIndex(n int, username func(int32) string) *recIndex {
	return &recIndex{byEmail: make(map[string]int32, n), byUsername: map[string]int32{}, username: username}
}

func (x *recIndex) add(email, username string, i int32) {
	if email != "" {
		x.byEmail[email] = i
	}
	if username != "" && username != email {
		x.byUsername[username] = i
	}
}

// lookup returns the record matching email, else username, and whether the
// email matched; -1 when none does.
func (x *recIndex) lookup(email, username string) (int32, bool) {
	if email != "" {
		if i, ok := x.byEmail[email]; ok {
			return i, true
		}
	}
	if username == "" {
		return -1, false
	}
	if i, ok := x.byUsername[username]; ok {
		return i, false
	}
	if username != email {
		if i, ok := x.byEmail[username]; ok && x.username(i) == username {
			return i, false
		}
	}
	return -1, false
}
