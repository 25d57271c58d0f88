package entra

import (
	"context"
	"sync"
	"testing"

	"github.com/usersync/usersync/core"
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

// recorder keeps what a Source reports.
type recorder struct {
	mu       sync.Mutex
	progress []core.Progress
	waits    []core.ThrottleWait
}

func (r *recorder) Progress(p core.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, p)
}

func (r *recorder) Throttled(w core.ThrottleWait) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waits = append(r.waits, w)
}

func (r *recorder) ChangeDone(core.ChangeResult) {}

type fakeSecrets map[string]string

func (f fakeSecrets) Secret(_ context.Context, service, user string) (string, error) {
	if v, ok := f[service+"/"+user]; ok {
		return v, nil
	}
	return "", config.ErrSecretNotFound
}
