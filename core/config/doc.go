// Package config loads Adobe User Sync Tool's configuration files
// unchanged (user-sync-config.yml and the connector and extension files it
// names) together with UST's sync flags, and resolves them into
// core.Options for the engine, the UMAPI connection settings of each org,
// and the directory connector's configuration node.
//
// Every rule follows the reference's description of UST (§1 command line,
// §2 configuration files): YAML 1.1 booleans, scalars accepted where lists
// are expected, relative paths resolved against the file that names them,
// several files merged in order, invocation_defaults overlaid by the flags
// given on the command line, unknown keys rejected. Errors are *Error
// (file, key path, line) or, when the command line alone is at fault,
// *UsageError; docs/configuration.md lists where usersync deliberately
// differs from UST.
package config
