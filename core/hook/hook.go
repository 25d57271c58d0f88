// Package hook runs the extension's after_mapping_hook (UST §5) with
// Starlark, a dialect of Python, so that the hooks written for UST run
// unchanged where the two languages agree.
//
// The hook is run once for each selected directory user. All runs share one
// namespace, as in UST: a top-level variable the hook assigns for one user
// is still set for the next, and hook_storage (None at first, as in UST's
// code; UST's manual says an empty dict) keeps whatever the hook stores in
// it. The variables are:
//
//	source_attributes  dict: the source's raw attributes (None, string or list of strings)
//	source_groups      frozen set: the user's directory groups
//	target_attributes  dict: email, username, domain, firstname, lastname, country (in/out)
//	target_groups      set: qualified Adobe groups from the mapping (in/out)
//	hook_storage       anything; None until the hook sets it
//	logger             debug, info, warning (warn), error, critical (exception) methods
//
// Python compatibility: top-level if, for and while, sets, global
// reassignment and recursion are enabled, and the Python operators "is" and
// "is not" are read as == and != (Starlark has no identity test; for None,
// True and False the two mean the same). What remains different from
// Python: no import, try/except, class, with, f-strings or del; strings
// index and slice by byte, not by character; there is no isinstance (use
// type(x) == "string"). docs/extension.md lists the differences for users.
package hook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/usersync/usersync/core"
)

// MaxSteps bounds the Starlark computation steps of one hook run, so that a
// hook looping forever stops the run with an error instead of hanging it.
// Ten million steps take about a second; a typical hook takes under a
// hundred.
const MaxSteps = 10_000_000

// options are the Starlark dialect: as close to Python as Starlark goes.
var options = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
	Recursion:       true,
}

// The hook's variables.
const (
	varSourceAttributes = "source_attributes"
	varSourceGroups     = "source_groups"
	varTargetAttributes = "target_attributes"
	varTargetGroups     = "target_groups"
	varHookStorage      = "hook_storage"
	varLogger           = "logger"
)

var variables = []string{varSourceAttributes, varSourceGroups, varTargetAttributes, varTargetGroups, varHookStorage, varLogger}

// Hook is a compiled after_mapping_hook. It implements core.Hook; Run may be
// called from several goroutines, but runs one user at a time because the
// hook's namespace is shared.
//
// How the namespace is shared: Starlark gives every execution of a program
// fresh globals, and reading a global before the execution assigned it is
// an error. So each program starts with a generated first line that
// assigns, from the shared namespace, every top-level variable of the hook
// that earlier runs (or usersync) have set — hook_storage, counters, and
// target_groups if the hook rebinds it. The hook's own code follows on the
// lines of the extension file, one line below where Starlark counts, which
// every reported position corrects. Which variables have been set only
// grows, so the hook is compiled again at most once per variable.
type Hook struct {
	file string
	code string // "\n" + padding + Python-compatible source: line n+1 is file line n
	log  *slog.Logger
	// bound are the top-level variables the hook assigns.
	bound []string
	// maxSteps is MaxSteps, lowered by tests.
	maxSteps uint64

	mu sync.Mutex
	// globals is the shared namespace: the variables of the current user,
	// hook_storage, and every top-level variable the hook has assigned.
	globals starlark.StringDict
	// prog is compiled to seed seeded of the bound variables.
	prog   *starlark.Program
	seeded int
}

var _ core.Hook = (*Hook)(nil)

// nsName is the predeclared name under which the prologue reads the shared
// namespace.
const nsName = "_usersync_namespace"

// Compile checks the hook's source and prepares it to run. file is the
// extension file and line the line of that file on which src's first line
// is written (for a YAML block scalar, "after_mapping_hook: |" on line L,
// that is L+1), so that errors name the line of the extension file. Syntax
// errors and names that are never defined are reported here, with file and
// line. logger is the hook's logger variable; nil discards.
func Compile(file string, line int, src string, logger *slog.Logger) (*Hook, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if line < 1 {
		line = 1
	}
	h := &Hook{
		file:     file,
		code:     "\n" + strings.Repeat("\n", line-1) + pythonCompat(src),
		log:      logger,
		maxSteps: MaxSteps,
	}
	h.globals = starlark.StringDict{varHookStorage: starlark.None}
	f, prog, err := h.compile(nil)
	if err != nil {
		return nil, err
	}
	for _, b := range f.Module.(*resolve.Module).Globals {
		if b.First != nil && !slices.Contains(h.bound, b.First.Name) {
			h.bound = append(h.bound, b.First.Name)
		}
	}
	h.prog = prog
	return h, nil
}

