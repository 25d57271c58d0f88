package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// The documented action limits (§4.5).
const (
	// maxDrainBody bounds how much of an oversized body is read and
	// dropped before answering 413; beyond it the connection is closed.
	maxDrainBody    = 64 << 20
	maxCommands     = 10
	maxSteps        = 10
	maxListEntries  = 10
	maxRootString   = 250
	maxNameLength   = 250
	maxGroupName    = 255
	maxGroupMembers = 200000
)

// issue is one entry of an action response's errors[] or warnings[].
type issue struct {
	Index       int    `json:"index"`
	Step        int    `json:"step"`
	RequestID   string `json:"requestID,omitempty"`
	User        string `json:"user,omitempty"`
	ErrorCode   string `json:"errorCode,omitempty"`
	WarningCode string `json:"warningCode,omitempty"`
	Message     string `json:"message"`
}

// actionResult is the action endpoint's 200 body (§4.8).
type actionResult struct {
	Result              string  `json:"result"`
	Completed           int     `json:"completed"`
	NotCompleted        int     `json:"notCompleted"`
	CompletedInTestMode int     `json:"completedInTestMode"`
	Errors              []issue `json:"errors,omitempty"`
	Warnings            []issue `json:"warnings,omitempty"`
}

// stepError fails one step, and so its command.
type stepError struct {
	step    int
	code    string
	message string
}

func fail(step int, code, format string, args ...any) *stepError {
	return &stepError{step: step, code: code, message: fmt.Sprintf(format, args...)}
}

// command is a parsed and syntax-checked action command.
type command struct {
	user, usergroup, domain, requestID string
	useAdobeID                         bool
	steps                              []step
	sent                               int // steps in the request, parsed or not
}

// step is one parsed element of a command's "do" list.
type step struct {
	kind          string
	fields        map[string]string // create, update, createUserGroup, updateUserGroup
	groups        []string          // user add/remove
	all           bool              // remove "all"
	users         []string          // usergroup add/remove
	profiles      []string          // usergroup add/remove
	deleteAccount bool
}

func isCreate(kind string) bool {
	return kind == "addAdobeID" || kind == "createEnterpriseID" || kind == "createFederatedID"
}

// action serves POST /action/{orgId}[?testOnly=true].
func (s *Server) action(r *http.Request) response {
	malformed := func(msg string) response {
		return jsonResp(http.StatusBadRequest, resultMessage{"error.command.malformed", msg})
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxActionBody+1))
	if err != nil {
		return malformed("Unreadable request body")
	}
	if len(data) > maxActionBody {
		// Read (and drop) the rest, up to a bound, so the client can
		// finish sending and read the answer instead of a reset.
		io.Copy(io.Discard, io.LimitReader(r.Body, maxDrainBody))
		return jsonResp(http.StatusRequestEntityTooLarge, resultMessage{"error.command.malformed", "Request body larger than 1 MB"})
	}
	var raw []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return malformed("Malformed JSON: the body must be an array of commands: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("Malformed JSON: data after the array of commands")
	}
	if len(raw) == 0 {
		return malformed("No commands in the request")
	}
	if len(raw) > maxCommands {
		return malformed(fmt.Sprintf("Too many commands in one request: %d (at most %d)", len(raw), maxCommands))
	}
	testOnly := queryBool(r.URL.Query(), "testOnly", false)

	res := actionResult{}
	s.mu.Lock()
	o := s.org
	for i, rc := range raw {
		cmd, warns, perr := parseCommand(rc)
		for _, w := range warns {
			res.Warnings = append(res.Warnings, issue{Index: i, Step: w.step, RequestID: cmd.requestID,
				User: cmd.target(), WarningCode: w.code, Message: w.message})
		}
		s.stats.commands.Add(1)
		s.stats.steps.Add(int64(cmd.sent))
		if perr == nil {
			perr = o.run(cmd, testOnly)
		}
		if perr != nil {
			res.NotCompleted++
			res.Errors = append(res.Errors, issue{Index: i, Step: perr.step, RequestID: cmd.requestID,
				User: cmd.target(), ErrorCode: perr.code, Message: perr.message})
			continue
		}
		if testOnly {
			res.CompletedInTestMode++
		} else {
			res.Completed++
		}
	}
	o.compact()
	s.mu.Unlock()
	s.stats.errors.Add(int64(len(res.Errors)))
	switch {
	case res.NotCompleted == 0:
		res.Result = "success"
	case res.NotCompleted == len(raw):
		res.Result = "error"
	default:
		res.Result = "partial"
	}
	return jsonResp(http.StatusOK, res)
}

