package okta

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormatRender(t *testing.T) {
	profile := map[string]any{
		"email": "ana@example.org", "firstName": "Ana", "dept": "D1", "empty": "", "null": nil,
		"level": json.Number("3"), "zero": json.Number("0"), "flag": true, "off": false,
		"multi": []any{"first", "second"}, "none": []any{},
	}
	tests := []struct {
		format      string
		want        string
		wantMissing string
		wantOK      bool
	}{
		{"{email}", "ana@example.org", "", true},
		{"{dept}_{firstName}", "D1_Ana", "", true},
		{"constant", "constant", "", true},
		{"{{literal}} {dept}", "{literal} D1", "", true},
		{"{level}", "3", "", true},
		{"{flag}", "True", "", true},
		{"{multi}", "first", "", true},
		{"{dept}{empty}", "", "empty", false},
		{"{null}", "", "null", false},
		{"{zero}", "", "zero", false},
		{"{off}", "", "off", false},
		{"{none}", "", "none", false},
		{"{absent}", "", "absent", false},
	}
	for _, tc := range tests {
		f, err := ParseFormat(tc.format)
		if err != nil {
			t.Fatalf("ParseFormat(%q): %v", tc.format, err)
		}
		got, missing, ok := f.Render(profile)
		if got != tc.want || missing != tc.wantMissing || ok != tc.wantOK {
			t.Errorf("Render(%q) = %q, %q, %v; want %q, %q, %v", tc.format, got, missing, ok, tc.want, tc.wantMissing, tc.wantOK)
		}
	}
	var unset Format
	if got, missing, ok := unset.Render(profile); got != "" || missing != "" || ok {
		t.Errorf("unset Render = %q, %q, %v; want nothing", got, missing, ok)
	}
}

func TestParseFormatErrors(t *testing.T) {
	for _, s := range []string{"{email", "email}", "{}", "{0}", "{email!r}", "{email:>10}", "{a[0]}"} {
		if _, err := ParseFormat(s); err == nil {
			t.Errorf("ParseFormat(%q) succeeded; want an error", s)
		}
	}
	f, err := ParseFormat("{department}_{user_id}@{domain}")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"department", "user_id", "domain"}, f.Fields()); diff != "" {
		t.Errorf("Fields() mismatch (-want +got):\n%s", diff)
	}
}

func TestAttributeValue(t *testing.T) {
	tests := []struct {
		in   any
		want any
	}{
		{nil, nil}, {"", nil}, {"x", "x"}, {json.Number("12"), "12"},
		{[]any{"a", json.Number("2")}, []string{"a", "2"}}, {[]any{}, nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, attributeValue(tc.in)); diff != "" {
			t.Errorf("attributeValue(%v) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
	if !strings.Contains(scalarString(map[string]any{"a": "b"}), `"a"`) {
		t.Errorf("scalarString(map) lost the content")
	}
}

func FuzzParseFormat(f *testing.F) {
	f.Add("{a}_{b}{{c}}")
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := ParseFormat(s)
		if err != nil {
			return
		}
		fm.Render(map[string]any{"a": "x"})
	})
}
