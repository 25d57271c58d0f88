package okta

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func decodeUser(t *testing.T, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFilter(t *testing.T) {
	active := `{"id":"00u1","status":"ACTIVE","lastLogin":null,"type":{"id":"oty1"},
		"profile":{"login":"ana@example.org","email":"ana@example.org","department":"Design","level":3,
		"roles":["admin","dev"],"mobilePhone":null}}`
	staged := `{"id":"00u2","status":"STAGED","profile":{"login":"bo@corp.example","email":"bo@corp.example"}}`
	tests := []struct {
		expr          string
		user          string
		want          bool
		wantErr       string
		wantCompError string
	}{
		{expr: DefaultAllUsersFilter, user: active, want: true},
		{expr: DefaultAllUsersFilter, user: staged, want: false},
		{expr: `user.status != "DEPROVISIONED"`, user: staged, want: true},
		{expr: `user.status in ["ACTIVE", "STAGED"]`, user: staged, want: true},
		{expr: `user.profile.email.endswith("@example.org")`, user: active, want: true},
		{expr: `user.profile.email.lower().endswith(("@corp.example", "@x.org"))`, user: staged, want: true},
		{expr: `user["profile"]["department"] == "Design"`, user: active, want: true},
		{expr: `"department" in user.profile`, user: staged, want: false},
		{expr: `getattr(user.profile, "department", None) == "Design"`, user: staged, want: false},
		{expr: `hasattr(user.profile, "department") and user.profile.department == "Design"`, user: active, want: true},
		{expr: `user.profile.mobilePhone is None`, user: active, want: true},
		{expr: `user.lastLogin is not None`, user: active, want: false},
		{expr: `user.profile.level >= 3 and "admin" in user.profile.roles`, user: active, want: true},
		{expr: `len([r for r in user.profile.roles if r.startswith("d")]) == 1`, user: active, want: true},
		{expr: `sum(map(len, user.profile.roles)) == 8 and len(filter(None, [0, 1])) == 1`, user: active, want: true},
		{expr: "user.status == 'ACTIVE' # a comment with is in it\n", user: active, want: true},
		{expr: `"this is it" != user.status`, user: active, want: true},
		{expr: `user.type.id == "oty1"`, user: active, want: true},
		{expr: `user.profile.department == "Design"`, user: staged, wantErr: "has no .department field"},
		{expr: `user.stauts == "ACTIVE"`, user: active, wantErr: "has no .stauts field"},
		{expr: `user["nope"]`, user: active, wantErr: "nope"},
		{expr: `len(range(100000000)) and [x for x in range(100000000)]`, user: active, wantErr: "too many steps"},
		{expr: `user.status ==`, wantCompError: "invalid expression"},
		{expr: `print(user)`, user: active, want: false},
		{expr: `os.system("x")`, wantCompError: "undefined: os"},
		{expr: `__import__("os")`, wantCompError: "undefined: __import__"},
		{expr: ``, wantCompError: "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			f, err := CompileFilter(tc.expr)
			if tc.wantCompError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantCompError) {
					t.Fatalf("CompileFilter(%q) error = %v; want %q", tc.expr, err, tc.wantCompError)
				}
				return
			}
			if err != nil {
				t.Fatalf("CompileFilter(%q): %v", tc.expr, err)
			}
			got, err := f.Match(decodeUser(t, tc.user))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Match() = %v, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Match(): %v", err)
			}
			if got != tc.want {
				t.Errorf("Match() = %v; want %v", got, tc.want)
			}
		})
	}
}

func TestRewriteIs(t *testing.T) {
	for in, want := range map[string]string{
		`a is None`:                `a == None`,
		`a is not None`:            `a != None`,
		`a.is_x is   not b`:        `a.is_x != b`,
		`"x is y" == a`:            `"x is y" == a`,
		`'it\'s is' is None`:       `'it\'s is' == None`,
		`island is notable`:        `island == notable`,
		"a # is\nis None":          "a # is\n== None",
		`this.is_set and x is b`:   `this.is_set and x == b`,
		`not a is None`:            `not a == None`,
		`analysis.thesis is False`: `analysis.thesis == False`,
	} {
		if got := rewriteIs(in); got != want {
			t.Errorf("rewriteIs(%q) = %q; want %q", in, got, want)
		}
	}
}

func FuzzCompileFilter(f *testing.F) {
	f.Add(DefaultAllUsersFilter)
	f.Add(`user.profile.email.endswith("@x") and user.status is not None`)
	user := map[string]any{"id": "1", "status": "ACTIVE", "profile": map[string]any{"email": "a@x"}}
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := CompileFilter(src)
		if err != nil {
			return
		}
		_, _ = flt.Match(user)
	})
}

// TestDocumentedFilters compiles and runs every all_users_filter example
// in the manual, and UST's own documented default, against a full user.
func TestDocumentedFilters(t *testing.T) {
	doc, err := os.ReadFile("../../docs/connectors-okta-console.md")
	if err != nil {
		t.Skipf("manual not found: %v", err)
	}
	user := decodeUser(t, `{"id":"00u1","status":"ACTIVE","lastLogin":null,"type":{"id":"oty1"},
		"profile":{"login":"ana@example.com","email":"ana@example.com","department":"Design","userType":"staff",
		"roles":["adobe-design"],"mobilePhone":"+1 555 0100"}}`)
	var n int
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "all_users_filter: '") {
			continue
		}
		expr := strings.TrimPrefix(line, "all_users_filter: '")
		expr = expr[:strings.LastIndex(expr, "'")]
		n++
		f, err := CompileFilter(expr)
		if err != nil {
			t.Errorf("documented filter %q: %v", expr, err)
			continue
		}
		if ok, err := f.Match(user); err != nil || !ok {
			t.Errorf("documented filter %q on an active staff user = %v, %v; want true", expr, ok, err)
		}
	}
	if n < 5 {
		t.Errorf("found %d documented filters; want the manual's examples", n)
	}
}
