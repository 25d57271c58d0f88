package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/usersync/usersync/core"
)

// FuzzLoad feeds arbitrary bytes as the main configuration file, next to
// valid connector files. Load must return a config or an error, never
// panic, and every error must be located in a file.
func FuzzLoad(f *testing.F) {
	seed, err := os.ReadFile("testdata/ust/user-sync-config.yml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(minimal["user-sync-config.yml"]))
	f.Add([]byte("dashboard: {}\n"))
	f.Add([]byte("adobe_users: [\n"))
	f.Add([]byte("invocation_defaults:\n  users: [group, 'a,b']\n  connector: [csv, users.csv]\n"))
	dir := tree(f, nil)
	path := filepath.Join(dir, "user-sync-config.yml")
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := Parse(path, data, "")
		if err != nil {
			return
		}
		c, err := load(t.Context(), root, "", &SyncFlags{}, LoadOptions{})
		if err == nil && c.UMAPI["primary"] == nil {
			t.Fatalf("load succeeded without a primary org")
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("empty error message")
		}
	})
}

// FuzzParseSyncArgs parses arbitrary argument lists and resolves them:
// errors, never panics.
func FuzzParseSyncArgs(f *testing.F) {
	f.Add("--users\x00group\x00a,b\x00--process-groups")
	f.Add("--connector\x00csv\x00users.csv\x00-t")
	f.Add("--adobe-only-user-action\x00write-file\x00out.csv\x00--strategy\x00push")
	f.Add("--users=\x00--adobe-users\x00group\x00x::y")
	f.Fuzz(func(t *testing.T, joined string) {
		var args []string
		start := 0
		for i := 0; i <= len(joined); i++ {
			if i == len(joined) || joined[i] == 0 {
				args = append(args, joined[start:i])
				start = i + 1
			}
		}
		fl, err := ParseSyncArgs(args)
		if err != nil {
			return
		}
		_, _ = resolveOptions(fl, map[string]*Node{}, new(core.Options))
	})
}
