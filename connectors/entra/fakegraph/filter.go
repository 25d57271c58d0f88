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

// filter is an OData $filter: clauses joined by "and" and "or" ("and"
// binds tighter), with parentheses. A nil filter matches everything.
type filter struct {
	clause *clause
	op     string // "and" or "or" when clause is nil
	args   []*filter
}

// advanced reports whether Graph would need an advanced query for f.
func (f *filter) advanced() bool {
	if f == nil {
		return false
	}
	if f.clause != nil {
		return f.clause.op == "ne"
	}
	for _, a := range f.args {
		if a.advanced() {
			return true
		}
	}
	return false
}

func (f *filter) match(obj map[string]any) bool {
	if f == nil {
		return true
	}
	if f.clause != nil {
		return f.clause.match(obj)
	}
	for _, a := range f.args {
		if m := a.match(obj); m == (f.op == "or") {
			return m
		}
	}
	return f.op == "and"
}

func (c *clause) match(obj map[string]any) bool {
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
	return (c.op == "eq") == eq
}

// parseFilter parses clauses "prop eq|ne literal" joined by "and" and
// "or", with parentheses.
func parseFilter(s string) (*filter, error) {
	p := &parser{s: strings.TrimSpace(s)}
	if p.s == "" {
		return nil, nil
	}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.skip(); p.i < len(p.s) {
		return nil, fmt.Errorf("unexpected %q in filter", p.s[p.i:])
	}
	return f, nil
}

type parser struct {
	s string
	i int
}

func (p *parser) skip() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// word reads the next space- or parenthesis-delimited word.
func (p *parser) word() string {
	p.skip()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '(' && p.s[p.i] != ')' {
		p.i++
	}
	return p.s[start:p.i]
}

// keyword consumes kw when it is the next word.
func (p *parser) keyword(kw string) bool {
	save := p.i
	if p.word() == kw {
		return true
	}
	p.i = save
	return false
}

func (p *parser) or() (*filter, error) {
	return p.join("or", p.and)
}

func (p *parser) and() (*filter, error) {
	return p.join("and", p.factor)
}

func (p *parser) join(op string, next func() (*filter, error)) (*filter, error) {
	first, err := next()
	if err != nil {
		return nil, err
	}
	args := []*filter{first}
	for p.keyword(op) {
		f, err := next()
		if err != nil {
			return nil, err
		}
		args = append(args, f)
	}
	if len(args) == 1 {
		return first, nil
	}
	return &filter{op: op, args: args}, nil
}

func (p *parser) factor() (*filter, error) {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.skip(); p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, fmt.Errorf("missing ')' in filter")
		}
		p.i++
		return f, nil
	}
	c := clause{prop: p.word()}
	if c.prop == "" {
		return nil, fmt.Errorf("invalid filter clause near %q", p.s[p.i:])
	}
	if c.op = p.word(); c.op != "eq" && c.op != "ne" {
		return nil, fmt.Errorf("unsupported operator in filter clause near %q", c.prop+" "+c.op)
	}
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == '\'' {
		var b strings.Builder
		i := p.i + 1
		for ; i < len(p.s); i++ {
			if p.s[i] == '\'' {
				if i+1 < len(p.s) && p.s[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(p.s[i])
		}
		if i >= len(p.s) {
			return nil, fmt.Errorf("unterminated string literal")
		}
		c.value, p.i = b.String(), i+1
		return &filter{clause: &c}, nil
	}
	switch lit := p.word(); lit {
	case "true":
		c.value = true
	case "false":
		c.value = false
	case "null":
		c.value = nil
	default:
		return nil, fmt.Errorf("unsupported literal %q", lit)
	}
	return &filter{clause: &c}, nil
}
