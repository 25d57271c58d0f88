// Package attrformat is UST's user_*_format template language: literal
// text with {name} placeholders, written as Python's str.format writes them
// ("{{" and "}}" are literal braces). Each directory connector says which
// placeholder names it accepts and how a name is looked up in one of its
// users; parsing, the brace rules and UST's "one missing field makes the
// whole value missing" live here once.
package attrformat

import (
	"fmt"
	"strings"
)

// Format is a parsed attribute format string such as "{givenName}" or
// "{department}_{login}". The zero Format is "not configured".
type Format struct {
	text  string
	parts []part
	set   bool
}

type part struct {
	literal string
	field   string // set for a placeholder
}

// Check vets one placeholder name (the text between the braces). Its error
// says what is wrong with the placeholder; Parse prefixes it with the format.
type Check func(name string) error

// Parse parses a format string. A '{' without its '}', a single '}', and
// any placeholder name that check refuses are errors, each naming the
// format as written.
func Parse(s string, check Check) (Format, error) {
	f := Format{text: s, set: true}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.parts = append(f.parts, part{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return Format{}, fmt.Errorf("format %q: single '}' (write '}}' for a literal brace)", s)
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return Format{}, fmt.Errorf("format %q: '{' without a closing '}'", s)
			}
			name := s[i+1 : i+1+end]
			if err := check(name); err != nil {
				return Format{}, fmt.Errorf("format %q: %w", s, err)
			}
			flush()
			f.parts = append(f.parts, part{field: name})
			i += end + 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return f, nil
}

// Must parses a built-in default, which cannot fail.
func Must(s string, check Check) Format {
	f, err := Parse(s, check)
	if err != nil {
		panic(err)
	}
	return f
}

// IsSet reports whether the format was configured.
func (f Format) IsSet() bool { return f.set }

// String returns the format as written.
func (f Format) String() string { return f.text }

// Fields lists the placeholder names the format references, in order.
func (f Format) Fields() []string {
	var out []string
	for _, p := range f.parts {
		if p.field != "" {
			out = append(out, p.field)
		}
	}
	return out
}

// Render fills the placeholders; value gives a placeholder's text, "" when
// the field is missing or empty. As in UST, when any referenced field is
// missing the whole result is missing: ok is false and missing names the
// field. An unset format gives ("", "", false).
func (f Format) Render(value func(field string) string) (result, missing string, ok bool) {
	if !f.set {
		return "", "", false
	}
	var b strings.Builder
	for _, p := range f.parts {
		if p.field == "" {
			b.WriteString(p.literal)
			continue
		}
		v := value(p.field)
		if v == "" {
			return "", p.field, false
		}
		b.WriteString(v)
	}
	return b.String(), "", true
}

// Unreferenced lists names that none of formats references, in order and
// without duplicates: the extended attributes a connector still has to
// copy, since UST drops those a format already reads.
func Unreferenced(names []string, formats ...Format) []string {
	used := map[string]bool{}
	for _, f := range formats {
		for _, name := range f.Fields() {
			used[name] = true
		}
	}
	var out []string
	for _, n := range names {
		if !used[n] {
			used[n] = true
			out = append(out, n)
		}
	}
	return out
}