func (c *command) target() string {
	if c.usergroup != "" {
		return c.usergroup
	}
	return c.user
}

var rootKeys = []string{"user", "usergroup", "domain", "useAdobeID", "requestID", "do"}

// parseCommand decodes one command and checks its syntax: every error found
// here fails the command before any of its steps runs.
func parseCommand(rc json.RawMessage) (*command, []*stepError, *stepError) {
	cmd := &command{}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(rc, &root); err != nil || root == nil {
		return cmd, nil, fail(0, "error.command.malformed", "A command must be a JSON object")
	}
	// requestID first, so that every later error carries it.
	if v, ok := root["requestID"]; ok {
		if err := json.Unmarshal(v, &cmd.requestID); err != nil {
			return cmd, nil, fail(0, "error.command.string_expected", "requestID must be a string")
		}
		if len(cmd.requestID) > maxRootString || hasControl(cmd.requestID) {
			// Not echoed: the point is not to copy it into every error.
			bad := cmd.requestID
			cmd.requestID = ""
			if len(bad) > maxRootString {
				return cmd, nil, fail(0, "error.command.string.too_long", "String too long for field: requestID, max length %d", maxRootString)
			}
			return cmd, nil, fail(0, "error.command.malformed", "requestID must not hold control characters")
		}
	}
	for k := range root {
		if !slices.Contains(rootKeys, k) {
			return cmd, nil, fail(0, "error.command.illegal_entry", "Unknown command field: %s", k)
		}
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"user", &cmd.user}, {"usergroup", &cmd.usergroup}, {"domain", &cmd.domain}} {
		v, ok := root[f.key]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			code := "error.command.string_expected"
			if f.key == "domain" {
				code = "error.command.domain.string_expected"
			}
			return cmd, nil, fail(0, code, "%s must be a string", f.key)
		}
	}
	if v, ok := root["useAdobeID"]; ok {
		if err := json.Unmarshal(v, &cmd.useAdobeID); err != nil {
			return cmd, nil, fail(0, "error.command.boolean_expected", "useAdobeID must be true or false")
		}
	}
	if (cmd.user == "") == (cmd.usergroup == "") {
		return cmd, nil, fail(0, "error.command.user_usergroup.missing", "A command needs exactly one of user and usergroup")
	}
	if hasControl(cmd.user) || hasControl(cmd.domain) || hasControl(cmd.usergroup) {
		return cmd, nil, fail(0, "error.command.malformed", "user, domain and usergroup must not hold control characters")
	}
	if len(cmd.user) > maxRootString {
		return cmd, nil, fail(0, "error.command.string.too_long", "String too long for field: user, max length %d", maxRootString)
	}
	if len(cmd.domain) > maxRootString {
		return cmd, nil, fail(0, "error.command.string.too_long", "String too long for field: domain, max length %d", maxRootString)
	}
	if len(cmd.usergroup) > maxGroupName {
		return cmd, nil, fail(0, "error.command.string.too_long", "String too long for field: usergroup, max length %d", maxGroupName)
	}
	if cmd.domain != "" && (cmd.usergroup != "" || strings.Contains(cmd.user, "@")) {
		return cmd, nil, fail(0, "error.command.domain.must_be_used_with_nonemail_username",
			"domain may only be given with a username that is not an email address")
	}
	if cmd.user != "" && !strings.Contains(cmd.user, "@") && cmd.domain == "" {
		return cmd, nil, fail(0, "error.command.domain.missing", "A username that is not an email address needs a domain: %s", cmd.user)
	}
	var steps []json.RawMessage
	if err := json.Unmarshal(root["do"], &steps); err != nil || len(steps) == 0 {
		return cmd, nil, fail(0, "error.command.steps.malformed", "do must be a non-empty array of steps")
	}
	cmd.sent = len(steps)
	var warns []*stepError
	for i, rs := range steps {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(rs, &obj); err != nil || len(obj) != 1 {
			return cmd, warns, fail(i, "error.command.steps.malformed", "Each step must be an object with exactly one key")
		}
		if i >= maxSteps {
			return cmd, warns, fail(i, "error.command.add_remove.list_too_long",
				"Too many steps in a command: %d (at most %d)", len(steps), maxSteps)
		}
		var st step
		var perr *stepError
		for k, v := range obj {
			st.kind = k
			if cmd.user != "" {
				perr = parseUserStep(&st, v, i, &warns)
			} else {
				perr = parseGroupStep(&st, v, i)
			}
		}
		if perr != nil {
			return cmd, warns, perr
		}
		if isCreate(st.kind) || st.kind == "createUserGroup" {
			if slices.ContainsFunc(cmd.steps, func(p step) bool { return isCreate(p.kind) || p.kind == "createUserGroup" }) {
				return cmd, warns, fail(i, "error.command.create.more_than_one", "Only one create step is allowed per command")
			}
			if i != 0 {
				return cmd, warns, fail(i, "error.command.create.not_first", "A create step must be the first step of its command")
			}
		}
		if st.kind == "removeFromOrg" && i != len(steps)-1 {
			return cmd, warns, fail(i, "error.command.removefromorg.not_last", "removeFromOrg must be the last step of its command")
		}
		cmd.steps = append(cmd.steps, st)
	}
	return cmd, warns, nil
}

