// Package adobeconsole uses another Adobe org as the identity source, as
// UST's adobe_console connector does: its users and their Admin Console
// groups are read through the User Management API and synced into the
// target org like directory users.
//
// The connector reads connector-adobe-console.yml (ParseConfig) but does
// not talk HTTP itself: a source connector may import only core, so it
// reads through a core.Target, which cmd builds from Config with the UMAPI
// client (never in test mode: the source org is only read, and Source
// never calls Target.Send).
//
// Membership of the requested groups is matched case-insensitively
// against each user's console groups, every console group of a user feeds
// additional-group rules (DirectoryUser.MemberGroups), and
// identity_type_filter limits the users to one identity type. Extended
// attributes are not supported (a warning), as in UST.
package adobeconsole
