package attrformat

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// anyName accepts every non-empty placeholder name without braces.
func anyName(name string) error {
	if name == "" || strings.ContainsAny(name, "{") {
		return errors.New("bad name")
	}
	return nil
}

func TestRender(t *testing.T) {
	values := map[string]string{"email": "ana@example.org", "first": "Ana", "dept": "D1"}
	value := func(field string) string { return values[field] }
	tests := []struct {
		format, want, wantMissing string
		wantOK                    bool
	}{
		{"{email}", "ana@example.org", "", true},
		{"{dept}_{first}", "D1_Ana", "", true},
		{"constant", "constant", "", true},
		{"", "", "", true},
		{"{{literal}} {dept}", "{literal} D1", "", true},
		{"}}{{", "}{", "", true},
		{"{dept}{absent}", "", "absent", false},
	}
	for _, tc := range tests {
		f, err := Parse(tc.format, anyName)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.format, err)
		}
		got, missing, ok := f.Render(value)
		if got != tc.want || missing != tc.wantMissing || ok != tc.wantOK {
			t.Errorf("Render(%q) = %q, %q, %v; want %q, %q, %v", tc.format, got, missing, ok, tc.want, tc.wantMissing, tc.wantOK)
		}
		if !f.IsSet() || f.String() != tc.format {
			t.Errorf("Parse(%q): IsSet() = %v, String() = %q", tc.format, f.IsSet(), f.String())
		}
	}
	var unset Format
	if got, missing, ok := unset.Render(value); got != "" || missing != "" || ok || unset.IsSet() {
		t.Errorf("unset Render = %q, %q, %v; want nothing", got, missing, ok)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ format, want string }{
		{"{email", `format "{email": '{' without a closing '}'`},
		{"email}", `format "email}": single '}' (write '}}' for a literal brace)`},
		{"{}", `format "{}": bad name`},
		{"{a{b}", `format "{a{b}": bad name`},
	}
	for _, tc := range tests {
		_, err := Parse(tc.format, anyName)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v; want %s", tc.format, err, tc.want)
		}
	}
	f := Must("{department}_{user_id}@{domain}", anyName)
	if diff := cmp.Diff([]string{"department", "user_id", "domain"}, f.Fields()); diff != "" {
		t.Errorf("Fields() mismatch (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("{a}_{b}{{c}}")
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := Parse(s, anyName)
		if err != nil {
			return
		}
		fm.Render(func(string) string { return "x" })
	})
}

func TestUnreferenced(t *testing.T) {
	a := Must("{first} {last}", anyName)
	b := Must("{mail}", anyName)
	got := Unreferenced([]string{"dept", "mail", "dept", "first", "title"}, a, b, Format{})
	if diff := cmp.Diff([]string{"dept", "title"}, got); diff != "" {
		t.Errorf("Unreferenced mismatch (-want +got):\n%s", diff)
	}
}
