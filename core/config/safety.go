package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/usersync/usersync/core"
)

// safetyLimits reads the limits keys beyond UST: max_group_removals,
// adobe_only_grace_period and license_quota.
func (c *Config) safetyLimits(l *Node) error {
	s := &c.Options.Safety
	if v := l.Get("max_group_removals"); !v.IsNull() {
		t, err := v.Scalar()
		if err != nil {
			return err
		}
		lim, err := ParseLimit(t)
		if err != nil {
			return v.Errorf("%v", strings.ReplaceAll(err.Error(), "users", "members"))
		}
		s.MaxGroupRemovals = lim
	}
	if v := l.Get("adobe_only_grace_period"); !v.IsNull() {
		t, err := v.Scalar()
		if err != nil {
			return err
		}
		if s.GracePeriod, err = ParseGracePeriod(t); err != nil {
			return v.Errorf("%v", err)
		}
	}
	if v := l.Get("license_quota"); !v.IsNull() {
		t, err := v.Scalar()
		if err != nil {
			return err
		}
		p := core.QuotaPolicy(strings.ToLower(strings.TrimSpace(t)))
		if !slices.Contains([]core.QuotaPolicy{core.QuotaHold, core.QuotaWarn, core.QuotaIgnore}, p) {
			return v.Errorf("%q: must be hold, warn or ignore", t)
		}
		s.LicenseQuota = p
	}
	return nil
}

// ParseGracePeriod parses adobe_only_grace_period: a positive number
// followed by s, m, h or d (days of 24 hours), e.g. "7d", "36h", "1.5d".
// "0" (or 0 with a unit) turns the grace period off.
func ParseGracePeriod(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	units := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}
	if t == "" {
		return 0, fmt.Errorf("empty: write a number followed by s, m, h or d, e.g. 7d")
	}
	unit, ok := units[t[len(t)-1]]
	if !ok {
		return 0, fmt.Errorf("%q: write a number followed by s, m, h or d, e.g. 7d or 36h", s)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t[:len(t)-1]), 64)
	if err != nil || n != n || n < 0 || n > 3650*24 {
		return 0, fmt.Errorf("%q: write a number followed by s, m, h or d, e.g. 7d or 36h", s)
	}
	return time.Duration(n * float64(unit)), nil
}

// Notifications is the notifications section: who is told, and when,
// about a sync run.
type Notifications struct {
	// When lists the outcomes that notify: "failure" (exit 1, 3 or 130),
	// "withheld" (a safety limit withheld changes) and "changes" (changes
	// were applied). Default: failure and withheld.
	When    []string
	Webhook *WebhookConfig
	Email   *EmailConfig
}

// Enabled reports whether any channel is configured.
func (n Notifications) Enabled() bool { return n.Webhook != nil || n.Email != nil }

// WebhookConfig is notifications.webhook.
type WebhookConfig struct {
	URL string
	// Format is json (the run summary as is), slack, teams, or template.
	Format string
	// Template is the text/template file that renders the body (format
	// template), resolved against the config file's folder.
	Template    string
	ContentType string
	Timeout     time.Duration
	Headers     map[string]string
}

// EmailConfig is notifications.email. The password is resolved when a
// message is sent, so that a missing keyring entry never stops a sync.
type EmailConfig struct {
	Host     string
	Port     int
	Username string
	// Password is a plain password; PasswordKey names a keyring/secrets
	// entry (secure_password_key) looked up with Username as the user.
	Password    string
	PasswordKey string
	From        string
	To          []string
	Subject     string
	// CAFile is a PEM bundle to verify the server's certificate with,
	// besides the system roots.
	CAFile  string
	Timeout time.Duration
}

// The notification outcomes.
const (
	NotifyFailure  = "failure"
	NotifyWithheld = "withheld"
	NotifyChanges  = "changes"
)

