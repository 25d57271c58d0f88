package core

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func explainStages(ex *Explanation) []string {
	var out []string
	for _, s := range ex.Steps {
		out = append(out, s.Stage+":"+s.Outcome)
	}
	return out
}

func TestExplain(t *testing.T) {
	s := planSnap(
		[]DirectoryUser{dirU("ana@x.com", "Marketing"), dirU("cat@x.com", "Other")},
		[]AdobeUser{adobeU("ana@x.com", "Design Team"), adobeU("gone@x.com", "All Apps"), adobeU("gone2@x.com")},
	)
	tests := []struct {
		name  string
		query string
		o     *Options
		want  []string // stages:outcomes that must appear, in order
		n     int      // changes
	}{
		{"matched user with group changes", "ANA@x.com", planOpts(), []string{
			"source:found", "selection:selected", "mapping:mapped", "match:matched", "result:planned", "result:planned"}, 2},
		{"unselected user", "cat@x.com", planOpts(func(o *Options) { o.Users = UsersMapped }), []string{
			"source:found", "selection:not selected"}, 0},
		{"Adobe-only user withheld by the limit", "gone@x.com", planOpts(func(o *Options) {
			o.AdobeOnlyAction = AdobeOnlyDelete
			o.MaxAdobeOnly = Limit{Set: true, Count: 1, Text: "1"}
		}), []string{"source:not found", "adobe-only:adobe-only", "limit:withheld", "result:withheld"}, 1},
		{"unknown user", "nobody@x.com", planOpts(), []string{"source:not found", "match:no account", "result:no change"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := Explain(context.Background(), s, tt.o, tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got := explainStages(ex)
			i := 0
			for _, g := range got {
				if i < len(tt.want) && g == tt.want[i] {
					i++
				}
			}
			if i < len(tt.want) {
				t.Errorf("Explain(%q) steps = %q; want in order %q", tt.query, got, tt.want)
			}
			if len(ex.Changes) != tt.n {
				t.Errorf("Explain(%q) changes = %d; want %d", tt.query, len(ex.Changes), tt.n)
			}
			for _, st := range ex.Steps {
				if st.Detail == "" {
					t.Errorf("step %+v has no detail", st)
				}
			}
		})
	}
	if _, err := Explain(context.Background(), s, planOpts(), " "); Code(err) != CodeInvalidInput {
		t.Errorf("Explain(blank) = %v; want invalid input", err)
	}
}

func TestRenderText(t *testing.T) {
	s := planSnap(
		[]DirectoryUser{dirU("ana@x.com", "Marketing"), dirU("new@x.com", "Design")},
		[]AdobeUser{adobeU("ana@x.com", "Design Team"), adobeU("gone@x.com", "All Apps"), adobeU("gone2@x.com")},
	)
	p := mustBuildPlan(t, s, planOpts(func(o *Options) {
		o.AdobeOnlyAction = AdobeOnlyDelete
		o.MaxAdobeOnly = Limit{Set: true, Count: 1, Text: "1"}
		o.TestMode = true
	}))
	var b bytes.Buffer
	if err := RenderText(&b, p); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"TEST MODE",
		"SAFETY LIMIT EXCEEDED: 2 Adobe-only users, max_adobe_only_users 1 allows at most 1",
		"Primary org:",
		"+ create account (1)",
		`new@x.com [federatedID]  email="new@x.com"`,
		`- remove from groups (1)`,
		`+ add to groups (2)`,
		`directory group "Marketing" → "All Apps"`,
		"Withheld by max_adobe_only_users",
		"remove from org and delete account (2)",
		"Plan: 4 changes for 2 users: 1 to create, 0 to update, 2 group additions, 1 group removals, 0 removals from org, 0 deletions; 2 withheld.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("RenderText output lacks %q:\n%s", want, out)
		}
	}
	// JSON is the plan itself.
	if _, err := json.Marshal(p); err != nil {
		t.Errorf("json.Marshal(plan): %v", err)
	}
	var empty bytes.Buffer
	_ = RenderText(&empty, &Plan{Orgs: []string{PrimaryOrg}})
	if !strings.Contains(empty.String(), "No changes") {
		t.Errorf("empty plan renders %q", empty.String())
	}
}
