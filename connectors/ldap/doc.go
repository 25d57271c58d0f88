// Package ldap reads users and group memberships from an LDAP directory or
// Active Directory, configured by UST's connector-ldap.yml (ParseConfig),
// and serves them as a core.Source (New).
//
// Behaviour worth knowing when changing it:
//
//   - Every search is paged with search_page_size (0 turns paging off) and
//     consumed page by page. Groups are read one after another: OpenLDAP
//     keeps one paged search per connection and rejects the cookie of an
//     interleaved one ("paged results cookie is invalid"). Any non-success result (size, time or admin
//     limit, a referral result, a dropped connection, a cancelled context)
//     fails the whole read: a short list would look like users to remove.
//   - A read whose connection drops midway (an idle timeout, a load
//     balancer, a restarted domain controller) is started over once, from
//     nothing, on a new connection after five seconds; partial results
//     are never kept. Each request has a ten-minute backstop timeout.
//   - Search continuation references to Active Directory's DNS and
//     configuration partitions (sent with every search from a domain root,
//     holding no users) are skipped. Any other reference ends the read
//     (referrals: fail, the default, because UST followed them and
//     leaving them out silently would drop users), is followed with the
//     same credentials on a connection of its own, never downgraded from
//     ldaps:// (follow, at most four hops), or is logged once (ignore).
//   - Attributes that Active Directory returns in ranges
//     ("member;range=0-1499") are completed with follow-up reads until the
//     server marks the last range with "*", for group member lists in
//     two_steps_lookup and for any user attribute alike.
//   - In two_steps_lookup each member DN is read with a base-object search
//     using all_users_filter; with nested_group a DN that is not a user is
//     read as a group, each group once, so membership cycles end. Up to
//     eight such reads are in flight on the one connection. A member DN
//     that no longer exists is a warning; any other failed read is an
//     error (UST logged every lookup failure as a warning). A member value
//     that is not a DN (posixGroup's memberUid) is searched for as a uid.
//   - TLS certificates are checked unless require_tls_cert: false is
//     written out (UST checked only with require_tls_cert: true); an
//     unchecked TLS connection is logged as a warning on every read.
//   - A filter using Active Directory's in-chain matching rule is refused
//     when the root DSE shows the server is not Active Directory: OpenLDAP
//     answers it with no entries and no error. A group whose member search
//     finds nobody, and an all-users search that finds nobody, are logged
//     as warnings.
//   - Users are de-duplicated by DN (case-insensitively) and returned
//     sorted by DN, each with the requested group names it belongs to.
//
// The tests start a real OpenLDAP slapd on loopback (TestMain in
// slapd_test.go; set SLAPD to use another binary) and an in-process Active
// Directory imitation for range retrieval, the in-chain matching rule and
// NTLM binds (adserver_test.go). Without slapd the integration tests skip and say
// why; USERSYNC_REQUIRE_SLAPD=1 turns a slapd that cannot start into a
// failure. The connectortest conformance suite runs in conformance_test.go
// and BenchmarkRead100k in bench_test.go.
package ldap