// notifications reads the notifications section.
func (c *Config) notifications(root *Node) error {
	n, err := root.Map("notifications")
	if err != nil || n == nil {
		return err
	}
	if err := n.CheckKeys("when", "webhook", "email"); err != nil {
		return err
	}
	out := Notifications{When: []string{NotifyFailure, NotifyWithheld}}
	if n.Has("when") {
		if out.When, err = n.StringList("when"); err != nil {
			return err
		}
		for _, w := range out.When {
			if !slices.Contains([]string{NotifyFailure, NotifyWithheld, NotifyChanges}, w) {
				return n.Get("when").Errorf("%q: the outcomes are failure, withheld and changes", w)
			}
		}
	}
	if w, err := n.Map("webhook"); err != nil {
		return err
	} else if w != nil {
		if err := w.CheckKeys("url", "format", "template", "content_type", "timeout", "headers"); err != nil {
			return err
		}
		wc := &WebhookConfig{}
		if wc.URL, err = w.RequireString("url"); err != nil {
			return err
		}
		if !strings.HasPrefix(wc.URL, "https://") && !strings.HasPrefix(wc.URL, "http://") {
			return w.Get("url").Errorf("%q: must be an http:// or https:// URL", wc.URL)
		}
		if wc.Format, err = w.String("format", "json"); err != nil {
			return err
		}
		if !slices.Contains([]string{"json", "slack", "teams", "template"}, wc.Format) {
			return w.Get("format").Errorf("%q: must be json, slack, teams or template", wc.Format)
		}
		if wc.Template, err = w.String("template", ""); err != nil {
			return err
		}
		if (wc.Format == "template") != (wc.Template != "") {
			return w.Errorf("give template: FILE exactly when format is template")
		}
		if wc.Template != "" {
			wc.Template = w.ResolvePath(wc.Template)
		}
		if wc.ContentType, err = w.String("content_type", "application/json"); err != nil {
			return err
		}
		if wc.Timeout, err = durationKey(w, "timeout", 10*time.Second); err != nil {
			return err
		}
		if h, err := w.Map("headers"); err != nil {
			return err
		} else if h != nil {
			wc.Headers = map[string]string{}
			for _, k := range h.Keys() {
				if wc.Headers[k], err = h.String(k, ""); err != nil {
					return err
				}
			}
		}
		out.Webhook = wc
	}
	if e, err := n.Map("email"); err != nil {
		return err
	} else if e != nil {
		if err := e.CheckKeys("host", "port", "username", "password", "secure_password_key", "from", "to", "subject", "ca_file", "timeout"); err != nil {
			return err
		}
		ec := &EmailConfig{}
		if ec.Host, err = e.RequireString("host"); err != nil {
			return err
		}
		if ec.Port, err = e.Int("port", 587); err != nil {
			return err
		}
		if ec.Username, err = e.String("username", ""); err != nil {
			return err
		}
		if ec.Password, err = e.String("password", ""); err != nil {
			return err
		}
		if ec.PasswordKey, err = e.String("secure_password_key", ""); err != nil {
			return err
		}
		if ec.Password != "" && ec.PasswordKey != "" {
			return e.Errorf("give either password or secure_password_key, not both")
		}
		if ec.From, err = e.RequireString("from"); err != nil {
			return err
		}
		if ec.To, err = e.StringList("to"); err != nil {
			return err
		}
		if len(ec.To) == 0 {
			return e.Errorf("to: at least one recipient is required")
		}
		if ec.Subject, err = e.String("subject", "usersync: {{.Outcome}} ({{.Command}}, exit {{.ExitCode}})"); err != nil {
			return err
		}
		if ec.CAFile, err = e.String("ca_file", ""); err != nil {
			return err
		}
		if ec.CAFile != "" {
			ec.CAFile = e.ResolvePath(ec.CAFile)
		}
		if ec.Timeout, err = durationKey(e, "timeout", 30*time.Second); err != nil {
			return err
		}
		out.Email = ec
	}
	c.Notifications = out
	return nil
}

func durationKey(n *Node, key string, def time.Duration) (time.Duration, error) {
	v := n.Get(key)
	if v.IsNull() {
		return def, nil
	}
	s, err := v.Scalar()
	if err != nil {
		return 0, err
	}
	d, err := ParseGracePeriod(s)
	if err != nil || d <= 0 {
		return 0, v.Errorf("%q: write a number followed by s, m or h, e.g. 10s", s)
	}
	return d, nil
}
