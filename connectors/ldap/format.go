package ldap

import (
	"fmt"
	"strings"
)

// Format is a parsed attribute format string such as "{givenName}.{sn}@example.org".
// It follows the subset of Python's str.format syntax UST documents:
// "{attr}" placeholders, "{{" and "}}" for literal braces, and any other
// text taken literally. A format without placeholders is a constant.
type Format struct {
	src   string
	parts []formatPart
}

type formatPart struct {
	text string // literal text, when attr is ""
	attr string // attribute name of a placeholder
}

// ParseFormat parses a format string. Unbalanced braces and empty
// placeholders are errors.
func ParseFormat(s string) (*Format, error) {
	f := &Format{src: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.parts = append(f.parts, formatPart{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				lit.WriteByte('{')
				i++
				continue
			}
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("format %q: '{' at position %d is not closed", s, i+1)
			}
			name := strings.TrimSpace(s[i+1 : i+1+end])
			if name == "" {
				return nil, fmt.Errorf("format %q: empty placeholder {} (name an attribute, e.g. {mail})", s)
			}
			if strings.ContainsAny(name, "{!:") {
				return nil, fmt.Errorf("format %q: placeholder {%s} is not an attribute name (conversions and format specs are not supported)", s, name)
			}
			flush()
			f.parts = append(f.parts, formatPart{attr: name})
			i += end + 1
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				lit.WriteByte('}')
				i++
				continue
			}
			return nil, fmt.Errorf("format %q: single '}' at position %d (write }} for a literal brace)", s, i+1)
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return f, nil
}

// String returns the format as written.
func (f *Format) String() string {
	if f == nil {
		return ""
	}
	return f.src
}

// Attrs lists the attribute names the format reads, in order, without
// duplicates.
func (f *Format) Attrs() []string {
	if f == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range f.parts {
		if p.attr != "" && !seen[strings.ToLower(p.attr)] {
			seen[strings.ToLower(p.attr)] = true
			out = append(out, p.attr)
		}
	}
	return out
}

// Eval fills the format from an entry. value returns the first value of an
// attribute, or "" when it is absent. If any referenced attribute is absent
// or empty the result is missing (ok is false) and missing names the first
// such attribute. A nil Format is always missing.
func (f *Format) Eval(value func(attr string) string) (result string, ok bool, missing string) {
	if f == nil {
		return "", false, ""
	}
	var b strings.Builder
	for _, p := range f.parts {
		if p.attr == "" {
			b.WriteString(p.text)
			continue
		}
		v := value(p.attr)
		if v == "" {
			return "", false, p.attr
		}
		b.WriteString(v)
	}
	return b.String(), true, ""
}
