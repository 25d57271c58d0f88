package sim

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAction feeds arbitrary bodies to the action endpoint: it must never
// panic, must answer 200 or 400, and a 200 must count every command once
// and point every error at a command and step that exist.
func FuzzAction(f *testing.F) {
	for _, seed := range []string{
		`[{"user":"ana@example.org","do":[{"add":{"group":["Acrobat"]}}]}]`,
		`[{"user":"kobi","domain":"example.org","do":[{"update":{"username":"k2"}},{"removeFromOrg":{"deleteAccount":true}}]}]`,
		`[{"usergroup":"Design Team","do":[{"createUserGroup":{"option":"updateIfAlreadyExists"}},{"add":{"user":["ana@example.org"],"productConfiguration":["Acrobat"]}},{"deleteUserGroup":{}}]}]`,
		`[{"user":"x@example.org","do":[{"createFederatedID":{"email":"x@example.org","country":"DE","firstname":"X","lastname":"Y"}},{"remove":"all"}]}]`,
		`[{"user":"pat@gmail.com","useAdobeID":true,"requestID":"r","do":[{"addAdobeID":{"email":"pat@gmail.com","option":"ignoreIfAlreadyExists"}}]}]`,
		`[1, null, "x", {"do": 3}]`,
		`{}`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	s, err := New(Options{Seed: testSeed(f)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string, testOnly bool) {
		url := "/action/" + testOrg
		if testOnly {
			url += "?testOnly=true"
		}
		req := httptest.NewRequest("POST", url, strings.NewReader(body))
		resp := s.action(req)
		if resp.status == 400 {
			return
		}
		if resp.status != 200 {
			t.Fatalf("action(%q) status %d", body, resp.status)
		}
		res := resp.body.(actionResult)
		var cmds []json.RawMessage
		json.Unmarshal([]byte(body), &cmds)
		if res.Completed+res.CompletedInTestMode+res.NotCompleted != len(cmds) || res.NotCompleted != len(res.Errors) {
			t.Fatalf("action(%q) = %+v; counts do not add up to %d commands", body, res, len(cmds))
		}
		for _, e := range res.Errors {
			if e.Index < 0 || e.Index >= len(cmds) || e.Step < 0 || e.ErrorCode == "" || e.Message == "" {
				t.Fatalf("action(%q): bad error entry %+v", body, e)
			}
		}
		// The org stays consistent: every indexed user is in the list.
		s.mu.RLock()
		defer s.mu.RUnlock()
		for _, u := range s.org.users {
			if u == nil {
				t.Fatalf("a hole left in the users list after compact")
			}
			if s.org.lookup(u.email, "", u.typ == adobeID) != u {
				t.Fatalf("user %s is not found by its email", u.email)
			}
		}
	})
}

// FuzzParseSeed checks that no seed document makes the parser panic, and
// that a valid seed survives a trip through the org and back.
func FuzzParseSeed(f *testing.F) {
	f.Add(testSeedJSON)
	f.Add(`{"users":[{"email":"a@b.c","type":"adobeID"}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		s, err := ParseSeed([]byte(doc))
		if err != nil {
			return
		}
		o, err := buildOrg(s)
		if err != nil {
			t.Fatalf("ParseSeed accepted a seed buildOrg refuses: %v", err)
		}
		if _, err := buildOrg(o.seed()); err != nil {
			t.Fatalf("the state of a valid seed is not a valid seed: %v", err)
		}
	})
}
