package config

import (
	"strings"
	"testing"
)

func TestUnknownKeySuggestsInEverySection(t *testing.T) {
	for _, tc := range []struct {
		name, yml, want string
	}{
		{"misspelt required key", "limits:\n  max_adobe_only_user: 10\n", `limits.max_adobe_only_user: unknown key (did you mean "max_adobe_only_users"?)`},
		{"nested section", "limits:\n  max_adobe_only_users: 10\n  group_removal_only: true\n", `limits.group_removal_only: unknown key (did you mean "group_removals_only"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse("main.yml", []byte(tc.yml), "")
			if err != nil {
				t.Fatal(err)
			}
			c := &Config{}
			err = c.limits(n)
			if err == nil {
				var msgs []string
				for _, e := range n.Unused() {
					msgs = append(msgs, e.Error())
				}
				err = errorString(strings.Join(msgs, "\n"))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
