// Package google reads users and group memberships from Google Workspace
// through the Admin SDK Directory API v1, for --connector google and
// directory_users.connectors.google: connector-google.yml.
//
// Authentication is a service account with domain-wide delegation: the
// connector signs a JWT (RS256, standard library) with the private key of
// the JSON key file Google issues, with iss = the key's client_email,
// sub = the configured subject (an administrator), aud = the key's
// token_uri and the two read-only scopes, and trades it at token_uri for an
// access token (the JWT bearer grant, RFC 7523) that is reused until it
// expires. The key file must not be readable by group or others; the private
// key and the access token never appear in errors, logs or plans.
//
// A read lists the customer's (or domain's) users once with users.list
// (all_users_query as its query), keeping neither suspended nor archived
// users, then expands each requested group: by email with groups.get, or by
// name with groups.list (name='…'; the name must be unique). Members of
// nested groups are included, each group read once, so cycles end. Every
// list follows nextPageToken. 429 and 5xx answers (and 403 rate-limit
// reasons) are retried with exponential back-off, since Google sends no
// Retry-After; each wait is reported through core.Reporter.Throttled.
//
// The read fails closed: a failed page, a group that cannot be read or a
// refused token is an error, never a short list. A requested group that does
// not exist is reported in MissingGroups, as for LDAP.
package google
