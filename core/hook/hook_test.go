package hook_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/hook"
)

// docExample is the after_mapping_hook of UST's advanced-configuration
// documentation, exactly as printed there.
const docExample = `bc = source_attributes['bc']
subco = source_attributes['subco']
if bc is not None:
    target_attributes['country'] = bc[0:2]
if subco is not None:
    target_groups.add('Undefined subco')
`

func targetAttrs(email, country string) map[string]any {
	m := map[string]any{"email": email, "username": email, "domain": nil, "firstname": "Ana", "lastname": "Ruiz", "country": nil}
	if country != "" {
		m["country"] = country
	}
	return m
}

func TestDocumentationExample(t *testing.T) {
	h, err := hook.Compile("extension-config.yml", 8, docExample, nil)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	tests := []struct {
		name       string
		attrs      map[string]any
		wantAttrs  map[string]any
		wantGroups []string
	}{
		{"both attributes", map[string]any{"bc": "US1234", "subco": "West"},
			targetAttrs("a@example.org", "US"), []string{"Design Team", "Undefined subco"}},
		{"neither attribute (None)", map[string]any{"bc": nil, "subco": nil},
			targetAttrs("a@example.org", ""), []string{"Design Team"}},
		{"LDAP-style value lists", map[string]any{"bc": []string{"DE", "x", "y"}, "subco": nil},
			targetAttrs("a@example.org", ""), nil}, // bc[0:2] is a list: an error
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hc := &core.HookContext{
				SourceAttributes: tc.attrs,
				SourceGroups:     []string{"Design"},
				TargetAttributes: targetAttrs("a@example.org", ""),
				TargetGroups:     []string{"Design Team"},
			}
			err := h.Run(context.Background(), hc)
			if tc.wantGroups == nil {
				want := `extension-config.yml: target_attributes["country"] must be a string or None, not list ["DE", "x"]`
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Run = %v; want an error containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(tc.wantAttrs, hc.TargetAttributes); diff != "" {
				t.Errorf("target_attributes differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantGroups, hc.TargetGroups); diff != "" {
				t.Errorf("target_groups differ (-want +got):\n%s", diff)
			}
		})
	}
}

func run(t *testing.T, h *hook.Hook, hc *core.HookContext) {
	t.Helper()
	if err := h.Run(context.Background(), hc); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestSharedNamespace(t *testing.T) {
	// hook_storage starts as None (UST's code) and, like any top-level
	// variable, keeps its value from one user to the next.
	src := `
if hook_storage is None:
    hook_storage = {'seen': []}
    count = 0
count += 1
hook_storage['seen'].append(target_attributes['email'])
target_attributes['firstname'] = 'user %d' % count
`
	h, err := hook.Compile("ext.yml", 1, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Storage().String(); got != "None" {
		t.Errorf("hook_storage before the first run = %s; want None", got)
	}
	var names []any
	for _, email := range []string{"a@x.org", "b@x.org", "c@x.org"} {
		hc := &core.HookContext{TargetAttributes: targetAttrs(email, "")}
		run(t, h, hc)
		names = append(names, hc.TargetAttributes["firstname"])
	}
	if diff := cmp.Diff([]any{"user 1", "user 2", "user 3"}, names); diff != "" {
		t.Errorf("firstnames differ (-want +got):\n%s", diff)
	}
	if got, want := h.Storage().String(), `{"seen": ["a@x.org", "b@x.org", "c@x.org"]}`; got != want {
		t.Errorf("hook_storage = %s; want %s", got, want)
	}
}

func TestSharedNamespaceLater(t *testing.T) {
	// The first user's run never needs the shared namespace; the second's
	// reads a variable the first one set. Its output must be UST's, and
	// the log lines of the discarded attempt must not appear.
	src := `
if target_attributes['email'] == 'a@x.org':
    first = target_attributes['email']
logger.info('run for %s', target_attributes['email'])
target_attributes['lastname'] = first
`
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
			return slog.Attr{}
		}
		return a
	}}))
	h, err := hook.Compile("ext.yml", 1, src, logger)
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, email := range []string{"a@x.org", "b@x.org", "c@x.org"} {
		hc := &core.HookContext{TargetAttributes: targetAttrs(email, "")}
		run(t, h, hc)
		got = append(got, hc.TargetAttributes["lastname"])
	}
	if diff := cmp.Diff([]any{"a@x.org", "a@x.org", "a@x.org"}, got); diff != "" {
		t.Errorf("lastnames differ (-want +got):\n%s", diff)
	}
	want := "msg=\"run for a@x.org\" hook_line=4\nmsg=\"run for b@x.org\" hook_line=4\nmsg=\"run for c@x.org\" hook_line=4\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("log differs (-want +got):\n%s", diff)
	}
}

