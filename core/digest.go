package core

import (
	"fmt"
	"sort"
)

// The digests bind a plan to the snapshot it was made from (Plan.
// DirectoryDigest, Plan.AdobeDigest). They do not depend on the order in
// which a directory or UMAPI returned users or groups, so a re-read of an
// unchanged side gives the same digest, while any changed attribute,
// membership, added or removed user changes it.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	// A separator, so that ("ab","c") and ("a","bc") differ.
	h ^= 0xff
	h *= fnvPrime
	return h
}

// mix is a 64-bit finaliser (splitmix64), so that sums of per-user hashes
// do not cancel out in simple ways.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// multiset sums element hashes in two independent lanes: an
// order-independent digest of a collection.
type multiset struct {
	n      uint64
	s1, s2 uint64
}

func (m *multiset) add(h1, h2 uint64) {
	m.n++
	m.s1 += mix(h1)
	m.s2 += mix(h2 ^ 0x9e3779b97f4a7c15)
}

func (m *multiset) String() string {
	return fmt.Sprintf("v1-%x-%016x%016x", m.n, m.s1, m.s2)
}

// hashStrings hashes a set of strings independently of their order.
func hashStrings(h uint64, ss []string) uint64 {
	var sum uint64
	for _, s := range ss {
		sum += mix(hashString(fnvOffset, s))
	}
	return hashString(h^sum, "")
}

// DirectoryDigest returns a stable digest of a directory read.
func DirectoryDigest(d *DirectoryResult) string {
	var m multiset
	for i := range d.Users {
		u := &d.Users[i]
		h := uint64(fnvOffset)
		for _, s := range [...]string{string(u.Type), u.Username, u.Domain, u.Email, u.Firstname, u.Lastname, u.Country} {
			h = hashString(h, s)
		}
		h = hashStrings(h, u.Groups)
		h = hashStrings(h, u.MemberGroups)
		if len(u.Attributes) > 0 {
			var sum uint64
			for k, v := range u.Attributes {
				sum += mix(hashValue(hashString(fnvOffset, k), v))
			}
			h = hashString(h^sum, "")
		}
		m.add(h, hashString(h, u.Email))
	}
	for _, g := range d.MissingGroups {
		h := hashString(fnvOffset, "missing-group:"+g)
		m.add(h, h)
	}
	return m.String()
}

// AdobeDigest returns a stable digest of the users read from every org.
func AdobeDigest(orgs map[string]OrgSnapshot) string {
	names := make([]string, 0, len(orgs))
	for n := range orgs {
		names = append(names, n)
	}
	sort.Strings(names)
	var m multiset
	for _, n := range names {
		os := orgs[n]
		org := hashString(fnvOffset, n)
		for i := range os.Users {
			u := &os.Users[i]
			h := org
			for _, s := range [...]string{string(u.Type), u.Username, u.Domain, u.Email, u.Firstname, u.Lastname, u.Country, u.Status} {
				h = hashString(h, s)
			}
			h = hashStrings(h, u.Groups)
			m.add(h, hashString(h, u.Email))
		}
		h := hashString(org, "org")
		m.add(h, h)
	}
	return m.String()
}

func hashValue(h uint64, v any) uint64 {
	switch v := v.(type) {
	case nil:
		return hashString(h, "\x00nil")
	case string:
		return hashString(h, v)
	case []string:
		for _, s := range v {
			h = hashString(h, s)
		}
		return h
	}
	return hashString(h, fmt.Sprint(v))
}
