package okta

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// DefaultAllUsersFilter is UST's default all_users_filter.
const DefaultAllUsersFilter = `user.status == "ACTIVE"`

// maxFilterSteps bounds one evaluation, so that a runaway expression
// (a comprehension over range(10**9)) fails instead of hanging the sync.
const maxFilterSteps = 1_000_000

// Filter is a compiled all_users_filter: a Starlark expression over the
// variable user, which holds the Okta user object as the API returns it
// (user.id, user.status, user.profile.email, ...). UST evaluated the same
// text as Python; the common Python forms work unchanged, and "x is None" /
// "x is not None" are accepted and read as == / !=.
type Filter struct {
	src string
	fn  *starlark.Function
}

// lambdaPrefix wraps the expression so that it is compiled once and called
// per user with user bound as a parameter.
const lambdaPrefix = "lambda user: ("

// CompileFilter compiles an all_users_filter expression. Syntax errors and
// references to unknown names are reported here, before any request is made.
func CompileFilter(src string) (*Filter, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("the expression is empty")
	}
	text := rewriteIs(src)
	opts := &syntax.FileOptions{}
	if _, err := opts.ParseExpr("all_users_filter", text, 0); err != nil {
		return nil, fmt.Errorf("invalid expression %q: %s", src, syntaxMessage(err))
	}
	thread := &starlark.Thread{Name: "all_users_filter"}
	v, err := starlark.EvalOptions(opts, thread, "all_users_filter", lambdaPrefix+text+"\n)", filterBuiltins)
	if err != nil {
		return nil, fmt.Errorf("invalid expression %q: %s", src, syntaxMessage(err))
	}
	fn, ok := v.(*starlark.Function)
	if !ok {
		return nil, fmt.Errorf("invalid expression %q", src)
	}
	return &Filter{src: src, fn: fn}, nil
}

// String returns the expression as written.
func (f *Filter) String() string { return f.src }

// Match evaluates the filter for one user object (the decoded JSON of an
// Okta user). An evaluation error is returned, never read as "no match":
// a filter that silently drops everyone would look like users to remove.
func (f *Filter) Match(user map[string]any) (bool, error) {
	thread := &starlark.Thread{Name: "all_users_filter", Print: func(*starlark.Thread, string) {}}
	thread.SetMaxExecutionSteps(maxFilterSteps)
	v, err := starlark.Call(thread, f.fn, starlark.Tuple{newObject("user", user)}, nil)
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*starlark.EvalError); ok {
			msg = ee.Msg // the backtrace would point into the wrapper
		}
		return false, fmt.Errorf("all_users_filter %q failed: %s", f.src, msg)
	}
	return bool(v.Truth()), nil
}

// syntaxMessage strips the synthetic file name and position from a
// Starlark compile error; positions would point into the wrapper.
func syntaxMessage(err error) string {
	if se, ok := err.(syntax.Error); ok {
		return se.Msg
	}
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "all_users_filter:") {
		return msg[i+2:]
	}
	return msg
}

