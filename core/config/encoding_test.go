package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

func utf16le(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func latin1(s string) []byte {
	var out []byte
	for _, r := range s {
		out = append(out, byte(r))
	}
	return out
}

// TestEncodings: --config-file-encoding applies to every file the main file
// names (UST §2.1), and a UTF-8 byte-order mark is accepted.
func TestEncodings(t *testing.T) {
	mainText := minimal["user-sync-config.yml"] + "  groups:\n    - directory_group: Équipe\n      adobe_groups: [Créa]\n"
	ldapText := "host: ldap://localhost\nbase_dn: ou=Zürich\n"
	tests := []struct {
		name     string
		encoding string
		enc      func(string) []byte
		wantErr  string
	}{
		{"utf8", "", func(s string) []byte { return []byte(s) }, ""},
		{"utf8 with BOM", "utf8", func(s string) []byte { return append([]byte("\xef\xbb\xbf"), s...) }, ""},
		{"latin1", "latin1", latin1, ""},
		{"iso-8859-1", "iso-8859-1", latin1, ""},
		{"utf-16 with BOM", "utf-16", func(s string) []byte { return utf16le(s, true) }, ""},
		{"utf-16-le", "utf-16-le", func(s string) []byte { return utf16le(s, false) }, ""},
		{"latin1 read as utf8", "", latin1, "not valid UTF-8 (set --config-file-encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range map[string]string{"user-sync-config.yml": mainText, "connector-umapi.yml": minimal["connector-umapi.yml"], "connector-ldap.yml": ldapText} {
				if err := os.WriteFile(filepath.Join(dir, name), tt.enc(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var flags *SyncFlags
			if tt.encoding != "" {
				flags = &SyncFlags{ConfigFileEncoding: &tt.encoding}
			}
			c, err := Load(filepath.Join(dir, "user-sync-config.yml"), LoadOptions{Flags: flags})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load = %v; want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := []string{c.Options.GroupMapping[0].DirectoryGroup, c.Options.GroupMapping[0].AdobeGroups[0]}
			base, _ := c.DirectoryConnectors["ldap"].String("base_dn", "")
			got = append(got, base)
			if diff := cmp.Diff([]string{"Équipe", "Créa", "ou=Zürich"}, got); diff != "" {
				t.Errorf("decoded values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
