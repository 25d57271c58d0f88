package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/usersync/usersync/connectors/secrets"
	"github.com/usersync/usersync/core/config"
	"golang.org/x/term"
)

// keyringStore is the part of the OS keyring credentials uses; tests swap it.
var keyringStore interface {
	Set(service, user, secret string) error
	Delete(service, user string) error
	Secret(ctx context.Context, service, user string) (string, error)
} = secrets.Keyring{}

func cmdCredentials(ctx context.Context, e *env, args []string) int {
	var user string
	var show bool
	fs := newFlagSet(e, "credentials", `credentials set|get|delete KEY --user USER

KEY is the value of a secure_X_key setting; USER is the identity UST pairs it with:
the org_id (connector-umapi.yml, connector-adobe-console.yml), the LDAP username
(connector-ldap.yml), the Okta host (connector-okta.yml) or the client_id
(connector-entra.yml).
'set' reads the secret from standard input (without echo at a terminal).`)
	fs.StringVar(&user, "user", "", "the keyring user the secret belongs to (required)")
	fs.BoolVar(&show, "show", false, "with get: print the secret itself (otherwise only whether it is set)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 || user == "" {
		fs.Usage()
		return exitUsage
	}
	verb, key := fs.Arg(0), fs.Arg(1)
	switch verb {
	case "set":
		secret, err := readSecret(e, fmt.Sprintf("Secret for %s (user %s): ", key, user))
		if err != nil {
			return fatal(e, err)
		}
		if secret == "" {
			return fatal(e, errors.New("empty secret: nothing stored"))
		}
		if err := keyringStore.Set(key, user, secret); err != nil {
			return fatal(e, fmt.Errorf("storing %s in the OS keyring: %v (on a server without a keyring, see docs/security.md for the environment and secrets-file alternatives)", key, err))
		}
		fmt.Fprintf(e.stdout, "Stored %s for %s in the OS keyring.\n", key, user)
	case "get":
		v, err := keyringStore.Secret(ctx, key, user)
		if errors.Is(err, config.ErrSecretNotFound) {
			fmt.Fprintf(e.stdout, "%s for %s is not set.\n", key, user)
			return exitFatal
		}
		if err != nil {
			return fatal(e, err)
		}
		if show {
			fmt.Fprintln(e.stdout, v)
		} else {
			fmt.Fprintf(e.stdout, "%s for %s is set (%d characters); --show prints it.\n", key, user, len(v))
		}
	case "delete":
		err := keyringStore.Delete(key, user)
		if errors.Is(err, config.ErrSecretNotFound) {
			fmt.Fprintf(e.stdout, "%s for %s was not set.\n", key, user)
			return exitOK
		}
		if err != nil {
			return fatal(e, err)
		}
		fmt.Fprintf(e.stdout, "Deleted %s for %s.\n", key, user)
	default:
		fmt.Fprintf(e.stderr, "usersync credentials: unknown verb %q (set, get or delete)\n", verb)
		return exitUsage
	}
	return exitOK
}

func readSecret(e *env, prompt string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the secret from standard input: %v", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
