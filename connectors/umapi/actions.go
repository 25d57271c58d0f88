package umapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/usersync/usersync/core"
)

// maxBody is the documented 1 MB cap of an action request (reference §4.5).
const maxBody = 1 << 20

// wireCommand is a command as it goes on the wire (reference §4.2).
type wireCommand struct {
	User       string           `json:"user,omitempty"`
	UserGroup  string           `json:"usergroup,omitempty"`
	Domain     string           `json:"domain,omitempty"`
	UseAdobeID bool             `json:"useAdobeID,omitempty"`
	RequestID  string           `json:"requestID,omitempty"`
	Do         []map[string]any `json:"do"`
}

// EncodeRequest returns the JSON body of an action request, checking the
// documented limits first.
func EncodeRequest(req core.ActionRequest) ([]byte, error) {
	if len(req.Commands) == 0 || len(req.Commands) > core.MaxCommandsPerRequest {
		return nil, core.Errorf(core.CodeInvalidInput, "umapi action", "%d commands in one request (want 1 to %d)", len(req.Commands), core.MaxCommandsPerRequest)
	}
	cmds := make([]wireCommand, len(req.Commands))
	for i, c := range req.Commands {
		if (c.User == "") == (c.UserGroup == "") {
			return nil, core.Errorf(core.CodeInvalidInput, "umapi action", "command %d: want exactly one of user and usergroup", i)
		}
		if len(c.Steps) == 0 || len(c.Steps) > core.MaxStepsPerCommand {
			return nil, core.Errorf(core.CodeInvalidInput, "umapi action", "command %d: %d steps (want 1 to %d)", i, len(c.Steps), core.MaxStepsPerCommand)
		}
		wc := wireCommand{User: c.User, UserGroup: c.UserGroup, UseAdobeID: c.UseAdobeID, RequestID: c.RequestID,
			Do: make([]map[string]any, len(c.Steps))}
		// domain is allowed only with a username that is not an email
		// (error.command.domain.must_be_used_with_nonemail_username).
		if c.User != "" && !strings.Contains(c.User, "@") {
			wc.Domain = c.Domain
		}
		for j, s := range c.Steps {
			v, err := encodeStep(s, c.UserGroup != "")
			if err != nil {
				return nil, core.Errorf(core.CodeInvalidInput, "umapi action", "command %d step %d: %v", i, j, err)
			}
			wc.Do[j] = map[string]any{string(s.Kind): v}
		}
		cmds[i] = wc
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cmds); err != nil {
		return nil, core.Errorf(core.CodeInvalidInput, "umapi action", "%v", err)
	}
	if buf.Len() > maxBody {
		return nil, core.Errorf(core.CodeInvalidInput, "umapi action", "request body of %d bytes exceeds 1 MB", buf.Len())
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

func encodeStep(s core.Step, groupCmd bool) (any, error) {
	list := func(names []string) error {
		if len(names) == 0 || len(names) > core.MaxEntriesPerList {
			return fmt.Errorf("%s list of %d entries (want 1 to %d)", s.Kind, len(names), core.MaxEntriesPerList)
		}
		return nil
	}
	switch s.Kind {
	case core.StepAddAdobeID, core.StepCreateEnterpriseID, core.StepCreateFederatedID:
		p := map[string]string{}
		for k, v := range s.Attrs {
			if v != "" {
				p[k] = v
			}
		}
		if p["email"] == "" {
			return nil, fmt.Errorf("%s without an email", s.Kind)
		}
		if s.Option != "" {
			p["option"] = s.Option
		}
		return p, nil
	case core.StepUpdate:
		if len(s.Attrs) == 0 {
			return nil, fmt.Errorf("update without attributes")
		}
		return s.Attrs, nil
	case core.StepAdd, core.StepRemove:
		if groupCmd {
			if err := list(s.Users); err != nil {
				return nil, err
			}
			return map[string][]string{"user": s.Users}, nil
		}
		if s.All && s.Kind == core.StepRemove {
			return "all", nil
		}
		if err := list(s.Groups); err != nil {
			return nil, err
		}
		return map[string][]string{"group": s.Groups}, nil
	case core.StepRemoveFromOrg:
		return map[string]bool{"deleteAccount": s.DeleteAccount}, nil
	case core.StepCreateUserGroup:
		p := map[string]string{}
		if s.Option != "" {
			p["option"] = s.Option
		}
		if s.Description != "" {
			p["description"] = s.Description
		}
		return p, nil
	}
	return nil, fmt.Errorf("unknown step %q", s.Kind)
}

// Send posts one action request (with ?testOnly=true in test mode) and
// returns the server's answer. Throttled and transient failures are
// retried inside, each wait reported through r; an attempt already on the
// wire is completed even if ctx is cancelled, so the caller learns what the
// server did.
func (c *Client) Send(ctx context.Context, req core.ActionRequest, r core.Reporter) (core.ActionResponse, error) {
	if r == nil {
		r = nopReporter()
	}
	body, err := EncodeRequest(req)
	if err != nil {
		return core.ActionResponse{}, err
	}
	u := c.base + "/action/" + strings.ReplaceAll(url.PathEscape(c.opts.OrgID), "%40", "@")
	if req.TestOnly {
		u += "?testOnly=true"
	}
	pragma := ""
	switch {
	case req.SyncStart:
		pragma = "umapi-sync-start"
	case req.SyncEnd:
		pragma = "umapi-sync-end"
	}
	cl := call{op: "umapi action", method: http.MethodPost, url: u, body: body, auth: true, pragma: pragma, action: true, detach: true}
	for n := 1; ; n++ {
		rep, err := c.do(ctx, cl, r)
		if err != nil {
			return core.ActionResponse{}, err
		}
		resp, perr := ParseActionResponse(rep.body)
		if perr == nil {
			return resp, nil
		}
		// An unreadable answer leaves the outcome unknown; the commands
		// are idempotent, so asking again is safe.
		if n >= c.opts.Retries {
			return core.ActionResponse{}, core.Errorf(core.CodeUnavailable, cl.op, "unreadable answer after %d tries: %v", n, perr)
		}
		c.log.Warn(fmt.Sprintf("UMAPI answered an action request with an unreadable body (try %d of %d): %v; sending again", n, c.opts.Retries, perr), "org", c.opts.Name)
	}
}

// flexInt reads an integer sent as a JSON number or a string (the
// reference's step field is documented as a string but sent as a number).
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*f = flexInt(n)
	return nil
}

type wireIssue struct {
	Index       *flexInt `json:"index"`
	Step        *flexInt `json:"step"`
	RequestID   string   `json:"requestID"`
	User        string   `json:"user"`
	ErrorCode   string   `json:"errorCode"`
	WarningCode string   `json:"warningCode"`
	Message     string   `json:"message"`
}

type wireResponse struct {
	Result              *string     `json:"result"`
	Completed           flexInt     `json:"completed"`
	NotCompleted        flexInt     `json:"notCompleted"`
	CompletedInTestMode flexInt     `json:"completedInTestMode"`
	Errors              []wireIssue `json:"errors"`
	Warnings            []wireIssue `json:"warnings"`
}

// ParseActionResponse decodes an action endpoint's 200 answer (reference
// §4.8). It refuses a body without a result or with an error entry that
// names no command index, since such an answer cannot be mapped back to
// the changes it concerns.
func ParseActionResponse(data []byte) (core.ActionResponse, error) {
	var w wireResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return core.ActionResponse{}, fmt.Errorf("malformed action response: %w", err)
	}
	if w.Result == nil || *w.Result == "" {
		return core.ActionResponse{}, fmt.Errorf("malformed action response: no result")
	}
	out := core.ActionResponse{Result: *w.Result, Completed: int(w.Completed), NotCompleted: int(w.NotCompleted),
		CompletedInTestMode: int(w.CompletedInTestMode)}
	conv := func(list []wireIssue, errs bool) ([]core.ActionIssue, error) {
		var out []core.ActionIssue
		for i, e := range list {
			if e.Index == nil || int(*e.Index) < 0 {
				return nil, fmt.Errorf("malformed action response: entry %d names no command index", i)
			}
			code := e.ErrorCode
			if !errs {
				code = e.WarningCode
			}
			step := -1 // no step: the whole command
			if e.Step != nil {
				step = int(*e.Step)
			}
			out = append(out, core.ActionIssue{Index: int(*e.Index), Step: step, RequestID: e.RequestID,
				User: e.User, Code: code, Message: e.Message})
		}
		return out, nil
	}
	var err error
	if out.Errors, err = conv(w.Errors, true); err != nil {
		return core.ActionResponse{}, err
	}
	if out.Warnings, err = conv(w.Warnings, false); err != nil {
		return core.ActionResponse{}, err
	}
	return out, nil
}
