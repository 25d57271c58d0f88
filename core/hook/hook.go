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
// Python: no import, try/except, class, with, f-strings or del of globals;
// strings index and slice by byte, not by character; integers do not mix
// with floats implicitly in every place Python allows; there is no
// isinstance (use type(x) == "string").
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
type Hook struct {
	file string
	src  string // the Python-compatible source, padded so lines are file lines
	log  *slog.Logger
	// maxSteps is MaxSteps, lowered by tests.
	maxSteps uint64

	mu sync.Mutex
	// globals is the shared namespace: hook_storage and every top-level
	// variable the hook has assigned.
	globals starlark.StringDict
	// prog is the hook compiled once, used while no run has needed the
	// shared namespace; nil after one has.
	prog *starlark.Program
}

var _ core.Hook = (*Hook)(nil)

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
		file: file,
		src:  strings.Repeat("\n", line-1) + pythonCompat(src),
		log:  logger,

		maxSteps: MaxSteps,
	}
	h.globals = starlark.StringDict{varHookStorage: starlark.None}
	f, err := options.Parse(file, h.src, 0)
	if err != nil {
		return nil, compileError(err)
	}
	isVar := func(name string) bool { return slices.Contains(variables, name) }
	h.prog, err = starlark.FileProgram(f, isVar)
	if err != nil {
		return nil, compileError(err)
	}
	return h, nil
}

func compileError(err error) error {
	var list resolve.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		msgs := make([]string, len(list))
		for i, e := range list {
			msgs[i] = fmt.Sprintf("%s:%d: %s", e.Pos.Filename(), e.Pos.Line, e.Msg)
		}
		return core.Errorf(core.CodeInvalidInput, "", "%s", strings.Join(msgs, "; "))
	}
	var se syntax.Error
	if errors.As(err, &se) {
		return core.Errorf(core.CodeInvalidInput, "", "%s:%d: %s", se.Pos.Filename(), se.Pos.Line, se.Msg)
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
//
// Runs share one namespace (see the package documentation). Most hooks only
// read a top-level variable after assigning it in the same run; for them
// the shared namespace cannot be observed, and Run executes the program
// compiled once (fast). The first run that reads a variable left by an
// earlier run fails that way with "referenced before assignment"; its
// effects are discarded (its log lines are held back until a run
// succeeds) and from then on every run re-executes the source in the
// shared namespace, as UST does, which costs a parse and compile per user.
func (h *Hook) Run(ctx context.Context, hc *core.HookContext) error {
	if err := ctx.Err(); err != nil {
		return &core.Error{Code: core.CodeCanceled, Op: "after_mapping_hook", Err: err}
	}
	h.mu.Lock()
	defer h.mu.Unlock()

	if h.prog != nil {
		vars, err := h.variables(hc)
		if err != nil {
			return err
		}
		var held []logRecord
		vars[varLogger] = &loggerValue{emit: func(r logRecord) { held = append(held, r) }}
		thread := h.thread(func(msg string) { held = append(held, logRecord{slog.LevelInfo, msg, 0}) })
		stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
		g, err := h.prog.Init(thread, vars)
		stop()
		var ee *starlark.EvalError
		if err == nil || !errors.As(err, &ee) || !strings.Contains(ee.Msg, "referenced before assignment") {
			for _, r := range held {
				h.emit(r)
			}
			// Keep the namespace up to date, for the shared-namespace runs
			// that may follow.
			for k, v := range g {
				h.globals[k] = v
			}
			for _, k := range variables {
				if _, ok := g[k]; !ok && k != varLogger {
					h.globals[k] = vars[k]
				}
			}
			if err != nil {
				return h.execError(ctx, err)
			}
			return h.readBack(h.globals, hc)
		}
		h.prog = nil // this hook relies on the shared namespace
	}

	vars, err := h.variables(hc)
	if err != nil {
		return err
	}
	for k, v := range vars {
		h.globals[k] = v
	}
	thread := h.thread(func(msg string) { h.log.Info(msg) })
	stop := context.AfterFunc(ctx, func() { thread.Cancel(context.Cause(ctx).Error()) })
	defer stop()
	// The parsed tree is resolved in place against the current globals, so
	// it is parsed afresh for each run.
	f, err := options.Parse(h.file, h.src, 0)
	if err != nil {
		return compileError(err)
	}
	if err := starlark.ExecREPLChunk(f, thread, h.globals); err != nil {
		return h.execError(ctx, err)
	}
	return h.readBack(h.globals, hc)
}

// variables returns the per-user variables, hook_storage and the logger.
func (h *Hook) variables(hc *core.HookContext) (starlark.StringDict, error) {
	srcAttrs, err := toDict(hc.SourceAttributes)
	if err != nil {
		return nil, &core.Error{Code: core.CodeInvalidInput, Op: "after_mapping_hook: source_attributes", Err: err}
	}
	srcGroups := toSet(hc.SourceGroups)
	srcGroups.Freeze() // a frozenset in UST
	tgtAttrs, err := toDict(hc.TargetAttributes)
	if err != nil {
		return nil, &core.Error{Code: core.CodeInvalidInput, Op: "after_mapping_hook: target_attributes", Err: err}
	}
	return starlark.StringDict{
		varSourceAttributes: srcAttrs,
		varSourceGroups:     srcGroups,
		varTargetAttributes: tgtAttrs,
		varTargetGroups:     toSet(hc.TargetGroups),
		varHookStorage:      h.globals[varHookStorage],
		varLogger:           &loggerValue{emit: h.emit},
	}, nil
}

func (h *Hook) thread(print func(string)) *starlark.Thread {
	t := &starlark.Thread{Name: "after_mapping_hook", Print: func(_ *starlark.Thread, msg string) { print(msg) }}
	t.SetMaxExecutionSteps(h.maxSteps)
	return t
}

func (h *Hook) emit(r logRecord) {
	if r.line > 0 {
		h.log.Log(context.Background(), r.level, r.msg, "hook_line", r.line)
		return
	}
	h.log.Log(context.Background(), r.level, r.msg)
}

func (h *Hook) execError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &core.Error{Code: core.CodeCanceled, Op: "after_mapping_hook", Err: ctx.Err()}
	}
	return h.runError(err)
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

// runError names the innermost line of the hook at which err happened.
func (h *Hook) runError(err error) error {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		msg := ee.Msg
		for i := range ee.CallStack {
			fr := ee.CallStack.At(i)
			if fr.Pos.Filename() == h.file {
				return core.Errorf(core.CodeInvalidInput, "", "%s:%d: %s", h.file, fr.Pos.Line, msg)
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
