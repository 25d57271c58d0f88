package core

import "time"

// OrgSnapshot is what was read from one Adobe org.
type OrgSnapshot struct {
	Users  []AdobeUser  `json:"users"`
	Groups []AdobeGroup `json:"groups,omitempty"`
	// Query is what was asked, so that a later run can tell whether the same
	// read would be comparable.
	Query AdobeQuery `json:"query"`
}

// Snapshot is both sides as read at one moment: the input of BuildPlan.
type Snapshot struct {
	Directory DirectoryResult        `json:"directory"`
	Adobe     map[string]OrgSnapshot `json:"adobe"` // by org name (PrimaryOrg, secondaries)
	FetchedAt time.Time              `json:"fetched_at"`
}
