package notify

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// Summary is what a notification says about a run. Its JSON form is the
// body of a webhook in format json and the data of every template.
type Summary struct {
	RunID   string `json:"run_id"`
	Command string `json:"command"` // sync or apply
	// Outcome is failure, withheld, changes or unchanged; it is what
	// notifications.when selects on.
	Outcome  string    `json:"outcome"`
	Status   string    `json:"status"`
	ExitCode int       `json:"exit_code"`
	TestMode bool      `json:"test_mode,omitempty"`
	Host     string    `json:"host,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitempty"`
	// Changes are planned, Succeeded and Failed sent, Withheld held back by
	// a safety limit.
	Changes   int    `json:"changes"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Withheld  int    `json:"withheld"`
	Error     string `json:"error,omitempty"`
	// Text is a one-paragraph plain-text account of the run, for chat
	// messages and email subjects.
	Text       string             `json:"text"`
	Counters   *core.Counters     `json:"counters,omitempty"`
	Limit      *core.LimitReport  `json:"limit,omitempty"`
	GroupHolds []core.GroupHold   `json:"group_holds,omitempty"`
	Seats      []core.SeatRow     `json:"seats,omitempty"`
	Pending    []core.PendingUser `json:"pending,omitempty"`
	Warnings   []string           `json:"warnings,omitempty"`
}

// The outcomes.
const (
	OutcomeFailure   = config.NotifyFailure
	OutcomeWithheld  = config.NotifyWithheld
	OutcomeChanges   = config.NotifyChanges
	OutcomeUnchanged = "unchanged"
)

// Wanted reports whether cfg asks to be told about outcome.
func Wanted(cfg config.Notifications, outcome string) bool {
	return cfg.Enabled() && slices.Contains(cfg.When, outcome)
}

// Send notifies every configured channel about s, when cfg.When selects
// s.Outcome. It returns one error per failed channel; secrets resolves the
// SMTP password's secure_password_key.
func Send(ctx context.Context, cfg config.Notifications, s Summary, secrets config.Secrets) []error {
	if !Wanted(cfg, s.Outcome) {
		return nil
	}
	if s.Text == "" {
		s.Text = DefaultText(s)
	}
	var errs []error
	if cfg.Webhook != nil {
		if err := Webhook(ctx, cfg.Webhook, s); err != nil {
			errs = append(errs, fmt.Errorf("webhook notification: %w", err))
		}
	}
	if cfg.Email != nil {
		if err := Email(ctx, cfg.Email, s, secrets); err != nil {
			errs = append(errs, fmt.Errorf("email notification: %w", err))
		}
	}
	return errs
}

// DefaultText is Summary.Text: one paragraph that names the run, its
// outcome and the numbers an operator acts on.
func DefaultText(s Summary) string {
	var b strings.Builder
	host := ""
	if s.Host != "" {
		host = " on " + s.Host
	}
	test := ""
	if s.TestMode {
		test = " (test mode)"
	}
	fmt.Fprintf(&b, "usersync %s%s%s: %s, exit %d (run %s).", s.Command, test, host, s.Outcome, s.ExitCode, s.RunID)
	fmt.Fprintf(&b, " %d changes planned, %d succeeded, %d failed, %d withheld.", s.Changes, s.Succeeded, s.Failed, s.Withheld)
	if s.Error != "" {
		fmt.Fprintf(&b, " Error: %s.", strings.TrimSuffix(s.Error, "."))
	}
	for _, h := range s.GroupHolds {
		fmt.Fprintf(&b, " %d removals from %q withheld (max_group_removals %s).", h.Removals, h.Group, h.Setting)
	}
	for _, r := range s.Seats {
		if r.Over {
			fmt.Fprintf(&b, " Product profile %q: %d adds planned with %d members and a licence quota of %s (%d withheld).", r.Group, r.Adds, r.Before, r.Quota, r.Held)
		}
	}
	if s.Limit != nil && s.Limit.Exceeded {
		fmt.Fprintf(&b, " %d Adobe-only users exceed max_adobe_only_users %s.", s.Limit.Count, s.Limit.Setting)
	}
	waiting := 0
	for _, p := range s.Pending {
		if !p.IsDue {
			waiting++
		}
	}
	if waiting > 0 {
		fmt.Fprintf(&b, " %d Adobe-only users in their grace period.", waiting)
	}
	fmt.Fprintf(&b, " Details: usersync show %s", s.RunID)
	return b.String()
}

//go:embed slack.tmpl
var slackTemplate string

//go:embed teams.tmpl
var teamsTemplate string

// funcs are the functions every body template may call: json renders a
// value as JSON (a string becomes a quoted, escaped JSON string).
var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// Body renders the webhook body for cfg's format.
func Body(cfg *config.WebhookConfig, s Summary) ([]byte, error) {
	var src string
	switch cfg.Format {
	case "", "json":
		return json.Marshal(s)
	case "slack":
		src = slackTemplate
	case "teams":
		src = teamsTemplate
	case "template":
		b, err := os.ReadFile(cfg.Template)
		if err != nil {
			return nil, err
		}
		src = string(b)
	default:
		return nil, fmt.Errorf("unknown format %q", cfg.Format)
	}
	t, err := template.New(cfg.Format).Funcs(funcs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Webhook POSTs the run's summary to cfg.URL. Any status other than 2xx is
// an error.
func Webhook(ctx context.Context, cfg *config.WebhookConfig, s Summary) error {
	if s.Text == "" {
		s.Text = DefaultText(s)
	}
	body, err := Body(cfg, s)
	if err != nil {
		return err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ct := cfg.ContentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("User-Agent", "usersync-notify")
	for k, v := range cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The URL may carry a token (Slack, Teams): name the host only.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap()
		}
		return fmt.Errorf("POST to %s: %v", req.URL.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST to %s: %s", req.URL.Host, resp.Status)
	}
	return nil
}
