package core

import (
	"fmt"
	"strings"
)

// IdentityType is one of Adobe's three account types.
type IdentityType string

// The identity types, spelled as UMAPI spells them.
const (
	AdobeID      IdentityType = "adobeID"
	EnterpriseID IdentityType = "enterpriseID"
	FederatedID  IdentityType = "federatedID"
)

// ParseIdentityType parses an identity type the way UST does: trimmed and
// case-insensitive, returning the canonical spelling. An empty string is an
// error; callers that allow a default check for "" first.
func ParseIdentityType(s string) (IdentityType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "adobeid":
		return AdobeID, nil
	case "enterpriseid":
		return EnterpriseID, nil
	case "federatedid":
		return FederatedID, nil
	}
	return "", fmt.Errorf("invalid identity type %q: must be one of adobeID, enterpriseID, federatedID", s)
}

// PrimaryOrg is the name of the primary Adobe org in org-keyed maps and in
// Change.Org. Secondary orgs use the name they are given under
// adobe_users.connectors.umapi.
const PrimaryOrg = "primary"

// DirectoryUser is one user as a Source returns it.
type DirectoryUser struct {
	// Type is the identity type; empty means the configured default.
	Type      IdentityType `json:"type,omitempty"`
	Username  string       `json:"username,omitempty"`
	Domain    string       `json:"domain,omitempty"`
	Email     string       `json:"email,omitempty"`
	Firstname string       `json:"firstname,omitempty"`
	Lastname  string       `json:"lastname,omitempty"`
	Country   string       `json:"country,omitempty"`
	// Groups are the directory groups the user belongs to, among those the
	// source was asked to read (CSV reports every group of its groups column).
	Groups []string `json:"groups,omitempty"`
	// MemberGroups feed additional-group rules (UST's member_groups).
	MemberGroups []string `json:"member_groups,omitempty"`
	// Attributes are the raw source attributes the extension hook sees as
	// source_attributes. A value is nil (None), a string or a []string.
	Attributes map[string]any `json:"attributes,omitempty"`
	// Origin says where the record came from, for explanations: a CSV file
	// and line ("users.csv:12"), an LDAP DN, an Okta user id.
	Origin string `json:"origin,omitempty"`
	// Disabled, when set, says why the account can never be selected
	// ("disabled (accountEnabled is false)", "suspended"): sources leave
	// such users out of a read, but a lookup for explain returns them so
	// that explain can say so. The planner never selects such a user.
	Disabled string `json:"disabled,omitempty"`
}

// AdobeUser is one user of an Adobe org as UMAPI returns it.
type AdobeUser struct {
	Type      IdentityType `json:"type"`
	Username  string       `json:"username,omitempty"`
	Domain    string       `json:"domain,omitempty"`
	Email     string       `json:"email"`
	Firstname string       `json:"firstname,omitempty"`
	Lastname  string       `json:"lastname,omitempty"`
	Country   string       `json:"country,omitempty"`
	// Groups are the user's direct group memberships.
	Groups []string `json:"groups,omitempty"`
	Status string   `json:"status,omitempty"`
}

// AdobeGroup is a user group, product profile or admin group of an org.
type AdobeGroup struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"` // USER_GROUP, PRODUCT_PROFILE, ...
	ProductName string `json:"productName,omitempty"`
	MemberCount int    `json:"memberCount,omitempty"`
	ReadOnly    bool   `json:"isReadOnly,omitempty"`
	// LicenseQuota is a product profile's licence quota as the group list
	// gives it: a whole number, "UNLIMITED", or "" when not known.
	LicenseQuota string `json:"licenseQuota,omitempty"`
}

// NormalizeGroup is the form in which group names are compared and sent:
// trimmed and lower-cased (UST §3.2).
func NormalizeGroup(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// SplitQualifiedGroup splits "org::group" into its org and group parts. A
// name without a prefix belongs to the primary org (org is "").
func SplitQualifiedGroup(q string) (org, group string) {
	i := strings.LastIndex(q, "::")
	if i < 0 {
		return "", q
	}
	return q[:i], q[i+2:]
}