// compile compiles the hook with a prologue assigning the seed variables
// from the shared namespace.
func (h *Hook) compile(seed []string) (*syntax.File, *starlark.Program, error) {
	var pro strings.Builder
	for i, name := range seed {
		if i > 0 {
			pro.WriteString("; ")
		}
		fmt.Fprintf(&pro, "%s = %s[%q]", name, nsName, name)
	}
	f, err := options.Parse(h.file, pro.String()+h.code, 0)
	if err != nil {
		return nil, nil, compileError(err)
	}
	isPredeclared := func(name string) bool { return name == nsName || slices.Contains(variables, name) }
	prog, err := starlark.FileProgram(f, isPredeclared)
	if err != nil {
		return nil, nil, compileError(err)
	}
	return f, prog, nil
}

// fileLine converts a Starlark line to a line of the extension file.
func fileLine(line int32) int32 { return line - 1 }

func compileError(err error) error {
	var list resolve.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		msgs := make([]string, len(list))
		for i, e := range list {
			msgs[i] = fmt.Sprintf("%s:%d: %s", e.Pos.Filename(), fileLine(e.Pos.Line), e.Msg)
		}
		return core.Errorf(core.CodeInvalidInput, "", "%s", strings.Join(msgs, "; "))
	}
	var se syntax.Error
	if errors.As(err, &se) {
		return core.Errorf(core.CodeInvalidInput, "", "%s:%d: %s", se.Pos.Filename(), fileLine(se.Pos.Line), se.Msg)
	}
	return &core.Error{Code: core.CodeInvalidInput, Op: "after_mapping_hook", Err: err}
}

// Storage returns the current value of hook_storage, for tests and
// debugging output.
func (h *Hook) Storage() starlark.Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.globals[varHookStorage]
}

// Run runs the hook for one user, reading hc's variables and writing back
// target_attributes (the keys hc.TargetAttributes had) and target_groups.
// An error in the hook is returned naming the extension file and line.
func (h *Hook) Run(ctx context.Context, hc *core.HookContext) error {
	if err := ctx.Err(); err != nil {
		return &core.Error{Code: core.CodeCanceled, Op: "after_mapping_hook", Err: err}
	}
	h.mu.Lock()
	defer h.mu.Unlock()

	srcAttrs, err := toDict(hc.SourceAttributes)
	if err != nil {
		return &core.Error{Code: core.CodeInvalidInput, Op: "after_mapping_hook: source_attributes", Err: err}
	}
	srcGroups := toSet(hc.SourceGroups)
	srcGroups.Freeze() // a frozenset in UST
	tgtAttrs, err := toDict(hc.TargetAttributes)
	if err != nil {
		return &core.Error{Code: core.CodeInvalidInput, Op: "after_mapping_hook: target_attributes", Err: err}
	}
	h.globals[varSourceAttributes] = srcAttrs
	h.globals[varSourceGroups] = srcGroups
	h.globals[varTargetAttributes] = tgtAttrs
	h.globals[varTargetGroups] = toSet(hc.TargetGroups)
	h.globals[varLogger] = &loggerValue{emit: h.emit}
	h.globals[nsName] = namespace(h.globals)

	// Seed every bound variable the namespace has. The set only grows, so
	// its size says whether the program at hand still fits.
	var seed []string
	for _, name := range h.bound {
		if _, ok := h.globals[name]; ok {
			seed = append(seed, name)
		}
	}
	if len(seed) != h.seeded {
		_, prog, err := h.compile(seed)
		if err != nil {
			return err
		}
		h.prog, h.seeded = prog, len(seed)
	}

	thread := &starlark.Thread{
		Name:  "after_mapping_hook",
		Print: func(_ *starlark.Thread, msg string) { h.log.Info(msg) },
	}
	thread.SetMaxExecutionSteps(h.maxSteps)
	stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
	g, err := h.prog.Init(thread, h.globals)
	stop()
	// Assignments reach the shared namespace even when the run failed
	// part-way, as in UST.
	for k, v := range g {
		h.globals[k] = v
	}
	if err != nil {
		if ctx.Err() != nil {
			return &core.Error{Code: core.CodeCanceled, Op: "after_mapping_hook", Err: ctx.Err()}
		}
		return h.runError(err)
	}
	return h.readBack(h.globals, hc)
}