// rewriteIs turns Python's "is not" and "is" (outside string literals) into
// != and ==, since Starlark has no identity operator. With None, True and
// False, the only values UST's examples compare by identity, the meaning is
// the same.
func rewriteIs(src string) string {
	var b strings.Builder
	isWordByte := func(c byte) bool {
		return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(src); {
		c := src[i]
		if c == '"' || c == '\'' {
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(src))
			b.WriteString(src[i:j])
			i = j
			continue
		}
		if c == '#' { // a comment runs to the end of the line
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			b.WriteString(src[i : i+j])
			i += j
			continue
		}
		if isWordByte(c) {
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			word := src[i:j]
			if word == "is" {
				k := j
				for k < len(src) && (src[k] == ' ' || src[k] == '\t') {
					k++
				}
				if strings.HasPrefix(src[k:], "not") && (k+3 == len(src) || !isWordByte(src[k+3])) {
					b.WriteString("!=")
					i = k + 3
					continue
				}
				b.WriteString("==")
				i = j
				continue
			}
			b.WriteString(word)
			i = j
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// filterBuiltins adds the builtins UST allowed that Starlark lacks (map,
// filter, sum); the rest of UST's list (len, int, str, getattr, hasattr,
// sorted, ...) are Starlark builtins already.
var filterBuiltins = starlark.StringDict{
	"sum": starlark.NewBuiltin("sum", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var it starlark.Iterable
		var start starlark.Value = starlark.MakeInt(0)
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &it, &start); err != nil {
			return nil, err
		}
		iter := it.Iterate()
		defer iter.Done()
		acc := start
		var x starlark.Value
		for iter.Next(&x) {
			var err error
			if acc, err = starlark.Binary(syntax.PLUS, acc, x); err != nil {
				return nil, err
			}
		}
		return acc, nil
	}),
	"map": starlark.NewBuiltin("map", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var fn starlark.Callable
		var it starlark.Iterable
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &it); err != nil {
			return nil, err
		}
		iter := it.Iterate()
		defer iter.Done()
		var out []starlark.Value
		var x starlark.Value
		for iter.Next(&x) {
			y, err := starlark.Call(thread, fn, starlark.Tuple{x}, nil)
			if err != nil {
				return nil, err
			}
			out = append(out, y)
		}
		return starlark.NewList(out), nil
	}),
	"filter": starlark.NewBuiltin("filter", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var fn starlark.Value
		var it starlark.Iterable
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &fn, &it); err != nil {
			return nil, err
		}
		iter := it.Iterate()
		defer iter.Done()
		var out []starlark.Value
		var x starlark.Value
		for iter.Next(&x) {
			keep := x.Truth()
			if fn != starlark.None {
				y, err := starlark.Call(thread, fn, starlark.Tuple{x}, nil)
				if err != nil {
					return nil, err
				}
				keep = y.Truth()
			}
			if keep {
				out = append(out, x)
			}
		}
		return starlark.NewList(out), nil
	}),
}

// object presents a JSON object to Starlark with both attribute access
// (user.profile.email, as UST's Python SDK objects offered) and index
// access (user["profile"]["email"]). A field the object does not have is
// an error naming it, so that a misspelt field stops the sync rather than
// filtering everyone out; getattr(x, "field", None) reads optional fields.
type object struct {
	path string
	m    map[string]any
}

var (
	_ starlark.HasAttrs = (*object)(nil)
	_ starlark.Mapping  = (*object)(nil)
)

func newObject(path string, m map[string]any) *object { return &object{path: path, m: m} }

func (o *object) String() string {
	b, err := json.Marshal(o.m)
	if err != nil {
		return "{...}"
	}
	return string(b)
}

func (o *object) Type() string          { return "okta_object" }
func (o *object) Freeze()               {}
func (o *object) Truth() starlark.Bool  { return len(o.m) > 0 }
func (o *object) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: okta_object") }

func (o *object) Attr(name string) (starlark.Value, error) {
	v, ok := o.m[name]
	if !ok {
		return nil, nil // Starlark reports "has no .name field or method"; hasattr is False
	}
	return toStarlark(o.path+"."+name, v), nil
}

func (o *object) AttrNames() []string {
	names := make([]string, 0, len(o.m))
	for k := range o.m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (o *object) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return nil, false, fmt.Errorf("%s: keys are strings, not %s", o.path, k.Type())
	}
	v, found := o.m[string(s)]
	if !found {
		return nil, false, nil
	}
	return toStarlark(o.path+"."+string(s), v), true, nil
}

// toStarlark converts decoded JSON (with json.Number) to Starlark values.
func toStarlark(path string, v any) starlark.Value {
	switch x := v.(type) {
	case nil:
		return starlark.None
	case string:
		return starlark.String(x)
	case bool:
		return starlark.Bool(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return starlark.MakeInt64(i)
		}
		f, _ := x.Float64()
		return starlark.Float(f)
	case float64:
		return starlark.Float(x)
	case []any:
		elems := make([]starlark.Value, len(x))
		for i, e := range x {
			elems[i] = toStarlark(fmt.Sprintf("%s[%d]", path, i), e)
		}
		l := starlark.NewList(elems)
		l.Freeze()
		return l
	case map[string]any:
		return newObject(path, x)
	}
	return starlark.String(fmt.Sprint(v))
}
