package entra

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Format is a parsed attribute format string such as "{givenName}" or
// "{department}-{employeeId}": literal text with {name} placeholders, each
// naming a Microsoft Graph user property (a dotted path reaches into a
// complex property: {onPremisesExtensionAttributes.extensionAttribute1}).
// "{{" and "}}" are literal braces, as in Python's str.format. The zero
// Format is "not configured".
type Format struct {
	text  string
	parts []formatPart
	set   bool
}

type formatPart struct {
	literal string
	field   string // set for a placeholder
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
			if !validField(name) {
				return Format{}, fmt.Errorf("format %q: placeholder {%s} is not a Graph user property name (e.g. {mail})", s, name)
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

// validField accepts property names and dotted paths of them.
func validField(name string) bool {
	if name == "" {
		return false
	}
	for _, seg := range strings.Split(name, ".") {
		if seg == "" || (seg[0] >= '0' && seg[0] <= '9') {
			return false
		}
		for _, r := range seg {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
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

// Fields lists the properties the format references, in order.
func (f Format) Fields() []string {
	var out []string
	for _, p := range f.parts {
		if p.field != "" {
			out = append(out, p.field)
		}
	}
	return out
}

// Render fills the placeholders from a Graph user object. When any
// referenced property is missing, null or empty the whole result is
// missing: ok is false and missing names the property. An unset format
// gives ("", "", false).
func (f Format) Render(user map[string]any) (value, missing string, ok bool) {
	if !f.set {
		return "", "", false
	}
	var b strings.Builder
	for _, p := range f.parts {
		if p.field == "" {
			b.WriteString(p.literal)
			continue
		}
		s := scalarString(lookup(user, p.field))
		if s == "" {
			return "", p.field, false
		}
		b.WriteString(s)
	}
	return b.String(), "", true
}

// lookup follows a dotted path through nested objects; a list gives its
// first element.
func lookup(obj map[string]any, path string) any {
	var v any = obj
	for _, seg := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[seg]
	}
	if l, ok := v.([]any); ok {
		if len(l) == 0 {
			return nil
		}
		return l[0]
	}
	return v
}

// scalarString renders a JSON scalar; null, "" and false give "".
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
		return x.String()
	case float64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// attributeValue converts a Graph value to the shape core expects in
// DirectoryUser.Attributes: nil, a string, or a []string for lists.
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
