package sim

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendUserMatchesEncodingJSON checks the hand-written users-list
// encoder against encoding/json on awkward strings.
func TestAppendUserMatchesEncodingJSON(t *testing.T) {
	g := &group{name: `Team "Q" \ <b>`}
	for _, u := range []*user{
		{typ: federatedID, email: "ana@example.org", username: "ana@example.org", domain: "example.org",
			firstname: "Ána", lastname: "Ruiz\tGómez\n\x01", country: "ES", groups: []*group{g}},
		{typ: adobeID, email: "p@x.org", username: "p@x.org", domain: "x.org"},
		{typ: enterpriseID, email: "z@y.org", username: "z@y.org", domain: "y.org", firstname: "bad\xffutf8 ☃ \u2028"},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(toWire(u, false, true))
		got := append(appendUser(nil, u, false, true), '\n')
		// encoding/json escapes U+2028; both are valid JSON for the same
		// string, so compare decoded values where they differ.
		if !bytes.Equal(got, want.Bytes()) {
			var a, b wireUser
			if err := json.Unmarshal(got, &a); err != nil {
				t.Fatalf("appendUser produced invalid JSON %s: %v", got, err)
			}
			json.Unmarshal(want.Bytes(), &b)
			if a.Firstname != b.Firstname || a.Lastname != b.Lastname || a.ID != b.ID || len(a.Groups) != len(b.Groups) {
				t.Errorf("appendUser = %s; want %s", got, want.Bytes())
			}
		}
	}
}
