package csv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/usersync/usersync/core"
)

// ReadAdobeOnlyList reads an --adobe-only-user-list file (UST §4.2): a
// header row naming some of type, email, username, domain and umapi, then
// one Adobe-only user per row. The delimiter is a comma for a .csv file and
// a tab otherwise; the file is UTF-8, with or without a byte-order mark.
// Rows without an umapi cell belong to the org named primary.
//
// Problems with single rows are returned as warnings, each naming the file
// and line, and the row is skipped: a row with neither email nor username,
// a row whose user cannot be addressed (a username without a domain), and
// a row whose type is empty or not an identity type. UST aborted the whole
// run on an empty or unknown type; skipping only that row is as safe (the
// list only ever causes removals, so a skipped row removes nobody) and lets
// the rest of the list be processed. A file without a type column, or with
// neither an email nor a username column, is an error: every row would be
// skipped.
func ReadAdobeOnlyList(path string, primary string) ([]core.Stray, []string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		code := core.CodeUnavailable
		if errors.Is(err, fs.ErrNotExist) {
			code = core.CodeNotFound
		}
		return nil, nil, &core.Error{Code: code, Op: "reading Adobe-only user list", Err: err}
	}
	data, err := decode(path, raw, "")
	if err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = DelimiterFor(path)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, core.Errorf(core.CodeInvalidInput, "reading Adobe-only user list",
			"%s: the file is empty; the first row must name the columns (type, email, username, domain, umapi)", path)
	}
	if err != nil {
		return nil, nil, csvError(path, err)
	}
	var warnings []string
	warn := func(line int, format string, args ...any) {
		warnings = append(warnings, fmt.Sprintf("%s:%d: ", path, line)+fmt.Sprintf(format, args...))
	}
	col := map[string]int{}
	var unknown []string
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch h {
		case "type", "email", "username", "domain", "umapi":
			col[h] = i
		default:
			unknown = append(unknown, fmt.Sprintf("%q", h))
		}
	}
	if len(unknown) > 0 {
		warn(1, "ignoring unknown column(s) %s; recognised columns are type, email, username, domain, umapi", strings.Join(unknown, ", "))
	}
	if _, ok := col["type"]; !ok {
		return nil, warnings, core.Errorf(core.CodeInvalidInput, "reading Adobe-only user list",
			"%s:1: the header has no type column; every row needs an identity type (adobeID, enterpriseID or federatedID)", path)
	}
	_, hasEmail := col["email"]
	if _, hasUser := col["username"]; !hasEmail && !hasUser {
		return nil, warnings, core.Errorf(core.CodeInvalidInput, "reading Adobe-only user list",
			"%s:1: the header has neither an email nor a username column", path)
	}

	var out []core.Stray
	seen := map[string]bool{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, warnings, csvError(path, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		email := strings.ToLower(get("email"))
		username := strings.ToLower(get("username"))
		domain := strings.ToLower(get("domain"))
		if email == "" {
			if username == "" {
				warn(line, "row skipped: no email and no username")
				continue
			}
			warn(line, "no email for user %q; the user is addressed by username", username)
		}
		t := get("type")
		if t == "" {
			warn(line, "row skipped: empty type")
			continue
		}
		typ, err := core.ParseIdentityType(t)
		if err != nil {
			warn(line, "row skipped: %v", err)
			continue
		}
		org := get("umapi")
		if org == "" {
			org = primary
		}
		if typ == core.AdobeID {
			if email == "" {
				warn(line, "row skipped: an adobeID user needs an email")
				continue
			}
			username, domain = email, ""
		}
		if email != "" && !addressable(email) {
			warn(line, "row skipped: email %q is not an address (name@domain)", email)
			continue
		}
		if username == "" {
			username = email
		}
		if strings.Contains(username, "@") {
			if !addressable(username) {
				warn(line, "row skipped: username %q is not an address (name@domain)", username)
				continue
			}
			domain = ""
		} else if domain == "" {
			// The email was checked above, so its domain is never empty.
			if i := strings.LastIndexByte(email, '@'); i >= 0 {
				domain = email[i+1:]
			} else {
				warn(line, "row skipped: username %q has no domain", username)
				continue
			}
		}
		key := org + "\x00" + string(typ) + "," + username + "," + domain + "," + email
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, core.Stray{
			Org: org, Type: typ, Email: email, Domain: domain,
			User: core.UserRef{User: username, Domain: domain, UseAdobeID: typ == core.AdobeID, Type: typ, Email: email},
		})
	}
	return out, warnings, nil
}

// WriteStrays writes Adobe-only users as UST's write-file does (§4.3):
// columns type, email and domain, plus umapi when any user belongs to a
// secondary org (primary rows leave it empty). Values are lower-cased, the
// domain is empty for users whose username is an email, and no username
// column is written (as in UST, so a re-read list addresses users by email).
// The delimiter is a comma for a .csv file and a tab otherwise. The file is
// written in UTF-8, to a temporary file renamed into place, so a failed
// write never leaves half a list.
func WriteStrays(path string, strays []core.Stray) error {
	secondary := false
	for _, s := range strays {
		secondary = secondary || (s.Org != "" && s.Org != core.PrimaryOrg)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = DelimiterFor(path)
	header := []string{"type", "email", "domain"}
	if secondary {
		header = append(header, "umapi")
	}
	_ = w.Write(header)
	for _, s := range strays {
		domain := strings.ToLower(s.Domain)
		if s.User.User == "" || strings.Contains(s.User.User, "@") || s.Type == core.AdobeID {
			domain = ""
		}
		email := s.Email
		if email == "" {
			email = s.User.Email
		}
		row := []string{string(s.Type), strings.ToLower(email), domain}
		if secondary {
			org := s.Org
			if org == core.PrimaryOrg {
				org = ""
			}
			row = append(row, org)
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// addressable reports whether s has the shape name@domain, both parts
// non-empty and without spaces or control characters: the least a removal
// needs to address one account and no other.
func addressable(s string) bool {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
