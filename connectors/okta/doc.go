// Package okta reads users and group memberships from an Okta org through
// Okta's management API (/api/v1), as UST's Okta connector does:
// connector-okta.yml is read unchanged, groups are found by name with an
// exact match on the result of Okta's prefix search, members are paged
// through Link headers, and each member passes the all_users_filter
// expression (Starlark here, Python in UST) before it is converted with the
// profile-field format strings.
//
// Okta cannot enumerate "all users" for UST, so a query with AllUsers is
// rejected. Additional-group rules are not supported (Okta has no per-user
// group list in the member listing); asking for them logs a warning.
//
// Rate limits are honoured: a 429 waits until X-Rate-Limit-Reset, and a
// response that reports X-Rate-Limit-Remaining: 0 delays the next request
// until the window resets, because Okta's limits are shared by the whole
// org and exhausting them disturbs other integrations. Every wait is
// reported through core.Reporter.Throttled.
//
// The API token is sent only as "Authorization: SSWS <token>" to the
// configured host (paging links to any other host are refused) and never
// appears in errors or logs.
package okta
