// Package entra reads users and group memberships from Microsoft Entra ID
// (Azure AD) through Microsoft Graph v1.0, for `--connector entra` and
// `directory_users.connectors.entra: connector-entra.yml`.
//
// Authentication is the OAuth 2.0 client-credentials grant at
// {authority_host}/{tenant_id}/oauth2/v2.0/token with the scope
// https://graph.microsoft.com/.default; the access token is cached until
// shortly before it expires. The app registration needs the application
// permissions User.Read.All and GroupMember.Read.All, with admin consent.
//
// A directory_group names a group by its displayName (GET /groups with
// $filter=displayName eq '…'); a name that matches nothing is reported in
// MissingGroups, and a name that matches several groups is an error.
// Members are the group's transitive members cast to users
// (/groups/{id}/transitiveMembers/microsoft.graph.user), so nested groups
// are expanded by Graph; --users all reads /users. all_users_filter is
// sent as $filter on both reads; filtered reads are advanced queries, so
// they carry "ConsistencyLevel: eventual" and $count=true. Whatever the
// filter, an account whose accountEnabled is false is never returned.
//
// Groups are read four at a time and merged in the order asked. Paging
// follows @odata.nextLink exactly as Graph returns it, and only to
// the configured graph_host. 429, 503 and 504 are retried after
// Retry-After (or a backoff when Graph sends none); every wait is reported
// through core.Reporter.Throttled. A failed page, an unreadable group or a
// refused token is an error, never a short list.
//
// The client secret and access tokens are sent only to authority_host and
// graph_host respectively and never appear in errors or logs. Plain http
// is accepted only for loopback hosts (local stand-ins).
//
// Package fakegraph, beside this one, is a Graph and token-endpoint
// stand-in written from the public API reference, for tests.
package entra
