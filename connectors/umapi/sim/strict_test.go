package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRefusesWhatUMAPIRefuses is defect 7 of issue 13: the simulator
// created an account whose email held a NUL, accepted control characters
// in names and a 100,000-character requestID. A lenient stand-in hides
// client bugs; each of these must be refused, and nothing created.
func TestRefusesWhatUMAPIRefuses(t *testing.T) {
	create := func(email, first string) string {
		return mustJSON([]map[string]any{{"user": email, "do": []map[string]any{{"createFederatedID": map[string]string{
			"email": email, "firstname": first, "lastname": "L", "country": "DE"}}}}})
	}
	tests := []struct {
		name, cmds, want string
	}{
		{"NUL in the email", create("nul\x00@example.org", "N"), "0/0 error.command.malformed"},
		{"NUL in the step's email only", `[{"user":"ok@example.org","do":[{"createFederatedID":{"email":"o\u0000k@example.org","firstname":"N","lastname":"L","country":"DE"}}]}]`,
			"0/0 error.user.email.invalid"},
		{"control character in a first name", create("ctl@example.org", "A\x07B"), "0/0 error.user.name.invalid"},
		{"DEL in a last name", `[{"user":"del@example.org","do":[{"createFederatedID":{"email":"del@example.org","firstname":"A","lastname":"B\u007f","country":"DE"}}]}]`,
			"0/0 error.user.name.invalid"},
		{"C1 control in an update", `[{"user":"ana@example.org","do":[{"update":{"firstname":"A\u0085"}}]}]`, "0/0 error.user.name.invalid"},
		{"100,000-character requestID", `[{"user":"rid@example.org","requestID":"` + strings.Repeat("r", 100_000) + `","do":[{"createFederatedID":{"email":"rid@example.org","firstname":"R","lastname":"L","country":"DE"}}]}]`,
			"0/0 error.command.string.too_long"},
		{"requestID at the limit is fine", `[{"user":"ana@example.org","requestID":"` + strings.Repeat("r", maxRootString) + `","do":[{"update":{"firstname":"Ana"}}]}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestSim(t, Options{})
			before := len(c.sim.State().Users)
			res := c.action(tt.cmds, false)
			got := strings.Join(errs(res), ",")
			if got != tt.want {
				t.Errorf("errors = %q; want %q", got, tt.want)
			}
			for _, e := range res.Errors {
				if len(e.RequestID) > maxRootString {
					t.Errorf("an error echoes a %d-character requestID", len(e.RequestID))
				}
			}
			if tt.want != "" {
				if after := len(c.sim.State().Users); after != before {
					t.Errorf("a refused command changed the org: %d users, then %d", before, after)
				}
			}
		})
	}
}

// TestOversizedBodyIsAnswered: a 5 MB body got a connection reset; it
// must get an HTTP answer (413) the client can read.
func TestOversizedBodyIsAnswered(t *testing.T) {
	c := newTestSim(t, Options{})
	body := `[{"user":"ana@example.org","requestID":"` + strings.Repeat("x", 5<<20) + `","do":[{"remove":"all"}]}]`
	req, err := http.NewRequest("POST", c.base+"/v2/usermanagement/action/"+testOrg, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Api-Key", c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatalf("POST of a 5 MB body: %v; want an HTTP answer", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var rm resultMessage
	if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(data, &rm) != nil || rm.Message == "" {
		t.Errorf("POST of a 5 MB body = %d %s; want 413 with a message", resp.StatusCode, data)
	}
}
