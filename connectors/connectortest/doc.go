// Package connectortest is the conformance suite that every directory
// source (core.Source) passes: CSV, LDAP, Okta, another Adobe org and the
// in-memory source used by other tests. Given the same directory, every
// source must return the same users, the same memberships of the requested
// groups, the same extended attributes and the same MissingGroups, and must
// fail (never return a short list) when its input cannot be read or its
// context is cancelled.
//
// # Using it from a connector
//
// A connector's own test file implements Harness and calls Run:
//
//	type harness struct{}
//
//	func (harness) Features() connectortest.Features {
//		return connectortest.Features{ExtendedAttributes: true, AllUsers: true}
//	}
//
//	// NewSource loads d into the system under test (write a CSV file, add
//	// LDIF entries to a throwaway slapd, serve it from a fake Okta) and
//	// returns a source configured to read it.
//	func (harness) NewSource(t *testing.T, d connectortest.Data) core.Source { ... }
//
//	// Unreadable returns a source whose input cannot be read (a missing
//	// file, a closed port, a wrong password).
//	func (harness) Unreadable(t *testing.T) core.Source { ... }
//
//	func TestConformance(t *testing.T) { connectortest.Run(t, harness{}) }
//
// # What the harness must do with the data
//
//   - Every User of Data becomes one directory entry, with its email,
//     username, domain, first and last name, country, the groups it belongs
//     to, and its Extended attributes (the suite asks for them through
//     core.SourceQuery.ExtendedAttributes).
//   - The source must report each user's identity type as User.Type (all
//     canonical users are federatedID; configure user_identity_type so).
//   - Users with Service set are service accounts. Where the source has a
//     filter of its own (LDAP's and Okta's all_users_filter), load them and
//     configure the filter to leave them out; otherwise leave them out of the
//     input. Either way the source must never return them.
//   - Every group in Data.Groups exists in the directory; no other group
//     does. Each has at least one member.
//
// # What the suite checks
//
//   - Users of a group query are exactly the members of the requested groups,
//     each returned once, even when in two requested groups (a user in no
//     group is not returned); AllUsers returns every user.
//   - For every returned user, Groups contains exactly its memberships among
//     the requested groups. A source may also report other groups the user
//     really is in (UST's CSV connector reports its whole groups column), but
//     never a group the user is not in.
//   - Names, countries and group names outside ASCII survive the round trip.
//   - Requested groups the directory does not have are listed in
//     MissingGroups, and only those.
//   - Requested extended attributes appear in Attributes as a string or a
//     one-element []string; a user without the attribute has it nil.
//   - Origin is set on every user, and progress for core.PhaseDirectory is
//     reported, ending with a report whose Done is set.
//   - A cancelled context gives an error (context.Canceled in its chain, or
//     core.CodeCanceled); an unreadable input gives an error.
//
// Comparisons ignore Domain when the username contains "@" (the user key
// drops it then, UST §3.3), and ignore MemberGroups and the order of users
// and groups.
//
// Clock is the stand-still clock the connectors' own tests give their
// clients, so that throttle and backoff waits take no wall time.
package connectortest
