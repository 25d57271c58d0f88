package config_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/hook"
)

func compile(file string, line int, src string) (core.Hook, error) {
	return hook.Compile(file, line, src, nil)
}

// TestExampleHookRuns loads testdata/ust with the real Starlark hook
// compiler: the documentation's hook example compiles and runs (§2.9, §5).
func TestExampleHookRuns(t *testing.T) {
	c, err := config.Load("testdata/ust/user-sync-config.yml", config.LoadOptions{
		Secrets:     secretsFunc(func(string, string) string { return "s" }),
		CompileHook: compile,
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	hc := &core.HookContext{
		SourceAttributes: map[string]any{"bc": "DE1234", "subco": "x"},
		TargetAttributes: map[string]any{"country": nil},
	}
	if err := c.Options.Hook.Run(context.Background(), hc); err != nil {
		t.Fatalf("hook Run: %v", err)
	}
	if diff := cmp.Diff([]any{"DE", []string{"Acrobat_Sunday_Special"}}, []any{hc.TargetAttributes["country"], hc.TargetGroups}); diff != "" {
		t.Errorf("hook result mismatch (-want +got):\n%s", diff)
	}
}

// TestHookSyntaxErrorLine: a syntax error in the hook is reported at its
// line in extension-config.yml.
func TestHookSyntaxErrorLine(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"user-sync-config.yml": "adobe_users:\n  connectors:\n    umapi: umapi.yml\nlimits:\n  max_adobe_only_users: 10\n" +
			"directory_users:\n  extension: ext.yml\n  connectors:\n    csv: csv.yml\n",
		"umapi.yml": "enterprise:\n  org_id: o\n  client_id: i\n  client_secret: s\n",
		"csv.yml":   "delimiter: ','\n",
		"ext.yml":   "extended_attributes: []\nafter_mapping_hook: |\n  x = 1\n  if x ==:\n    pass\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	flags, err := config.ParseSyncArgs([]string{"--connector", "csv", "users.csv"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.Load(filepath.Join(dir, "user-sync-config.yml"), config.LoadOptions{Flags: flags, CompileHook: compile})
	if err == nil || !strings.Contains(err.Error(), "ext.yml:4:") {
		t.Errorf("Load = %v; want a syntax error at ext.yml:4", err)
	}
}

type secretsFunc func(service, user string) string

func (f secretsFunc) Secret(_ context.Context, service, user string) (string, error) {
	return f(service, user), nil
}
