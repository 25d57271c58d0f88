// Package usersync holds repository-wide tests (package boundaries). The
// program is in cmd/usersync; see README.md.
package usersync
