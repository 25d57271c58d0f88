package core

// ExplainStep is one step of the story of why a user is or is not synced.
type ExplainStep struct {
	// Stage is one of: source, selection, mapping, hook, additional-groups,
	// match, exclusion, adobe-only, limit, result.
	Stage string `json:"stage"`
	// Outcome is a short verdict: "found", "selected", "not selected",
	// "matched", "excluded", ...
	Outcome string `json:"outcome"`
	// Detail explains it in plain words.
	Detail string `json:"detail"`
}

// Explanation is the answer to "why is this user (not) synced".
type Explanation struct {
	Query string `json:"query"` // what was asked: an email or username
	// Directory and Adobe are the records found (nil when none).
	Directory *DirectoryUser `json:"directory,omitempty"`
	Adobe     *AdobeUser     `json:"adobe,omitempty"`
	Steps     []ExplainStep  `json:"steps"`
	// Changes are the plan's changes for this user (any org).
	Changes []Change `json:"changes,omitempty"`
}
