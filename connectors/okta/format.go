package okta

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/usersync/usersync/core/attrformat"
)

// Format is a parsed attribute format string such as "{firstName}" or
// "{department}_{login}": literal text with {field} placeholders naming
// Okta profile fields, written as Python's str.format writes them ("{{"
// and "}}" are literal braces). The zero Format is "not configured".
type Format struct{ attrformat.Format }

// ParseFormat parses a format string. Conversions and format specs
// ("{x!r}", "{x:>10}") and positional fields ("{}", "{0}") are rejected:
// Okta formats only name profile fields.
func ParseFormat(s string) (Format, error) {
	f, err := attrformat.Parse(s, checkField)
	return Format{f}, err
}

// checkField accepts plain profile field names.
func checkField(name string) error {
	switch {
	case name == "":
		return errors.New("empty placeholder {} (name a profile field, e.g. {email})")
	case strings.ContainsAny(name, "!:{[ "):
		return fmt.Errorf("placeholder {%s} is not a plain profile field name", name)
	case name[0] >= '0' && name[0] <= '9':
		return fmt.Errorf("positional placeholder {%s} (name a profile field, e.g. {email})", name)
	}
	return nil
}

// mustFormat parses a built-in default.
func mustFormat(s string) Format { return Format{attrformat.Must(s, checkField)} }

// Render fills the placeholders from an Okta profile. As in UST, when any
// referenced field is missing or empty the whole result is missing: ok is
// false and missing names the field. An unset format gives ("", "", false).
func (f Format) Render(profile map[string]any) (value, missing string, ok bool) {
	return f.Format.Render(func(field string) string { return profileString(profile, field) })
}

// profileString reads one profile field as text, "" when missing. Empty
// values (null, "", false, 0, an empty list) count as missing, as Python's
// truthiness does in UST. A list gives its first element, as LDAP formats use the first value
// of a multi-valued attribute.
func profileString(profile map[string]any, field string) string {
	v, ok := profile[field]
	if !ok {
		return ""
	}
	if l, isList := v.([]any); isList {
		if len(l) == 0 {
			return ""
		}
		v = l[0]
	}
	return scalarString(v)
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
func attributeValue(v any) any { return attrformat.Attribute(v, scalarString) }
