package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usersync/usersync/connectors/notify/smtptest"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

var bg = context.Background()

func sample() Summary {
	return Summary{RunID: "20261202T101010.000Z-abcd", Command: "sync", Outcome: OutcomeWithheld, Status: "withheld", ExitCode: 4,
		Changes: 5, Succeeded: 3, Withheld: 2,
		GroupHolds: []core.GroupHold{{Org: "primary", Group: "all apps", Members: 30, Removals: 30, Max: 10, Setting: "10"}}}
}

type capture struct {
	ct   string
	body []byte
}

func hook(t *testing.T, status int) (*httptest.Server, chan capture) {
	got := make(chan capture, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- capture{r.Header.Get("Content-Type"), b}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestWebhookFormats(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "body.tmpl")
	os.WriteFile(tmpl, []byte(`{"run": {{json .RunID}}, "holds": {{len .GroupHolds}}}`), 0o600)
	for _, tc := range []struct {
		format, template string
		check            func(m map[string]any) bool
	}{
		{"json", "", func(m map[string]any) bool {
			return m["run_id"] == "20261202T101010.000Z-abcd" && m["exit_code"] == 4.0
		}},
		{"slack", "", func(m map[string]any) bool {
			s, _ := m["text"].(string)
			return strings.Contains(s, `removals from "all apps" withheld`)
		}},
		{"teams", "", func(m map[string]any) bool { return m["type"] == "message" && len(m["attachments"].([]any)) == 1 }},
		{"template", tmpl, func(m map[string]any) bool { return m["run"] == "20261202T101010.000Z-abcd" && m["holds"] == 1.0 }},
	} {
		srv, got := hook(t, http.StatusOK)
		err := Webhook(bg, &config.WebhookConfig{URL: srv.URL, Format: tc.format, Template: tc.template, ContentType: "application/json"}, sample())
		if err != nil {
			t.Fatalf("Webhook(%s) = %v", tc.format, err)
		}
		c := <-got
		var m map[string]any
		if err := json.Unmarshal(c.body, &m); err != nil || !tc.check(m) || c.ct != "application/json" {
			t.Errorf("Webhook(%s) posted %s (%s, %v); want the %s shape", tc.format, c.body, c.ct, err, tc.format)
		}
	}
}

func TestWebhookErrorsNameTheHostOnly(t *testing.T) {
	srv, _ := hook(t, http.StatusInternalServerError)
	err := Webhook(bg, &config.WebhookConfig{URL: srv.URL + "/services/SECRET-TOKEN", Format: "json"}, sample())
	if err == nil || strings.Contains(err.Error(), "SECRET-TOKEN") || !strings.Contains(err.Error(), "500") {
		t.Errorf("Webhook to a failing hook = %v; want a 500 error without the URL's path", err)
	}
}

func TestSendHonoursWhen(t *testing.T) {
	srv, got := hook(t, http.StatusOK)
	cfg := config.Notifications{When: []string{config.NotifyFailure}, Webhook: &config.WebhookConfig{URL: srv.URL, Format: "json"}}
	if errs := Send(bg, cfg, sample(), nil); len(errs) != 0 || len(got) != 0 {
		t.Errorf("Send of a withheld run with when: [failure] = %v, %d posts; want nothing sent", errs, len(got))
	}
	cfg.When = append(cfg.When, config.NotifyWithheld)
	if errs := Send(bg, cfg, sample(), nil); len(errs) != 0 || len(got) != 1 {
		t.Errorf("Send with when: [failure, withheld] = %v, %d posts; want one post", errs, len(got))
	}
}

type fixedSecrets map[string]string

func (f fixedSecrets) Secret(_ context.Context, service, _ string) (string, error) {
	if v, ok := f[service]; ok {
		return v, nil
	}
	return "", config.ErrSecretNotFound
}

func TestEmailOverStartTLS(t *testing.T) {
	s := smtptest.Start(t, "usersync@example.org", "pw-from-keyring")
	cfg := &config.EmailConfig{Host: s.Host, Port: s.Port, Username: "usersync@example.org", PasswordKey: "smtp",
		From: "usersync@example.org", To: []string{"ops@example.org", "it@example.org"}, CAFile: s.CAFile,
		Subject: "usersync: {{.Outcome}} (exit {{.ExitCode}})"}
	if err := Email(bg, cfg, sample(), fixedSecrets{"smtp": "pw-from-keyring"}); err != nil {
		t.Fatalf("Email = %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages; want 1", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.User != "usersync@example.org" || m.From != "usersync@example.org" || len(m.To) != 2 {
		t.Errorf("message = %+v; want one over TLS, authenticated, to two recipients", m)
	}
	for _, want := range []string{"Subject: usersync: withheld (exit 4)", `Withheld by max_group_removals 10: 30 of 30 members of "all apps"`} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Data)
		}
	}
}

func TestEmailRefusesAServerWithoutStartTLS(t *testing.T) {
	s := smtptest.Start(t, "u", "p")
	s.DisableStartTLS()
	cfg := &config.EmailConfig{Host: s.Host, Port: s.Port, Username: "u", Password: "p", From: "a@example.org", To: []string{"b@example.org"}, Subject: "x"}
	if err := Email(bg, cfg, sample(), nil); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Email to a server without STARTTLS = %v; want a refusal", err)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("server got %d messages; want none", n)
	}
}

func TestEmailWrongPasswordFails(t *testing.T) {
	s := smtptest.Start(t, "u", "right")
	cfg := &config.EmailConfig{Host: s.Host, Port: s.Port, Username: "u", Password: "wrong", From: "a@example.org", To: []string{"b@example.org"}, Subject: "x", CAFile: s.CAFile}
	if err := Email(bg, cfg, sample(), nil); err == nil {
		t.Errorf("Email with a wrong password succeeded")
	}
}

// The Slack example of docs/safety.md renders valid JSON.
func TestDocsSlackTemplateExample(t *testing.T) {
	src := `{"text": {{json (printf "usersync %s on %s: %s" .Command .Host .Outcome)}},
 "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": {{json .Text}}}}
 {{- range .GroupHolds}},
   {"type": "context", "elements": [{"type": "mrkdwn", "text": {{json (printf "held: %d removals from %s" .Removals .Group)}}}]}
 {{- end}}]}
`
	tmpl := filepath.Join(t.TempDir(), "slack.tmpl")
	os.WriteFile(tmpl, []byte(src), 0o600)
	s := sample()
	s.Text = DefaultText(s)
	b, err := Body(&config.WebhookConfig{Format: "template", Template: tmpl}, s)
	var m map[string]any
	if err != nil || json.Unmarshal(b, &m) != nil || len(m["blocks"].([]any)) != 2 {
		t.Errorf("Body = %s, %v; want JSON with two blocks", b, err)
	}
}
