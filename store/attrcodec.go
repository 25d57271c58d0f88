package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/usersync/usersync/core"
)

// A directory user's source attributes are stored as one length-prefixed
// value: empty for none, a JSON object in snapshots written before the
// binary form, or attrBinary followed by the count and, sorted by name,
// each name, a kind byte and the value. JSON cost a marshal per user, most
// of the snapshot's encoding time when an extension hook is configured.
const attrBinary = 0x01

// Kinds of attribute value.
const (
	attrNil     = 0
	attrString  = 1
	attrStrings = 2
	attrJSON    = 3 // anything else, as JSON
)

// attributes writes u's source attributes.
func (e *encoder) attributes(u *core.DirectoryUser) error {
	if len(u.Attributes) == 0 {
		e.str("")
		return nil
	}
	a := &e.attrs
	a.buf = append(a.buf[:0], attrBinary)
	a.buf = binary.AppendUvarint(a.buf, uint64(len(u.Attributes)))
	a.names = a.names[:0]
	for k := range u.Attributes {
		a.names = append(a.names, k)
	}
	slices.Sort(a.names)
	for _, k := range a.names {
		a.buf = appendStr(a.buf, k)
		switch v := u.Attributes[k].(type) {
		case nil:
			a.buf = append(a.buf, attrNil)
		case string:
			a.buf = appendStr(append(a.buf, attrString), v)
		case []string:
			a.buf = binary.AppendUvarint(append(a.buf, attrStrings), uint64(len(v)))
			for _, s := range v {
				a.buf = appendStr(a.buf, s)
			}
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("attributes of %s: %w", u.Email, err)
			}
			a.buf = appendStr(append(a.buf, attrJSON), string(b))
		}
	}
	e.uvarint(uint64(len(a.buf)))
	e.buf.Write(a.buf)
	return nil
}

// attrScratch is reused from user to user.
type attrScratch struct {
	buf   []byte
	names []string
}

func appendStr(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// decodeAttributes reads what attributes wrote, or the JSON of older
// snapshots.
func decodeAttributes(a string) (map[string]any, error) {
	if strings.HasPrefix(a, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(a), &m); err != nil {
			return nil, errCorrupt
		}
		for k, v := range m {
			m[k] = attrValue(v)
		}
		return m, nil
	}
	if a == "" || a[0] != attrBinary {
		return nil, errCorrupt
	}
	r := attrReader{s: a[1:]}
	n := r.uvarint()
	if r.bad || n > uint64(len(r.s)) {
		return nil, errCorrupt
	}
	m := make(map[string]any, n)
	for range n {
		k := r.str()
		switch r.byte() {
		case attrNil:
			m[k] = nil
		case attrString:
			m[k] = r.str()
		case attrStrings:
			c := r.uvarint()
			if c > uint64(len(r.s)) {
				return nil, errCorrupt
			}
			ss := make([]string, c)
			for i := range ss {
				ss[i] = r.str()
			}
			m[k] = ss
		case attrJSON:
			var v any
			if err := json.Unmarshal([]byte(r.str()), &v); err != nil {
				return nil, errCorrupt
			}
			m[k] = attrValue(v)
		default:
			r.bad = true
		}
		if r.bad {
			return nil, errCorrupt
		}
	}
	if len(r.s) != 0 {
		return nil, errCorrupt
	}
	return m, nil
}

// attrValue turns JSON's []any into []string: attributes are nil, a string
// or a list of strings.
func attrValue(v any) any {
	l, ok := v.([]any)
	if !ok {
		return v
	}
	ss := make([]string, len(l))
	for i, x := range l {
		ss[i], _ = x.(string)
	}
	return ss
}

// attrReader reads the binary form; bad is set at the first malformed
// value.
type attrReader struct {
	s   string
	bad bool
}

func (r *attrReader) uvarint() uint64 {
	v, n := binary.Uvarint([]byte(r.s[:min(len(r.s), binary.MaxVarintLen64)]))
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.s = r.s[n:]
	return v
}

func (r *attrReader) byte() byte {
	if len(r.s) == 0 {
		r.bad = true
		return 0xff
	}
	b := r.s[0]
	r.s = r.s[1:]
	return b
}

func (r *attrReader) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.s)) {
		r.bad = true
		return ""
	}
	s := r.s[:n]
	r.s = r.s[n:]
	return s
}
