package google

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The default formats: the primary email, the name parts, and the country
// code of the work address.
const (
	DefaultEmailFormat     = "{primaryEmail}"
	DefaultGivenNameFormat = "{name.givenName}"
	DefaultSurnameFormat   = "{name.familyName}"
	DefaultCountryFormat   = "{addresses.work.countryCode}"
)

// Format is a parsed attribute format such as "{name.givenName}": literal
// text with {path} placeholders naming Directory API user fields. A path is
// dotted; on a list, a segment selects the element whose "type" is that
// segment ("addresses.work"), "primary" the element marked primary, and a
// number an index; a path that ends on a list takes its first element.
// "{{" and "}}" are literal braces. The zero Format is "not configured".
type Format struct {
	text  string
	parts []formatPart
	set   bool
}

type formatPart struct {
	literal string
	path    []string // set for a placeholder
}

// ParseFormat parses a format string.
func ParseFormat(s string) (Format, error) {
	f := Format{text: s, set: true}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.parts = append(f.parts, formatPart{literal: lit.String()})
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
			if name == "" || strings.ContainsAny(name, "!:{[ ") {
				return Format{}, fmt.Errorf("format %q: placeholder {%s} is not a user field path such as {primaryEmail} or {name.givenName}", s, name)
			}
			path := strings.Split(name, ".")
			for _, seg := range path {
				if seg == "" {
					return Format{}, fmt.Errorf("format %q: placeholder {%s} has an empty path segment", s, name)
				}
			}
			flush()
			f.parts = append(f.parts, formatPart{path: path})
			i += end + 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return f, nil
}

func mustFormat(s string) Format {
	f, err := ParseFormat(s)
	if err != nil {
		panic(err)
	}
	return f
}

// IsSet reports whether the format was configured.
func (f Format) IsSet() bool { return f.set }

// String returns the format as written.
func (f Format) String() string { return f.text }

// Fields lists the field paths the format references, dotted.
func (f Format) Fields() []string {
	var out []string
	for _, p := range f.parts {
		if p.path != nil {
			out = append(out, strings.Join(p.path, "."))
		}
	}
	return out
}

// Render fills the placeholders from a user object. As in UST, when any
// referenced field is missing or empty the whole value is missing: ok is
// false and missing names the field.
func (f Format) Render(user map[string]any) (value, missing string, ok bool) {
	if !f.set {
		return "", "", false
	}
	var b strings.Builder
	for _, p := range f.parts {
		if p.path == nil {
			b.WriteString(p.literal)
			continue
		}
		s := scalarString(first(lookup(user, p.path)))
		if s == "" {
			return "", strings.Join(p.path, "."), false
		}
		b.WriteString(s)
	}
	return b.String(), "", true
}

// lookup follows a field path through maps and lists.
func lookup(v any, path []string) any {
	for _, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			v = pick(x, seg)
		default:
			return nil
		}
		if v == nil {
			return nil
		}
	}
	return v
}

// first is a list's first element, or v itself.
func first(v any) any {
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			return nil
		}
		return l[0]
	}
	return v
}

// pick selects a list element by index, by "type", or the primary one.
func pick(l []any, seg string) any {
	if i, err := strconv.Atoi(seg); err == nil {
		if i >= 0 && i < len(l) {
			return l[i]
		}
		return nil
	}
	for _, e := range l {
		m, _ := e.(map[string]any)
		if seg == "primary" {
			if p, _ := m["primary"].(bool); p {
				return m
			}
			continue
		}
		if t, _ := m["type"].(string); strings.EqualFold(t, seg) {
			return m
		}
	}
	return nil
}

// scalarString renders a JSON scalar; falsy values give "".
func scalarString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return ""
	case json.Number:
		if f, err := x.Float64(); err == nil && f == 0 {
			return ""
		}
		return x.String()
	case float64:
		if x == 0 {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// attributeValue converts a field value to the shape core expects in
// DirectoryUser.Attributes: nil, a string, or a []string for lists of
// scalars.
func attributeValue(v any) any {
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			return nil
		}
		out := make([]string, 0, len(l))
		for _, e := range l {
			if s := scalarString(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s := scalarString(v); s != "" {
		return s
	}
	return nil
}
