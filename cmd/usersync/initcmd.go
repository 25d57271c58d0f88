package main

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed examples/*.yml
var examples embed.FS

func cmdInit(_ context.Context, e *env, args []string) int {
	var dir string
	var force bool
	fs := newFlagSet(e, "init", "init [--dir DIR] [--force]")
	fs.StringVar(&dir, "dir", ".", "where to write the example files")
	fs.BoolVar(&force, "force", false, "overwrite existing files")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	entries, _ := examples.ReadDir("examples")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fatal(e, err)
	}
	var skipped []string
	for _, ent := range entries {
		dst := filepath.Join(dir, ent.Name())
		if _, err := os.Stat(dst); err == nil && !force {
			skipped = append(skipped, dst)
			continue
		}
		data, _ := examples.ReadFile("examples/" + ent.Name())
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			return fatal(e, err)
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", dst)
	}
	for _, s := range skipped {
		fmt.Fprintf(e.stdout, "kept %s (exists; --force overwrites)\n", s)
	}
	fmt.Fprintln(e.stdout, "\nNext: edit connector-umapi.yml and your directory's connector file, store secrets with")
	fmt.Fprintln(e.stdout, "'usersync credentials set KEY --user USER', then run 'usersync check' and 'usersync plan'.")
	return exitOK
}