func (h *Hook) emit(r logRecord) {
	if r.line > 0 {
		h.log.Log(context.Background(), r.level, r.msg, "hook_line", fileLine(r.line))
		return
	}
	h.log.Log(context.Background(), r.level, r.msg)
}

// readBack copies target_attributes and target_groups from the namespace
// into hc.
func (h *Hook) readBack(ns starlark.StringDict, hc *core.HookContext) error {
	out, err := fromTargetAttributes(ns[varTargetAttributes], hc.TargetAttributes)
	if err != nil {
		return core.Errorf(core.CodeInvalidInput, "", "%s: %v", h.file, err)
	}
	groups, err := fromTargetGroups(ns[varTargetGroups])
	if err != nil {
		return core.Errorf(core.CodeInvalidInput, "", "%s: %v", h.file, err)
	}
	hc.TargetAttributes = out
	hc.TargetGroups = groups
	return nil
}

// namespace lets the prologue read the shared namespace: ns["name"].
type namespace starlark.StringDict

var _ starlark.Mapping = namespace(nil)

func (n namespace) String() string        { return nsName }
func (n namespace) Type() string          { return "namespace" }
func (n namespace) Freeze()               {}
func (n namespace) Truth() starlark.Bool  { return starlark.True }
func (n namespace) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: namespace") }

func (n namespace) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return nil, false, nil
	}
	v, found := n[string(s)]
	return v, found, nil
}

// runError names the innermost line of the hook at which err happened.
func (h *Hook) runError(err error) error {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		msg := ee.Msg
		for i := range ee.CallStack {
			fr := ee.CallStack.At(i)
			if fr.Pos.Filename() == h.file {
				return core.Errorf(core.CodeInvalidInput, "", "%s:%d: %s", h.file, fileLine(fr.Pos.Line), msg)
			}
		}
		return core.Errorf(core.CodeInvalidInput, "", "%s: %s", h.file, msg)
	}
	return compileError(err)
}

// toValue converts a Go attribute value to Starlark: nil is None, strings
// stay strings, lists of strings become lists.
func toValue(v any) (starlark.Value, error) {
	switch v := v.(type) {
	case nil:
		return starlark.None, nil
	case string:
		return starlark.String(v), nil
	case []string:
		l := make([]starlark.Value, len(v))
		for i, s := range v {
			l[i] = starlark.String(s)
		}
		return starlark.NewList(l), nil
	case []any:
		l := make([]starlark.Value, len(v))
		for i, e := range v {
			sv, err := toValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = sv
		}
		return starlark.NewList(l), nil
	case bool:
		return starlark.Bool(v), nil
	case int:
		return starlark.MakeInt(v), nil
	case int64:
		return starlark.MakeInt64(v), nil
	case float64:
		return starlark.Float(v), nil
	case map[string]any: // nested profile objects (Okta)
		return toDict(v)
	}
	return nil, fmt.Errorf("unsupported value %#v", v)
}

func toDict(m map[string]any) (*starlark.Dict, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d := starlark.NewDict(len(m))
	for _, k := range keys {
		v, err := toValue(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		_ = d.SetKey(starlark.String(k), v)
	}
	return d, nil
}

func toSet(names []string) *starlark.Set {
	s := starlark.NewSet(len(names))
	for _, n := range names {
		_ = s.Insert(starlark.String(n))
	}
	return s
}

// fromTargetAttributes reads back the keys the engine passed in; keys the
// hook adds have no effect (UST's rule).
func fromTargetAttributes(v starlark.Value, in map[string]any) (map[string]any, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("target_attributes must stay a dict, not %s", v.Type())
	}
	out := make(map[string]any, len(in))
	for k := range in {
		val, found, err := d.Get(starlark.String(k))
		if err != nil {
			return nil, err
		}
		switch val := val.(type) {
		case nil:
			if !found {
				out[k] = nil // the hook deleted the key
			}
		case starlark.NoneType:
			out[k] = nil
		case starlark.String:
			out[k] = string(val)
		default:
			return nil, fmt.Errorf("target_attributes[%q] must be a string or None, not %s %s", k, val.Type(), val)
		}
	}
	return out, nil
}

func fromTargetGroups(v starlark.Value) ([]string, error) {
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("target_groups must stay a set, not %s", v.Type())
	}
	iter := it.Iterate()
	defer iter.Done()
	var out []string
	var x starlark.Value
	for iter.Next(&x) {
		s, ok := x.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("target_groups may hold only group names (strings), not %s %s", x.Type(), x)
		}
		if !slices.Contains(out, string(s)) {
			out = append(out, string(s))
		}
	}
	return out, nil
}