var createKeys = []string{"email", "firstname", "lastname", "country", "option"}

// stringFields decodes a step parameter object whose values are strings.
func stringFields(v json.RawMessage, i int, allowed []string, unknownCode string) (map[string]string, *stepError) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
		return nil, fail(i, "error.command.create.object_expected", "The step's parameter must be an object")
	}
	out := make(map[string]string, len(obj))
	for k, raw := range obj {
		if !slices.Contains(allowed, k) {
			return nil, fail(i, unknownCode, "Unknown key: %s", k)
		}
		var sv string
		if err := json.Unmarshal(raw, &sv); err != nil {
			return nil, fail(i, "error.command.create.string_expected", "%s must be a string", k)
		}
		out[k] = sv
	}
	return out, nil
}

// hasControl reports whether s holds a control character (NUL, C0, DEL or
// C1), which no UMAPI identifier or name accepts.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// checkLengths checks a create or update step's strings: lengths, and no
// control characters in an email, a username or a name.
func checkLengths(f map[string]string, i int) *stepError {
	for _, k := range []string{"firstname", "lastname"} {
		if len(f[k]) > maxNameLength {
			return fail(i, "error.command.string.too_long", "String too long for field: %s, max length %d", k, maxNameLength)
		}
	}
	if e, ok := f["email"]; ok && hasControl(e) {
		return fail(i, "error.user.email.invalid", "Invalid email address: %q", e)
	}
	for _, k := range []string{"firstname", "lastname", "username"} {
		if hasControl(f[k]) {
			return fail(i, "error.user.name.invalid", "Invalid %s: control characters are not allowed", k)
		}
	}
	if len(f["username"]) > maxRootString {
		return fail(i, "error.command.string.too_long", "String too long for field: username, max length %d", maxRootString)
	}
	if len(f["country"]) > 2 {
		return fail(i, "error.command.string.too_long", "String too long for field: country, max length 2")
	}
	return nil
}

