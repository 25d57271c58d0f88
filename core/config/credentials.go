package config

import (
	"context"
	"errors"
	"fmt"
)

// Secrets looks up a secret stored under (service, user), as UST's keyring
// lookup does: service is the value of a secure_X_key setting, user is the
// identity the file names (the org id, the LDAP username, the Okta host).
// The keyring back end and the environment/file fallback implement it.
type Secrets interface {
	Secret(ctx context.Context, service, user string) (string, error)
}

// ErrSecretNotFound is returned by Secrets when no entry exists.
var ErrSecretNotFound = errors.New("secret not found")

// Credential resolves the credential setting key of mapping n: either the
// plain value under key or a keyring entry named by secure_<key>_key
// (exactly one of the two). user is the keyring user name. It returns ""
// with no error when neither is present; required settings check that.
// Errors never contain the secret.
func (n *Node) Credential(ctx context.Context, key, user string, secrets Secrets) (string, error) {
	secureKey := "secure_" + key + "_key"
	plain, secure := n.Get(key), n.Get(secureKey)
	switch {
	case !plain.IsNull() && !secure.IsNull():
		return "", n.Errorf("give either %s or %s, not both", key, secureKey)
	case !plain.IsNull():
		v, err := plain.Scalar()
		if err != nil {
			return "", err
		}
		if v == "" {
			return "", plain.Errorf("is empty")
		}
		return v, nil
	case !secure.IsNull():
		service, err := secure.Scalar()
		if err != nil {
			return "", err
		}
		if secrets == nil {
			return "", secure.Errorf("no keyring or secrets store is available to look up %q", service)
		}
		v, err := secrets.Secret(ctx, service, user)
		if err != nil {
			return "", secure.Errorf("looking up %q for %q: %v", service, user, err)
		}
		if v == "" {
			return "", secure.Errorf("the stored secret %q for %q is empty", service, user)
		}
		return v, nil
	}
	return "", nil
}

// RequireCredential is Credential for settings that must be present.
func (n *Node) RequireCredential(ctx context.Context, key, user string, secrets Secrets) (string, error) {
	v, err := n.Credential(ctx, key, user, secrets)
	if err == nil && v == "" {
		err = &Error{File: n.File, Path: n.child(key), Line: n.Line(),
			Msg: fmt.Sprintf("required: give %s or secure_%s_key", key, key)}
	}
	return v, err
}

// Secret is a credential read from a connector's file or the keyring. It
// prints as "[redacted]" (with %v, %#v and text encoders such as JSON and
// YAML) so that a connector's Config can be logged or dumped without
// leaking it; Reveal gives the value.
type Secret string

// String hides the secret.
func (Secret) String() string { return "[redacted]" }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return `"[redacted]"` }

// MarshalText hides the secret from JSON and YAML encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret itself, for the request that needs it.
func (s Secret) Reveal() string { return string(s) }
