package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLogFilePermissions is defect 9 of issue 13: log files were 0640 in
// a 0750 directory. They hold names and emails: 0600 in 0700, and a file
// left group-readable by an older version is tightened.
func TestLogFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	f, err := openLogFile(dir, "a.log")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	old := filepath.Join(dir, "old.log")
	if err := os.WriteFile(old, []byte("x\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o640); err != nil {
		t.Fatal(err)
	}
	f, err = openLogFile(dir, "old.log")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "a.log"): 0o600, old: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %o; want %o", path, got, want)
		}
	}
}