func parseUserStep(st *step, v json.RawMessage, i int, warns *[]*stepError) *stepError {
	switch st.kind {
	case "addAdobeID", "createEnterpriseID", "createFederatedID":
		f, err := stringFields(v, i, createKeys, "error.command.create.key.unknown")
		if err != nil {
			return err
		}
		switch f["option"] {
		case "", "ignoreIfAlreadyExists", "updateIfAlreadyExists":
		default:
			return fail(i, "error.option.illegal", "Illegal option: %s", f["option"])
		}
		if err := checkLengths(f, i); err != nil {
			return err
		}
		st.fields = f
	case "update":
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) == nil {
			if _, ok := obj["country"]; ok {
				return fail(i, "error.update.country.no_update", "Country cannot be updated")
			}
		}
		f, err := stringFields(v, i, []string{"email", "firstname", "lastname", "username"}, "error.command.illegal_entry")
		if err != nil {
			return err
		}
		if len(f) == 0 {
			return fail(i, "error.update.no", "Nothing to update")
		}
		if err := checkLengths(f, i); err != nil {
			return err
		}
		st.fields = f
	case "add", "remove":
		var all string
		if json.Unmarshal(v, &all) == nil {
			if st.kind == "remove" && all == "all" {
				st.all = true
				return nil
			}
			return fail(i, "error.command.add_remove.list", `Only remove accepts the string "all"`)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
			return fail(i, "error.command.add_remove.list", "add and remove take an object of lists")
		}
		if len(obj) == 0 {
			return fail(i, "error.command.add_remove.missing_list", "add and remove need a group list")
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			switch k {
			case "group", "productConfiguration", "usergroup":
			case "product":
				*warns = append(*warns, fail(i, "warning.command.deprecated", "'product' command is deprecated. Please use productConfiguration."))
			default:
				return fail(i, "error.command.add_remove.key.unknown", "Unknown list: %s", k)
			}
			list, err := parseList(obj[k], i, "group")
			if err != nil {
				return err
			}
			for _, n := range list {
				if slicesContainsFold(st.groups, n) {
					return fail(i, "error.command.add_remove.duplicate.group_list", "Duplicate group: %s", n)
				}
				st.groups = append(st.groups, n)
			}
			if len(st.groups) > maxListEntries {
				return fail(i, "error.command.add_remove.list_too_long",
					"Too many entries in a list: %d (at most %d)", len(st.groups), maxListEntries)
			}
		}
	case "removeFromOrg":
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
			return fail(i, "error.command.create.object_expected", "removeFromOrg takes an object")
		}
		for k, raw := range obj {
			if k != "deleteAccount" {
				return fail(i, "error.command.illegal_entry", "Unknown key: %s", k)
			}
			if err := json.Unmarshal(raw, &st.deleteAccount); err != nil {
				return fail(i, "error.command.boolean_expected", "deleteAccount must be true or false")
			}
		}
	default:
		return fail(i, "error.command.step.unknown", "Unknown step for a user command: %s", st.kind)
	}
	return nil
}

// parseList decodes a name list of an add or remove step: a non-empty array
// of non-empty strings, at most 10 of them.
func parseList(v json.RawMessage, i int, what string) ([]string, *stepError) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, fail(i, "error.command.add_remove.list_not_array", "A %s list must be an array", what)
	}
	if len(items) == 0 {
		return nil, fail(i, "error.group.invalid_list", "Empty or null entry in a %s list", what)
	}
	if len(items) > maxListEntries {
		return nil, fail(i, "error.command.add_remove.list_too_long",
			"Too many entries in a list: %d (at most %d)", len(items), maxListEntries)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err != nil || s == "" {
			return nil, fail(i, "error.group.invalid_list", "Empty or null entry in a %s list", what)
		}
		if len(s) > maxGroupName {
			return nil, fail(i, "error.command.add_remove.group_or_product_name_too_long", "Name too long: %.40s...", s)
		}
		out = append(out, s)
	}
	return out, nil
}

func parseGroupStep(st *step, v json.RawMessage, i int) *stepError {
	switch st.kind {
	case "createUserGroup":
		f, err := stringFields(v, i, []string{"option", "description", "name"}, "error.command.create.key.unknown")
		if err != nil {
			return err
		}
		switch f["option"] {
		case "", "ignoreIfAlreadyExists", "updateIfAlreadyExists":
		default:
			return fail(i, "error.option.illegal", "Illegal option: %s", f["option"])
		}
		st.fields = f
	case "updateUserGroup":
		f, err := stringFields(v, i, []string{"name", "description"}, "error.command.illegal_entry")
		if err != nil {
			return err
		}
		if len(f["name"]) > maxGroupName {
			return fail(i, "error.command.string.too_long", "String too long for field: name, max length %d", maxGroupName)
		}
		st.fields = f
	case "deleteUserGroup":
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
			return fail(i, "error.command.create.object_expected", "deleteUserGroup takes an empty object")
		}
		if len(obj) != 0 {
			return fail(i, "error.command.object_not_empty", "deleteUserGroup takes an empty object")
		}
	case "add", "remove":
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
			return fail(i, "error.command.add_remove.list", "add and remove take an object of lists")
		}
		if len(obj) == 0 {
			return fail(i, "error.command.add_remove.missing_list", "add and remove need a user or productConfiguration list")
		}
		for k, raw := range obj {
			var dst *[]string
			var dup string
			switch k {
			case "user":
				dst, dup = &st.users, "error.command.add_remove.duplicate.user_list"
			case "productConfiguration":
				dst, dup = &st.profiles, "error.command.add_remove.duplicate.product_list"
			default:
				return fail(i, "error.command.add_remove.key.unknown", "Unknown list: %s", k)
			}
			list, err := parseList(raw, i, k)
			if err != nil {
				return err
			}
			for _, n := range list {
				if slicesContainsFold(*dst, n) {
					return fail(i, dup, "Duplicate entry: %s", n)
				}
				*dst = append(*dst, n)
			}
		}
	default:
		return fail(i, "error.command.step.unknown", "Unknown step for a usergroup command: %s", st.kind)
	}
	return nil
}

