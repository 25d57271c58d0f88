package entra

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/usersync/usersync/core/attrformat"
)

// Format is a parsed attribute format string such as "{givenName}" or
// "{department}-{employeeId}": literal text with {name} placeholders, each
// naming a Microsoft Graph user property (a dotted path reaches into a
// complex property: {onPremisesExtensionAttributes.extensionAttribute1}).
// "{{" and "}}" are literal braces, as in Python's str.format. The zero
// Format is "not configured".
type Format struct{ attrformat.Format }

// ParseFormat parses a format string.
func ParseFormat(s string) (Format, error) {
	f, err := attrformat.Parse(s, checkField)
	return Format{f}, err
}

// checkField accepts Graph property names and dotted paths of them.
func checkField(name string) error {
	if !validField(name) {
		return fmt.Errorf("placeholder {%s} is not a Graph user property name (e.g. {mail})", name)
	}
	return nil
}

// mustFormat parses a built-in default.
func mustFormat(s string) Format { return Format{attrformat.Must(s, checkField)} }

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

// Render fills the placeholders from a Graph user object. When any
// referenced property is missing, null or empty the whole result is
// missing: ok is false and missing names the property. An unset format
// gives ("", "", false).
func (f Format) Render(user map[string]any) (value, missing string, ok bool) {
	return f.Format.Render(func(field string) string { return scalarString(lookup(user, field)) })
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
func attributeValue(v any) any { return attrformat.Attribute(v, scalarString) }
