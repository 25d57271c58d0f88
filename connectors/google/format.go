package google

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/usersync/usersync/core/attrformat"
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
type Format struct{ attrformat.Format }

// ParseFormat parses a format string.
func ParseFormat(s string) (Format, error) {
	f, err := attrformat.Parse(s, checkField)
	return Format{f}, err
}

// checkField accepts dotted field paths without empty segments.
func checkField(name string) error {
	if name == "" || strings.ContainsAny(name, "!:{[ ") {
		return fmt.Errorf("placeholder {%s} is not a user field path such as {primaryEmail} or {name.givenName}", name)
	}
	for _, seg := range strings.Split(name, ".") {
		if seg == "" {
			return fmt.Errorf("placeholder {%s} has an empty path segment", name)
		}
	}
	return nil
}

// mustFormat parses a built-in default.
func mustFormat(s string) Format { return Format{attrformat.Must(s, checkField)} }

// Render fills the placeholders from a user object. As in UST, when any
// referenced field is missing or empty the whole value is missing: ok is
// false and missing names the field.
func (f Format) Render(user map[string]any) (value, missing string, ok bool) {
	return f.Format.Render(func(field string) string { return scalarString(first(lookup(user, field))) })
}

// lookup follows a dotted field path through maps and lists.
func lookup(v any, path string) any {
	for rest, more := path, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, ".")
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
func attributeValue(v any) any { return attrformat.Attribute(v, scalarString) }
