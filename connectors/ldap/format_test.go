package ldap

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func fmtSprint(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func TestFormat(t *testing.T) {
	attrs := map[string]string{"mail": "ana@example.org", "givenname": "Ana", "sn": "Ruiz", "c": "es", "empty": ""}
	value := func(a string) string { return attrs[strings.ToLower(a)] }
	tests := []struct {
		format      string
		want        string
		ok          bool
		missing     string
		wantAttrs   []string
		description string
	}{
		{"{mail}", "ana@example.org", true, "", []string{"mail"}, "one placeholder"},
		{"{givenName}.{sn}@example.org", "Ana.Ruiz@example.org", true, "", []string{"givenName", "sn"}, "placeholders and text"},
		{"US", "US", true, "", nil, "constant"},
		{"{{literal}} {c}", "{literal} es", true, "", []string{"c"}, "escaped braces"},
		{"{givenName} {middle} {sn}", "", false, "middle", []string{"givenName", "middle", "sn"}, "missing attribute makes it missing"},
		{"x{empty}", "", false, "empty", []string{"empty"}, "empty attribute makes it missing"},
		{"{sn}{SN}", "RuizRuiz", true, "", []string{"sn"}, "attribute names are case-insensitive"},
		{"{ mail }", "ana@example.org", true, "", []string{"mail"}, "spaces inside braces"},
	}
	for _, tc := range tests {
		f, err := ParseFormat(tc.format)
		if err != nil {
			t.Errorf("ParseFormat(%q) (%s): %v", tc.format, tc.description, err)
			continue
		}
		got, ok, missing := f.Eval(value)
		if got != tc.want || ok != tc.ok || missing != tc.missing {
			t.Errorf("ParseFormat(%q).Eval = %q, %v, %q; want %q, %v, %q (%s)", tc.format, got, ok, missing, tc.want, tc.ok, tc.missing, tc.description)
		}
		if diff := cmp.Diff(tc.wantAttrs, f.Attrs()); diff != "" {
			t.Errorf("ParseFormat(%q).Attrs differ (-want +got):\n%s", tc.format, diff)
		}
		if f.String() != tc.format {
			t.Errorf("ParseFormat(%q).String() = %q", tc.format, f.String())
		}
	}
	var nilFmt *Format
	if _, ok, _ := nilFmt.Eval(value); ok {
		t.Errorf("nil Format evaluated as present")
	}
}

func TestFormatErrors(t *testing.T) {
	for _, s := range []string{"{mail", "mail}", "{}", "{mail!r}", "{0:>10}", "{a{b}"} {
		if _, err := ParseFormat(s); err == nil {
			t.Errorf("ParseFormat(%q) succeeded; want an error", s)
		}
	}
}

func FuzzParseFormat(f *testing.F) {
	for _, s := range []string{"{mail}", "{{x}}", "{a}.{b}@c", "}", "{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseFormat(s)
		if err != nil {
			return
		}
		got, ok, _ := p.Eval(func(string) string { return "v" })
		if !ok {
			t.Fatalf("ParseFormat(%q).Eval with every attribute present is missing", s)
		}
		if len(p.Attrs()) == 0 && got != strings.NewReplacer("{{", "{", "}}", "}").Replace(s) {
			t.Fatalf("constant format %q evaluated to %q", s, got)
		}
	})
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in     string
		name   string
		lo, hi int
		ok     bool
	}{
		{"member;range=0-1499", "member", 0, 1499, true},
		{"member;Range=1500-*", "member", 1500, -1, true},
		{"memberOf;range=3000-4499", "memberOf", 3000, 4499, true},
		{"member", "", 0, 0, false},
		{"member;range=x-1", "", 0, 0, false},
		{"member;range=1", "", 0, 0, false},
	}
	for _, tc := range tests {
		name, lo, hi, ok := parseRange(tc.in)
		if name != tc.name || lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("parseRange(%q) = %q, %d, %d, %v; want %q, %d, %d, %v", tc.in, name, lo, hi, ok, tc.name, tc.lo, tc.hi, tc.ok)
		}
	}
}

func TestEscapeValueAndCN(t *testing.T) {
	if got, want := escapeValue(`R&D (EU)*\x`), `R\26D \28EU\29\2a\5cx`; got != want {
		t.Errorf("escapeValue = %q; want %q", got, want)
	}
	if got, want := escapeValue("Équipe"), `\c3\89quipe`; got != want {
		t.Errorf("escapeValue = %q; want %q", got, want)
	}
	for dn, want := range map[string]string{
		"CN=AEM-ACL-Authors,OU=Groups,DC=example,DC=com": "AEM-ACL-Authors",
		`cn=Smith\, John,ou=x`:                           "Smith, John",
		"ou=NoCN,dc=x":                                   "",
		"not a dn":                                       "",
	} {
		if got := cnOf(dn); got != want {
			t.Errorf("cnOf(%q) = %q; want %q", dn, got, want)
		}
	}
}
