package core

import (
	"regexp"
)

// Strategy is UST's --strategy.
type Strategy string

// The strategies.
const (
	StrategySync Strategy = "sync"
	StrategyPush Strategy = "push"
)

// UsersMode is UST's --users.
type UsersMode string

// The --users modes.
const (
	UsersAll    UsersMode = "all"
	UsersMapped UsersMode = "mapped"
	UsersGroup  UsersMode = "group"
	UsersFile   UsersMode = "file"
)

// AdobeUsersMode is UST's --adobe-users.
type AdobeUsersMode string

// The --adobe-users modes.
const (
	AdobeUsersAll    AdobeUsersMode = "all"
	AdobeUsersMapped AdobeUsersMode = "mapped"
	AdobeUsersGroup  AdobeUsersMode = "group"
)

// AdobeOnlyKind is UST's --adobe-only-user-action.
type AdobeOnlyKind string

// The Adobe-only actions.
const (
	AdobeOnlyPreserve          AdobeOnlyKind = "preserve"
	AdobeOnlyExclude           AdobeOnlyKind = "exclude"
	AdobeOnlyWriteFile         AdobeOnlyKind = "write-file"
	AdobeOnlyDelete            AdobeOnlyKind = "delete"
	AdobeOnlyRemove            AdobeOnlyKind = "remove"
	AdobeOnlyRemoveAdobeGroups AdobeOnlyKind = "remove-adobe-groups"
)

// GroupMapping is one entry of directory_users.groups.
type GroupMapping struct {
	DirectoryGroup string
	// AdobeGroups are qualified names ("org::Group" for secondaries); it may
	// be empty (the directory group then only selects users).
	AdobeGroups []string
}

// AdditionalGroupRule is one entry of directory_users.additional_groups.
type AdditionalGroupRule struct {
	Source *regexp.Regexp
	// Target is the qualified replacement ("org::Group-\1" style groups are
	// expanded with the regexp's submatches).
	Target string
}

// Limit is max_adobe_only_users: a count, or a percentage of Adobe users.
type Limit struct {
	Set       bool
	Count     int
	Percent   float64
	IsPercent bool
	// Text is the setting as written, for messages.
	Text string
}

// Options are everything the engine needs to fetch and plan. core/config
// builds them from UST's configuration files and the sync flags.
type Options struct {
	Strategy Strategy
	Users    UsersMode
	// UsersGroups are the groups of --users group.
	UsersGroups []string
	UserFilter  *regexp.Regexp
	AdobeUsers  AdobeUsersMode
	// AdobeUsersGroups are the groups of --adobe-users group.
	AdobeUsersGroups []string
	ProcessGroups    bool
	UpdateUserInfo   bool
	AdobeOnlyAction  AdobeOnlyKind
	// AdobeOnlyFile is write-file's output path.
	AdobeOnlyFile string
	// AdobeOnlyList is the parsed --adobe-only-user-list, when given; no
	// directory or Adobe users are read then.
	AdobeOnlyList   []Stray
	ExcludeUnmapped bool
	TestMode        bool

	DefaultIdentityType IdentityType
	DefaultCountry      string

	GroupMapping     []GroupMapping
	AdditionalGroups []AdditionalGroupRule
	AutoCreate       bool

	ExcludeIdentityTypes []IdentityType
	ExcludeAdobeGroups   []string
	ExcludeUsers         []*regexp.Regexp
	UpdateAttributes     []string

	MaxAdobeOnly      Limit
	GroupRemovalsOnly bool
	// Safety holds the limits beyond UST (see core/limits.go).
	Safety Safety

	Hook                Hook
	ExtendedAttributes  []string
	ExtendedAdobeGroups []string

	// Secondaries are the names of the secondary orgs.
	Secondaries []string
	// TrustedConnector is the directory connector's trusted setting.
	TrustedConnector bool

	// DebugNotes keeps the planner's debug-level notes (a line per Adobe
	// account read) on the plan; off, only the INFO and higher ones.
	DebugNotes bool
}
