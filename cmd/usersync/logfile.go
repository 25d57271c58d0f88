package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// openLogFile opens (appending, creating if needed) the log file name in
// dir. Logs hold names and email addresses, so like the database the file
// is readable by its owner only (0600) in a directory usersync creates
// 0700; a file an older version created group-readable is tightened.
func openLogFile(dir, name string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("logging.file_log_directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}
