// Package secrets resolves the secure_X_key settings of UST's configuration
// files: from the OS keyring (Secret Service, macOS Keychain, Windows
// Credential Manager), or, on servers without one, from environment
// variables or a secrets file that only its owner can read.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/usersync/usersync/core/config"
	"github.com/zalando/go-keyring"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the environment variable that holds a secret:
// USERSYNC_SECRET_<SERVICE>, the service upper-cased with every character
// other than a letter or digit replaced by "_".
const EnvPrefix = "USERSYNC_SECRET_"

// EnvName is the environment variable consulted for service.
func EnvName(service string) string {
	var b strings.Builder
	b.WriteString(EnvPrefix)
	for _, r := range strings.ToUpper(service) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Env reads secrets from the environment.
type Env struct {
	Lookup func(string) (string, bool) // os.LookupEnv when nil
}

// Secret implements config.Secrets.
func (e Env) Secret(_ context.Context, service, _ string) (string, error) {
	look := e.Lookup
	if look == nil {
		look = os.LookupEnv
	}
	if v, ok := look(EnvName(service)); ok {
		return v, nil
	}
	return "", config.ErrSecretNotFound
}

// File reads secrets from a YAML file of the form
//
//	service-name: secret            # any user
//	other-service:
//	  user@example.org: secret      # per keyring user
//
// The file is refused when its group or others may read it.
type File struct {
	Path string
}

// Secret implements config.Secrets.
func (f File) Secret(_ context.Context, service, user string) (string, error) {
	fi, err := os.Stat(f.Path)
	if err != nil {
		return "", fmt.Errorf("secrets file: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("secrets file %s can be read by others (mode %v); run: chmod 600 %s", f.Path, fi.Mode().Perm(), f.Path)
	}
	raw, err := os.ReadFile(f.Path)
	if err != nil {
		return "", fmt.Errorf("secrets file: %w", err)
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		// The YAML error may quote file content; say only where it is.
		return "", fmt.Errorf("secrets file %s is not a YAML mapping of service names to secrets", f.Path)
	}
	n, ok := doc[service]
	if !ok {
		return "", config.ErrSecretNotFound
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == user {
				return n.Content[i+1].Value, nil
			}
		}
		return "", config.ErrSecretNotFound
	}
	return "", fmt.Errorf("secrets file %s, line %d: %s must be a secret or a mapping of users to secrets", f.Path, n.Line, service)
}

// Keyring reads the OS keyring.
type Keyring struct{}

// Secret implements config.Secrets.
func (Keyring) Secret(_ context.Context, service, user string) (string, error) {
	v, err := keyring.Get(service, user)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", config.ErrSecretNotFound
	}
	if err != nil {
		return "", fmt.Errorf("OS keyring unavailable (%v); on a server without one, set %s or use a secrets file", err, EnvName(service))
	}
	return v, nil
}

// Set stores a secret in the OS keyring.
func (Keyring) Set(service, user, secret string) error { return keyring.Set(service, user, secret) }

// Delete removes a secret from the OS keyring.
func (Keyring) Delete(service, user string) error {
	err := keyring.Delete(service, user)
	if errors.Is(err, keyring.ErrNotFound) {
		return config.ErrSecretNotFound
	}
	return err
}

// Chain asks each source in turn; the first that has the secret wins. A
// source that fails for another reason than "not found" (a secrets file
// others can read, a malformed file) stops the lookup with its error: falling
// through to the next source would hide the misconfiguration. The OS
// keyring comes last, so that a server without one still works from the
// environment or a secrets file.
type Chain []config.Secrets

// Secret implements config.Secrets.
func (c Chain) Secret(ctx context.Context, service, user string) (string, error) {
	for _, s := range c {
		v, err := s.Secret(ctx, service, user)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, config.ErrSecretNotFound) {
			return "", err
		}
	}
	return "", fmt.Errorf("%w: not in the environment (%s), the secrets file or the OS keyring", config.ErrSecretNotFound, EnvName(service))
}

// Default is the chain usersync uses: the environment, the secrets file
// named by USERSYNC_SECRETS_FILE (when set, or file when not empty), then
// the OS keyring.
func Default(file string) Chain {
	if file == "" {
		file = os.Getenv("USERSYNC_SECRETS_FILE")
	}
	c := Chain{Env{}}
	if file != "" {
		c = append(c, File{Path: file})
	}
	return append(c, Keyring{})
}
