package fakegraph

import (
	"fmt"
	"strings"
)

// clause is "prop op literal".
type clause struct {
	prop, op string
	value    any // string, bool or nil
}

// filter is clauses joined by "and" (terms), terms joined by "or": OData
// binds "and" tighter than "or".
type filter [][]clause

// advanced reports whether Graph would need an advanced query for f.
func (f filter) advanced() bool {
	for _, t := range f {
		for _, c := range t {
			if c.op == "ne" {
				return true
			}
		}
	}
	return false
}

func (f filter) match(obj map[string]any) bool {
	if len(f) == 0 {
		return true
	}
	for _, t := range f {
		if matchAll(t, obj) {
			return true
		}
	}
	return false
}

func matchAll(t []clause, obj map[string]any) bool {
	for _, c := range t {
		v := obj[c.prop]
		var eq bool
		switch want := c.value.(type) {
		case string:
			s, ok := v.(string)
			eq = ok && strings.EqualFold(s, want)
		case bool:
			b, ok := v.(bool)
			eq = ok && b == want
		case nil:
			eq = v == nil
		}
		if (c.op == "eq") != eq {
			return false
		}
	}
	return true
}

// parseFilter parses clauses joined by " and " and " or ".
func parseFilter(s string) (filter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	f := filter{nil}
	for s != "" {
		prop, rest, ok := strings.Cut(s, " ")
		if !ok {
			return nil, fmt.Errorf("invalid filter clause near %q", s)
		}
		op, rest, ok := strings.Cut(strings.TrimSpace(rest), " ")
		if !ok || (op != "eq" && op != "ne") {
			return nil, fmt.Errorf("unsupported operator in filter clause near %q", s)
		}
		rest = strings.TrimSpace(rest)
		c := clause{prop: prop, op: op}
		switch {
		case strings.HasPrefix(rest, "'"):
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				if rest[i] == '\'' {
					if i+1 < len(rest) && rest[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					break
				}
				b.WriteByte(rest[i])
			}
			if i >= len(rest) {
				return nil, fmt.Errorf("unterminated string literal")
			}
			c.value, rest = b.String(), rest[i+1:]
		default:
			lit, r, _ := strings.Cut(rest, " ")
			switch lit {
			case "true":
				c.value = true
			case "false":
				c.value = false
			case "null":
				c.value = nil
			default:
				return nil, fmt.Errorf("unsupported literal %q", lit)
			}
			rest = " " + r
		}
		f[len(f)-1] = append(f[len(f)-1], c)
		rest = strings.TrimSpace(rest)
		if rest == "" {
			break
		}
		if after, ok := strings.CutPrefix(rest, "or "); ok {
			f = append(f, nil)
			s = strings.TrimSpace(after)
			continue
		}
		after, ok := strings.CutPrefix(rest, "and ")
		if !ok {
			return nil, fmt.Errorf("only 'and' and 'or' join filter clauses here (near %q)", rest)
		}
		s = strings.TrimSpace(after)
	}
	return f, nil
}