func TestVariables(t *testing.T) {
	src := `
# source_groups is a set, source_attributes a dict with None for empty values
groups = sorted(source_groups)
target_attributes['lastname'] = ','.join(groups)
if source_attributes['missing'] == None and 'Sales' in source_groups:
    target_groups.remove('Old Group')
    target_groups.add('org2::New Group')
target_attributes['country'] = source_attributes['c'].upper()
target_attributes['domain'] = None
target_attributes['not_a_target_attribute'] = 'ignored'
for v in source_attributes['multi']:
    target_groups.add('From ' + v)
o = source_attributes['okta']
if o['active'] and o['n'] == 3 and o['tags'][1] == 1:
    target_attributes['email'] = 'okta@x.org'
`
	h, err := hook.Compile("ext.yml", 1, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &core.HookContext{
		SourceAttributes: map[string]any{"missing": nil, "c": "fr", "multi": []string{"x", "y"},
			"okta": map[string]any{"active": true, "n": 3.0, "tags": []any{"a", int64(1)}}},
		SourceGroups:     []string{"Sales", "Écoles"},
		TargetAttributes: map[string]any{"email": "a@x.org", "domain": "x.org", "country": nil, "lastname": "L"},
		TargetGroups:     []string{"Old Group", "Kept"},
	}
	run(t, h, hc)
	wantAttrs := map[string]any{"email": "okta@x.org", "domain": nil, "country": "FR", "lastname": "Sales,Écoles"}
	if diff := cmp.Diff(wantAttrs, hc.TargetAttributes); diff != "" {
		t.Errorf("target_attributes differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Kept", "org2::New Group", "From x", "From y"}, hc.TargetGroups); diff != "" {
		t.Errorf("target_groups differ (-want +got):\n%s", diff)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	src := "logger.debug('checking %s', target_attributes['email'])\n" +
		"logger.warning('%s has %d groups', target_attributes['email'], len(target_groups))\n" +
		"logger.error('plain')\n" +
		"print('printed')\n"
	h, err := hook.Compile("ext.yml", 20, src, logger)
	if err != nil {
		t.Fatal(err)
	}
	run(t, h, &core.HookContext{TargetAttributes: targetAttrs("a@x.org", ""), TargetGroups: []string{"g"}})
	want := `level=DEBUG msg="checking a@x.org" hook_line=20
level=WARN msg="a@x.org has 1 groups" hook_line=21
level=ERROR msg=plain hook_line=22
level=INFO msg=printed
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("log differs (-want +got):\n%s", diff)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"syntax error", "x = 1\ny = = 2\n", "extension-config.yml:11: got '=', want primary expression"},
		{"undefined name", "x = 1\ny = undefined_name\n", "extension-config.yml:11: undefined: undefined_name"},
		{"import", "import re\n", "extension-config.yml:10:"},
		{"try", "x = 1\n\ntry:\n    pass\nexcept:\n    pass\n", "extension-config.yml:12:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hook.Compile("extension-config.yml", 10, tc.src, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile error = %v; want it to contain %q", err, tc.want)
			}
			if core.Code(err) != core.CodeInvalidInput {
				t.Errorf("Compile error code = %v; want invalid input", core.Code(err))
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"missing key", "x = 1\nbc = source_attributes['bc']\n", `extension-config.yml:11: key "bc" not in dict`},
		{"frozen source_groups", "source_groups.add('x')\n", "extension-config.yml:10: add: cannot insert into frozen hash table"},
		{"error inside a function", "def f(d):\n    return d['nope']\n\nf(source_attributes)\n", `extension-config.yml:11: key "nope" not in dict`},
		{"non-string attribute", "target_attributes['country'] = 5\n", `target_attributes["country"] must be a string or None, not int 5`},
		{"non-string group", "target_groups.add(1)\n", "target_groups may hold only group names (strings), not int 1"},
		{"target_groups replaced by a non-collection", "target_groups = None\n", "target_groups must stay a set, not NoneType"},
		{"runaway loop", "while True:\n    pass\n", "too many steps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := hook.Compile("extension-config.yml", 10, tc.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			hook.SetMaxSteps(h, 100_000)
			err = h.Run(context.Background(), &core.HookContext{SourceAttributes: map[string]any{},
				TargetAttributes: targetAttrs("a@x.org", "")})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run error = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// The hook cancels the run through its logger, then loops until
	// stopped: cancellation must interrupt a running hook.
	logger := slog.New(cancelHandler{cancel})
	h, err := hook.Compile("ext.yml", 1, "logger.info('go')\nwhile True:\n    pass\n", logger)
	if err != nil {
		t.Fatal(err)
	}
	err = h.Run(ctx, &core.HookContext{TargetAttributes: targetAttrs("a@x.org", "")})
	if core.Code(err) != core.CodeCanceled {
		t.Errorf("Run cancelled = %v; want a cancelled error", err)
	}
	if err := h.Run(ctx, &core.HookContext{}); core.Code(err) != core.CodeCanceled {
		t.Errorf("Run with a done context = %v; want a cancelled error", err)
	}
}

type cancelHandler struct{ cancel func() }

func (c cancelHandler) Enabled(context.Context, slog.Level) bool { return true }
func (c cancelHandler) Handle(context.Context, slog.Record) error {
	c.cancel()
	return nil
}
func (c cancelHandler) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c cancelHandler) WithGroup(string) slog.Handler      { return c }

// BenchmarkRun measures one hook run per user, for a hook that does not
// need the shared namespace (the documentation's example) and for one that
// does (it keeps a counter in hook_storage).
func BenchmarkRun(b *testing.B) {
	b.Run("documentation example", func(b *testing.B) { benchmarkRun(b, docExample) })
	b.Run("shared namespace", func(b *testing.B) {
		benchmarkRun(b, "if hook_storage is None:\n    hook_storage = {'n': 0}\nhook_storage['n'] += 1\n"+docExample)
	})
}

func benchmarkRun(b *testing.B, src string) {
	h, err := hook.Compile("extension-config.yml", 8, src, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		hc := &core.HookContext{
			SourceAttributes: map[string]any{"bc": "US1234", "subco": "West", "email": "a@x.org"},
			SourceGroups:     []string{"Design"},
			TargetAttributes: targetAttrs("a@example.org", ""),
			TargetGroups:     []string{"Design Team"},
		}
		if err := h.Run(ctx, hc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestManualSnippets runs the code shown in docs/extension.md.
func TestManualSnippets(t *testing.T) {
	src := `
if hook_storage is None:
    hook_storage = {'count': 0}
hook_storage['count'] += 1
logger.debug('user number %d', hook_storage['count'])
name = target_attributes['firstname']
target_attributes['lastname'] = ''.join(list(name.codepoints())[0:2])
if type(source_attributes.get('x')) == 'NoneType' and source_attributes.get('bc') != None:
    target_attributes['country'] = '{}'.format(source_attributes['bc'])[0:2]
if 'sales' in source_groups:
    target_groups.discard('Old')
`
	h, err := hook.Compile("extension-config.yml", 1, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		hc := &core.HookContext{
			SourceAttributes: map[string]any{"bc": "FR-1"},
			SourceGroups:     []string{"sales"},
			TargetAttributes: map[string]any{"firstname": "Édith", "lastname": nil, "country": nil},
			TargetGroups:     []string{"Old", "New"},
		}
		run(t, h, hc)
		want := map[string]any{"firstname": "Édith", "lastname": "Éd", "country": "FR"}
		if diff := cmp.Diff(want, hc.TargetAttributes); diff != "" {
			t.Errorf("target_attributes differ (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"New"}, hc.TargetGroups); diff != "" {
			t.Errorf("target_groups differ (-want +got):\n%s", diff)
		}
	}
	if got := h.Storage().String(); got != `{"count": 2}` {
		t.Errorf("hook_storage = %s; want {\"count\": 2}", got)
	}
}

// TestRebindVariables checks hooks that assign the variables themselves
// rather than changing them in place.
func TestRebindVariables(t *testing.T) {
	src := `target_groups = set([g for g in target_groups if not g.startswith('Old')])
target_attributes = dict(target_attributes, country = 'NZ')
`
	h, err := hook.Compile("ext.yml", 1, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"a@x.org", "b@x.org"} {
		hc := &core.HookContext{TargetAttributes: targetAttrs(email, ""), TargetGroups: []string{"Old A", "New " + email}}
		run(t, h, hc)
		if diff := cmp.Diff([]string{"New " + email}, hc.TargetGroups); diff != "" {
			t.Errorf("target_groups differ (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(targetAttrs(email, "NZ"), hc.TargetAttributes); diff != "" {
			t.Errorf("target_attributes differ (-want +got):\n%s", diff)
		}
	}
}
