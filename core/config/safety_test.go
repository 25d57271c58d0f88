package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseGracePeriod(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * 24 * time.Hour, true},
		{"36h", 36 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{" 4s ", 4 * time.Second, true},
		{"90m", 90 * time.Minute, true},
		{"0", 0, true},
		{"7", 0, false},
		{"7w", 0, false},
		{"-1d", 0, false},
		{"d", 0, false},
		{"", 0, false},
	} {
		got, err := ParseGracePeriod(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseGracePeriod(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestSafetyKeysErrors(t *testing.T) {
	for _, tc := range []struct{ section, want string }{
		{"limits:\n  max_adobe_only_users: 10\n  license_quota: maybe\n", "must be hold, warn or ignore"},
		{"limits:\n  max_adobe_only_users: 10\n  max_group_removals: lots\n", "max_group_removals"},
		{"limits:\n  max_adobe_only_users: 10\n  adobe_only_grace_period: 7w\n", "adobe_only_grace_period"},
		{"limits:\n  max_adobe_only_users: 10\nnotifications:\n  webhok:\n    url: http://x\n", `did you mean "webhook"`},
		{"limits:\n  max_adobe_only_users: 10\nnotifications:\n  when: [always]\n", "failure, withheld and changes"},
		{"limits:\n  max_adobe_only_users: 10\nnotifications:\n  email:\n    host: h\n    from: a@b\n    to: [c@d]\n    password: p\n    secure_password_key: k\n", "not both"},
		{"limits:\n  max_adobe_only_users: 10\nnotifictions: {}\n", `did you mean "notifications"`},
	} {
		_, err := loadSafety(t, tc.section)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config with\n%s: error %v; want one containing %q", tc.section, err, tc.want)
		}
	}
}

func TestSafetyKeysRead(t *testing.T) {
	c, err := loadSafety(t, `limits:
  max_adobe_only_users: 10
  max_group_removals: "10%"
  adobe_only_grace_period: 7d
  license_quota: warn
notifications:
  when: [failure, changes]
  webhook:
    url: https://hooks.example.org/x
    format: teams
  email:
    host: smtp.example.org
    username: u
    secure_password_key: usersync_smtp
    from: usersync@example.org
    to: [ops@example.org]
`)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Options.Safety
	if !s.MaxGroupRemovals.IsPercent || s.MaxGroupRemovals.Percent != 10 || s.GracePeriod != 7*24*time.Hour || s.LicenseQuota != "warn" {
		t.Errorf("Safety = %+v", s)
	}
	n := c.Notifications
	if len(n.When) != 2 || n.Webhook == nil || n.Webhook.Format != "teams" || n.Email == nil || n.Email.Port != 587 || n.Email.PasswordKey != "usersync_smtp" {
		t.Errorf("Notifications = %+v (webhook %+v, email %+v)", n, n.Webhook, n.Email)
	}
}

// loadSafety loads the minimal configuration with its limits section
// replaced by section (which starts with limits:).
func loadSafety(t *testing.T, section string) (*Config, error) {
	t.Helper()
	main := strings.Replace(minimal["user-sync-config.yml"], "limits:\n  max_adobe_only_users: 200\n", section, 1)
	return loadTree(t, map[string]string{"user-sync-config.yml": main}, nil, LoadOptions{})
}
