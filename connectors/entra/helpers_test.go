package entra

import (
	"context"
	"testing"

	"github.com/usersync/usersync/core/config"
)

const (
	testTenant = "00000000-aaaa-bbbb-cccc-000000000001"
	testClient = "11111111-2222-3333-4444-555555555555"
	testSecret = "s3cr3t~value.ABC"
)

func parseYAML(t testing.TB, text string, secrets config.Secrets) (Config, error) {
	t.Helper()
	n, err := config.Parse("connector-entra.yml", []byte(text), "")
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	c, err := ParseConfig(context.Background(), n, secrets)
	if err == nil {
		for _, e := range n.Unused() {
			t.Errorf("key left unread: %v", e)
		}
	}
	return c, err
}

type fakeSecrets map[string]string

func (f fakeSecrets) Secret(_ context.Context, service, user string) (string, error) {
	if v, ok := f[service+"/"+user]; ok {
		return v, nil
	}
	return "", config.ErrSecretNotFound
}
