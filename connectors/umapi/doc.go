// Package umapi is the client of Adobe's User Management API: OAuth
// server-to-server authentication, the users and groups listings, and the
// action endpoint, with UST's retry rules (429, 502, 503, 504, timeouts and
// dropped connections, honouring Retry-After), pacing at the documented
// action rate limit, TLS settings, a CA bundle and HTTPS_PROXY.
//
// Client implements core.Target. Reads fail closed: a page that cannot be
// read, or that disagrees with the other pages, fails the whole read, so a
// partial list never looks like users to remove. The executor in core packs
// the requests; this package only serialises them, sends them and parses
// the answers.
//
// The protocol is described in ../shared/reference/umapi-protocol.md; the
// simulator in the sim subpackage speaks it for tests and rehearsals.
package umapi
