package okta

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Format is a parsed attribute format string such as "{firstName}" or
// "{department}_{login}": literal text with {field} placeholders naming
// Okta profile fields, written as Python's str.format writes them ("{{"
// and "}}" are literal braces). The zero Format is "not configured".
type Format struct {
	text  string
	parts []formatPart
	set   bool
}

type formatPart struct {
	literal string
	field   string // set for a placeholder
}

// ParseFormat parses a format string. Conversions and format specs
// ("{x!r}", "{x:>10}") and positional fields ("{}", "{0}") are rejected:
// Okta formats only name profile fields.
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
			switch {
			case name == "":
				return Format{}, fmt.Errorf("format %q: empty placeholder {} (name a profile field, e.g. {email})", s)
			case strings.ContainsAny(name, "!:{[ "):
				return Format{}, fmt.Errorf("format %q: placeholder {%s} is not a plain profile field name", s, name)
			case name[0] >= '0' && name[0] <= '9':
				return Format{}, fmt.Errorf("format %q: positional placeholder {%s} (name a profile field, e.g. {email})", s, name)
			}
			flush()
			f.parts = append(f.parts, formatPart{field: name})
			i += end + 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return f, nil
}

// mustFormat parses a built-in default.
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

// Fields lists the profile fields the format references, in order.
func (f Format) Fields() []string {
	var out []string
	for _, p := range f.parts {
		if p.field != "" {
			out = append(out, p.field)
		}
	}
	return out
}

// Render fills the placeholders from an Okta profile. As in UST, when any
// referenced field is missing or empty the whole result is missing: ok is
// false and missing names the field. An unset format gives ("", "", false).
func (f Format) Render(profile map[string]any) (value, missing string, ok bool) {
	if !f.set {
		return "", "", false
	}
	var b strings.Builder
	for _, p := range f.parts {
		if p.field == "" {
			b.WriteString(p.literal)
			continue
		}
		v, present := profileString(profile, p.field)
		if !present {
			return "", p.field, false
		}
		b.WriteString(v)
	}
	return b.String(), "", true
}

// profileString reads one profile field as text. Empty values (null, "",
// false, 0, an empty list) count as missing, as Python's truthiness does in
// UST. A list gives its first element, as LDAP formats use the first value
// of a multi-valued attribute.
func profileString(profile map[string]any, field string) (string, bool) {
	v, ok := profile[field]
	if !ok {
		return "", false
	}
	if l, isList := v.([]any); isList {
		if len(l) == 0 {
			return "", false
		}
		v = l[0]
	}
	s := scalarString(v)
	return s, s != ""
}

// scalarString renders a JSON scalar as Python would print it; falsy
// values give "".
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
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// attributeValue converts a profile value to the shape core expects in
// DirectoryUser.Attributes: nil, a string, or a []string for lists.
func attributeValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		if len(x) == 0 {
			return nil
		}
		out := make([]string, 0, len(x))
		for _, e := range x {
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
