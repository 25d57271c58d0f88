package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFormatLogName renders UST's file_log_name_format (§2.3 logging).
func TestFormatLogName(t *testing.T) {
	at := time.Date(2026, 3, 7, 9, 5, 2, 0, time.UTC)
	tests := []struct {
		format, want, err string
	}{
		{"{:%Y-%m-%d}.log", "2026-03-07.log", ""},
		{"sync-{:%Y%m%d-%H%M%S}.txt", "sync-20260307-090502.txt", ""},
		{"{0:%y-%j}.log", "26-066.log", ""},
		{"{{literal}}-{:%b}.log", "{literal}-Mar.log", ""},
		{"plain.log", "plain.log", ""},
		{"{:%Q}.log", "", "unsupported time code %Q"},
		{"{:%Y.log", "", "unclosed {"},
		{"{name}.log", "", "only the start time"},
	}
	for _, tt := range tests {
		got, err := FormatLogName(tt.format, at)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("FormatLogName(%q) = %q, %v; want error %q", tt.format, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("FormatLogName(%q) = %q, %v; want %q", tt.format, got, err, tt.want)
		}
	}
	_, err := loadTree(t, mainWith("logging:\n  file_log_name_format: \"{:%Q}\"\n"), nil, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "logging.file_log_name_format") {
		t.Errorf("Load with a bad file_log_name_format = %v; want an error naming the key", err)
	}
}

// TestRelativeConfigPath: a relative -c resolves the files it names
// against its own directory, not the working directory (§2.1).
func TestRelativeConfigPath(t *testing.T) {
	dir := tree(t, map[string]string{})
	t.Chdir(filepath.Dir(dir))
	c, err := Load(filepath.Join(filepath.Base(dir), "user-sync-config.yml"), LoadOptions{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := c.DirectoryConnectorFiles["ldap"][0], filepath.Join(dir, "connector-ldap.yml"); got != want {
		t.Errorf("ldap file = %q; want %q", got, want)
	}
	if got, want := c.Logging.FileLogDirectory, filepath.Join(dir, "logs"); got != want {
		t.Errorf("FileLogDirectory = %q; want %q", got, want)
	}
}