// run executes a parsed command's steps in order; the first failing step
// stops the command (steps before it stay applied). In test mode nothing
// changes and steps on a user or group that does not exist succeed.
func (o *org) run(cmd *command, test bool) *stepError {
	if cmd.usergroup != "" {
		return o.runGroup(cmd, test)
	}
	u := o.lookup(cmd.user, cmd.domain, cmd.useAdobeID)
	missing := func(i int) *stepError {
		return fail(i, "error.user.nonexistent", "User Id does not exist: %s", cmd.user)
	}
	for i, st := range cmd.steps {
		var err *stepError
		switch st.kind {
		case "addAdobeID", "createEnterpriseID", "createFederatedID":
			u, err = o.create(cmd, st, i, test)
		case "update":
			if u == nil {
				if test {
					err = o.checkUpdate(cmd, nil, st, i)
					break
				}
				err = missing(i)
				break
			}
			err = o.update(cmd, u, st, i, test)
		case "add", "remove":
			if u == nil && !test {
				err = missing(i)
				break
			}
			err = o.changeGroups(u, st, i, test)
		case "removeFromOrg":
			// Success even for a user who does not exist (§6.7).
			if u != nil {
				if st.deleteAccount && u.typ != adobeID {
					if d := o.domainBy[lower(u.domain)]; d != nil && d.trusted {
						return fail(i, "error.api.user.not.parent.org",
							"Only the organization that owns the domain can delete the account: %s", u.email)
					}
				}
				if !test {
					o.removeUser(u)
				}
				u = nil
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// create runs a create step and returns the user later steps act on.
func (o *org) create(cmd *command, st step, i int, test bool) (*user, *stepError) {
	f := st.fields
	email := f["email"]
	if !validEmail(email) {
		return nil, fail(i, "error.user.email.invalid", "Invalid email address: %s", email)
	}
	option := f["option"]
	exists := func(u *user) (*user, *stepError) {
		switch option {
		case "":
			return nil, fail(i, "error.user.already_in_org", "User already exists in the org: %s", email)
		case "updateIfAlreadyExists":
			if u.typ != adobeID && !test {
				if v, ok := f["firstname"]; ok {
					u.firstname = v
				}
				if v, ok := f["lastname"]; ok {
					u.lastname = v
				}
			}
		}
		return u, nil
	}
	var t idType
	switch st.kind {
	case "addAdobeID":
		t = adobeID
	case "createEnterpriseID":
		t = enterpriseID
	default:
		t = federatedID
	}
	username, dom := email, emailDomain(email)
	switch {
	case t != federatedID:
		if !strings.EqualFold(cmd.user, email) {
			return nil, fail(i, "error.user.must_match_email", "The command's user must be the email for %s: %s", st.kind, cmd.user)
		}
	case strings.Contains(cmd.user, "@"):
		username = cmd.user
		dom = emailDomain(cmd.user)
	default:
		username, dom = cmd.user, cmd.domain
	}
	if c, ok := f["country"]; ok && c != "" && !validCountry(c, t) {
		return nil, fail(i, "error.country.invalid", "Invalid country code: %s", c)
	}
	if t == adobeID {
		if u := o.adobe[lower(email)]; u != nil {
			return exists(u)
		}
		if test {
			return nil, nil
		}
		u := &user{typ: adobeID, email: email, username: email, domain: emailDomain(email),
			firstname: f["firstname"], lastname: f["lastname"], country: o.intern(f["country"])}
		o.insertUser(u)
		return u, nil
	}
	for _, dn := range []string{dom, emailDomain(email)} {
		d := o.domainBy[lower(dn)]
		if d == nil {
			return nil, fail(i, "error.domain.trust.nonexistent", "Changes to users are only allowed in claimed domains.")
		}
		if d.typ != t {
			return nil, fail(i, "error.user.type_mismatch", "Domain %s belongs to a %s directory, not %s", d.name, d.typ, t)
		}
	}
	if t == federatedID && f["country"] == "" {
		return nil, fail(i, "error.country.invalid", "A country is required to create a Federated ID")
	}
	if f["firstname"] == "" {
		return nil, fail(i, "error.user.firstname_missing", "First name is required to create a user of type %s", t)
	}
	if f["lastname"] == "" {
		return nil, fail(i, "error.user.lastname_missing", "Last name is required to create a user of type %s", t)
	}
	if u := o.byEmail[lower(email)]; u != nil {
		return exists(u)
	}
	if u := o.usernameTaken(username, dom); u != nil {
		return exists(u)
	}
	if u := o.adobe[lower(email)]; u != nil {
		// The real API answers success and creates nothing when an Adobe
		// ID holds the email; later steps land on the Adobe ID (§6.4).
		return u, nil
	}
	if test {
		return nil, nil
	}
	u := &user{typ: t, email: email, username: username, domain: o.domainBy[lower(dom)].name,
		firstname: f["firstname"], lastname: f["lastname"], country: o.intern(f["country"])}
	if strings.EqualFold(username, email) {
		u.username = email
	}
	o.insertUser(u)
	return u, nil
}

// checkUpdate validates an update's fields; u may be nil in test mode,
// where the existence check is skipped (§4.7).
func (o *org) checkUpdate(cmd *command, u *user, st step, i int) *stepError {
	f := st.fields
	if u != nil && u.typ == adobeID {
		return fail(i, "error.update.adobeid.no", "An Adobe ID cannot be updated: %s", cmd.user)
	}
	if u != nil {
		if d := o.domainBy[lower(u.domain)]; d != nil && d.trusted {
			return fail(i, "error.api.user.not.parent.org", "Only the organization that owns the domain can update the user: %s", u.email)
		}
	}
	if e, ok := f["email"]; ok {
		if !validEmail(e) {
			return fail(i, "error.user.email.invalid", "Invalid email address: %s", e)
		}
		d := o.domainBy[lower(emailDomain(e))]
		if d == nil {
			return fail(i, "error.domain.trust.nonexistent", "Changes to users are only allowed in claimed domains.")
		}
		if u != nil {
			if d.typ != u.typ {
				return fail(i, "error.update.domain.mismatch", "Domain %s is not in the user's directory", d.name)
			}
			if e != u.email && strings.EqualFold(e, u.email) {
				return fail(i, "error.update.no", "The letter case of an email address cannot be changed: %s", u.email)
			}
			if other := o.byEmail[lower(e)]; other != nil && other != u {
				return fail(i, "error.user.email.name_in_use", "Email address already in use: %s", e)
			}
		}
	}
	if n, ok := f["username"]; ok {
		if n == "" {
			return fail(i, "error.user.name.invalid", "Invalid username")
		}
		if u != nil && u.typ == enterpriseID {
			return fail(i, "error.update.username.no", "The username of an Enterprise ID cannot be updated")
		}
		if strings.Contains(n, "@") {
			if o.domainBy[lower(emailDomain(n))] == nil {
				return fail(i, "error.domain.trust.nonexistent", "Changes to users are only allowed in claimed domains.")
			}
		}
		if u != nil {
			if other := o.usernameTaken(n, u.domain); other != nil && other != u {
				return fail(i, "error.user.name_in_use", "Username already in use: %s", n)
			}
		}
	}
	return nil
}

func (o *org) update(cmd *command, u *user, st step, i int, test bool) *stepError {
	if err := o.checkUpdate(cmd, u, st, i); err != nil {
		return err
	}
	if test {
		return nil
	}
	f := st.fields
	o.unindex(u)
	defer o.reindex(u)
	if e, ok := f["email"]; ok && e != u.email {
		// Enterprise IDs, and Federated IDs whose username is their email,
		// keep the username in step with the email.
		if u.typ == enterpriseID || (strings.EqualFold(u.username, u.email) && f["username"] == "") {
			u.username = e
			u.domain = o.domainBy[lower(emailDomain(e))].name
		}
		u.email = e
	}
	if n, ok := f["username"]; ok {
		u.username = n
		if strings.EqualFold(n, u.email) {
			u.username = u.email
		}
	}
	if v, ok := f["firstname"]; ok {
		u.firstname = v
	}
	if v, ok := f["lastname"]; ok {
		u.lastname = v
	}
	return nil
}

// reindex puts an updated user back into the lookup maps at its place in
// the paging order.
func (o *org) reindex(u *user) {
	if u.typ == adobeID {
		o.adobe[lower(u.email)] = u
		return
	}
	o.byEmail[lower(u.email)] = u
	if !strings.EqualFold(u.username, u.email) {
		o.byName[nameKey(u.username, u.domain)] = u
	}
}

// resolveGroups finds the groups a user add/remove names; every name must
// exist (admin groups are created on first use).
func (o *org) resolveGroups(names []string, i int, create bool) ([]*group, *stepError) {
	out := make([]*group, 0, len(names))
	for _, n := range names {
		ln := lower(n)
		if ln == "_org_admin" || ln == "_compartment_admin" || ln == "_compartment_viewer" {
			return nil, fail(i, "error.group.invalid_name", "Group %s cannot be assigned or removed through the API", n)
		}
		g := o.groupBy[ln]
		if g == nil && strings.HasPrefix(n, "_") && o.knownAdminName(n) {
			if !create {
				continue // test mode: it would be created
			}
			g = o.adminGroup(n, false)
		}
		if g == nil {
			return nil, fail(i, "error.group.not_found", "Group %s was not found", n)
		}
		out = append(out, g)
	}
	return out, nil
}

// changeGroups runs a user command's add or remove step; u nil means the
// user does not exist (the caller decides whether that is an error).
func (o *org) changeGroups(u *user, st step, i int, test bool) *stepError {
	if st.all {
		if u != nil && !test {
			kept := u.groups[:0]
			for _, g := range u.groups {
				if g.typ == typeSysAdmin {
					kept = append(kept, g)
					continue
				}
				g.members--
			}
			clear(u.groups[len(kept):])
			u.groups = kept
		}
		return nil
	}
	groups, err := o.resolveGroups(st.groups, i, !test && u != nil)
	if err != nil || u == nil || test {
		return err
	}
	if st.kind == "add" {
		for _, g := range groups {
			if g.typ == typeUserGroup && g.readOnly {
				return fail(i, "error.usergroup.readonly.add_user_not_allowed", "Users cannot be added to the read-only user group %s", g.name)
			}
			if g.typ == typeUserGroup && g.members >= maxGroupMembers && !u.inGroup(g) {
				return fail(i, "error.usergroup.exceeds_maximum_member_count", "User group %s has reached its maximum member count", g.name)
			}
		}
		for _, g := range groups {
			if !u.inGroup(g) {
				u.groups = append(u.groups, g)
				g.members++
			}
		}
		return nil
	}
	for _, g := range groups {
		if g.typ == typeUserGroup && g.readOnly {
			return fail(i, "error.usergroup.readonly.remove_user_not_allowed", "Users cannot be removed from the read-only user group %s", g.name)
		}
	}
	for _, g := range groups {
		if j := slices.Index(u.groups, g); j >= 0 {
			u.groups = slices.Delete(u.groups, j, j+1)
			g.members--
		}
	}
	return nil
}

func (o *org) runGroup(cmd *command, test bool) *stepError {
	name := cmd.usergroup
	g := o.groupBy[lower(name)]
	notFound := func(i int) *stepError {
		return fail(i, "error.usergroup.not_found", "User group %s was not found", name)
	}
	isUG := g != nil && g.typ == typeUserGroup
	for i, st := range cmd.steps {
		if st.kind != "createUserGroup" && !isUG {
			if test && g == nil {
				continue // a test-mode create, or a group that may exist by then
			}
			return notFound(i)
		}
		switch st.kind {
		case "createUserGroup":
			if n, ok := st.fields["name"]; ok && !strings.EqualFold(n, name) {
				return fail(i, "error.command.illegal_entry", "createUserGroup's name must be the command's usergroup: %s", n)
			}
			if g != nil {
				if !isUG || st.fields["option"] == "" {
					return fail(i, "error.usergroup.already_exists", "User group %s already exists", g.name)
				}
				if st.fields["option"] == "updateIfAlreadyExists" {
					if d, ok := st.fields["description"]; ok {
						if g.readOnly {
							return fail(i, "error.usergroup.readonly.update_not_allowed", "The read-only user group %s cannot be updated", g.name)
						}
						if !test {
							g.description = d
						}
					}
				}
				continue
			}
			if strings.HasPrefix(name, "_") {
				return fail(i, "error.group.invalid_name", "User group names must not start with _: %s", name)
			}
			if test {
				continue
			}
			g = &group{name: name, typ: typeUserGroup, description: st.fields["description"]}
			o.addGroup(g)
			isUG = true
		case "updateUserGroup":
			if g.readOnly {
				return fail(i, "error.usergroup.readonly.update_not_allowed", "The read-only user group %s cannot be updated", g.name)
			}
			if n, ok := st.fields["name"]; ok && n != g.name {
				if n == "" || strings.HasPrefix(n, "_") {
					return fail(i, "error.group.invalid_name", "Invalid user group name: %q", n)
				}
				if other := o.groupBy[lower(n)]; other != nil && other != g {
					return fail(i, "error.usergroup.already_exists", "User group %s already exists", other.name)
				}
				if !test {
					delete(o.groupBy, lower(g.name))
					g.name = n
					o.groupBy[lower(n)] = g
				}
			}
			if d, ok := st.fields["description"]; ok && !test {
				g.description = d
			}
		case "deleteUserGroup":
			if g.readOnly {
				return fail(i, "error.usergroup.readonly.remove_not_allowed", "The read-only user group %s cannot be deleted", g.name)
			}
			if !test {
				o.deleteGroup(g)
				g, isUG = nil, false
			}
		case "add", "remove":
			if err := o.groupMembers(g, st, i, test); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *org) deleteGroup(g *group) {
	if g.members > 0 {
		for _, u := range o.users {
			if u == nil {
				continue
			}
			if j := slices.Index(u.groups, g); j >= 0 {
				u.groups = slices.Delete(u.groups, j, j+1)
			}
		}
	}
	o.groups = slices.DeleteFunc(o.groups, func(x *group) bool { return x == g })
	delete(o.groupBy, lower(g.name))
}

// groupMembers runs a usergroup command's add or remove step.
func (o *org) groupMembers(g *group, st step, i int, test bool) *stepError {
	if len(st.users) > 0 && g.readOnly {
		if st.kind == "add" {
			return fail(i, "error.usergroup.readonly.add_user_not_allowed", "Users cannot be added to the read-only user group %s", g.name)
		}
		return fail(i, "error.usergroup.readonly.remove_user_not_allowed", "Users cannot be removed from the read-only user group %s", g.name)
	}
	users := make([]*user, 0, len(st.users))
	for _, e := range st.users {
		u := o.lookup(e, "", false)
		if u == nil && !strings.Contains(e, "@") {
			return fail(i, "error.usergroup.user_list.invalid", "User group members are given by email: %s", e)
		}
		if u == nil {
			if test {
				continue
			}
			return fail(i, "error.user.nonexistent", "User Id does not exist: %s", e)
		}
		users = append(users, u)
	}
	profiles := make([]*group, 0, len(st.profiles))
	for _, n := range st.profiles {
		p := o.groupBy[lower(n)]
		if p == nil || p.typ != typeProductProfile {
			return fail(i, "error.group.not_found", "Group %s was not found", n)
		}
		profiles = append(profiles, p)
	}
	if st.kind == "add" {
		adding := 0
		for _, u := range users {
			if !u.inGroup(g) {
				adding++
			}
		}
		if adding > 0 && g.members+adding > maxGroupMembers {
			return fail(i, "error.usergroup.exceeds_maximum_member_count", "User group %s has reached its maximum member count", g.name)
		}
	}
	if test {
		return nil
	}
	for _, u := range users {
		j := slices.Index(u.groups, g)
		switch {
		case st.kind == "add" && j < 0:
			u.groups = append(u.groups, g)
			g.members++
		case st.kind == "remove" && j >= 0:
			u.groups = slices.Delete(u.groups, j, j+1)
			g.members--
		}
	}
	for _, p := range profiles {
		j := slices.Index(g.profiles, p)
		switch {
		case st.kind == "add" && j < 0:
			g.profiles = append(g.profiles, p)
		case st.kind == "remove" && j >= 0:
			g.profiles = slices.Delete(g.profiles, j, j+1)
		}
	}
	return nil
}
