package core

// The documented UMAPI action limits (protocol reference §4.5).
const (
	MaxCommandsPerRequest = 10
	MaxStepsPerCommand    = 10
	MaxEntriesPerList     = 10
)

// StepKind names an action step exactly as it appears on the wire.
type StepKind string

// The action steps usersync sends.
const (
	StepAddAdobeID         StepKind = "addAdobeID"
	StepCreateEnterpriseID StepKind = "createEnterpriseID"
	StepCreateFederatedID  StepKind = "createFederatedID"
	StepUpdate             StepKind = "update"
	StepAdd                StepKind = "add"
	StepRemove             StepKind = "remove"
	StepRemoveFromOrg      StepKind = "removeFromOrg"
	StepCreateUserGroup    StepKind = "createUserGroup"
)

// Create options.
const (
	OptionIgnoreIfExists = "ignoreIfAlreadyExists"
	OptionUpdateIfExists = "updateIfAlreadyExists"
)

// Step is one element of a command's "do" list.
type Step struct {
	Kind StepKind `json:"kind"`
	// Attrs are the parameters of create and update steps (email,
	// firstname, lastname, country, username).
	Attrs map[string]string `json:"attrs,omitempty"`
	// Option is the create option, or createUserGroup's option.
	Option string `json:"option,omitempty"`
	// Groups are the groups of a user command's add or remove step.
	Groups []string `json:"groups,omitempty"`
	// All makes a remove step {"remove": "all"}.
	All bool `json:"all,omitempty"`
	// Users are the emails of a usergroup command's add or remove step.
	Users []string `json:"users,omitempty"`
	// DeleteAccount is removeFromOrg's parameter.
	DeleteAccount bool   `json:"deleteAccount,omitempty"`
	Description   string `json:"description,omitempty"`
}

// Command is one element of an action request: a user command (User set)
// or a user-group command (UserGroup set).
type Command struct {
	User       string `json:"user,omitempty"`
	Domain     string `json:"domain,omitempty"`
	UseAdobeID bool   `json:"useAdobeID,omitempty"`
	UserGroup  string `json:"usergroup,omitempty"`
	RequestID  string `json:"requestID,omitempty"`
	Steps      []Step `json:"do"`
}

// ActionRequest is one POST to the action endpoint.
type ActionRequest struct {
	Commands []Command
	TestOnly bool
	// SyncStart and SyncEnd add the Pragma sync markers UST sends.
	SyncStart, SyncEnd bool
}

// ActionIssue is one entry of a response's errors[] or warnings[].
type ActionIssue struct {
	Index     int    `json:"index"`
	Step      int    `json:"step"`
	RequestID string `json:"requestID,omitempty"`
	User      string `json:"user,omitempty"`
	Code      string `json:"code"`
	Message   string `json:"message,omitempty"`
}

// ActionResponse is the server's answer to an ActionRequest.
type ActionResponse struct {
	Result              string        `json:"result"`
	Completed           int           `json:"completed"`
	NotCompleted        int           `json:"notCompleted"`
	CompletedInTestMode int           `json:"completedInTestMode"`
	Errors              []ActionIssue `json:"errors,omitempty"`
	Warnings            []ActionIssue `json:"warnings,omitempty"`
}
