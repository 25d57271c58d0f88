// Package csv reads and writes UST's CSV files: the users file of the CSV
// directory connector (UST §4.1, configured by connector-csv.yml, §2.6),
// the --adobe-only-user-list input (§4.2) and the write-file output of
// Adobe-only users (§4.3).
//
// Differences from UST, each deliberate:
//   - A UTF-8 byte-order mark is dropped (UST kept it, which silently
//     renamed the first column).
//   - Header names and cell values are trimmed of surrounding spaces, except
//     the groups cell, whose comma-separated names are kept as written
//     (UST's rule; group names are matched exactly).
//   - A file with no header row at all is an error rather than an empty
//     directory, because an empty directory would make every Adobe user
//     look Adobe-only.
//   - The source honours core.SourceQuery: without AllUsers it returns
//     only members of the requested groups (UST returned every row and let
//     the engine select, which comes to the same), and it lists requested
//     groups no row names in MissingGroups.
package csv

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// Source is the CSV directory connector.
type Source struct {
	cfg Config
	log *slog.Logger
}

// New returns a source reading cfg.FilePath each time Users is called.
func New(cfg Config) *Source {
	if cfg.Columns == (Columns{}) {
		cfg.Columns = DefaultColumns
	}
	if cfg.LoggerName == "" {
		cfg.LoggerName = "csv"
	}
	l := cfg.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, log: l}
}

// progressEvery is how many rows pass between progress reports and
// cancellation checks.
const progressEvery = 1000

// Users reads the users file. Rows are merged by email; without
// q.AllUsers only members of q.Groups are returned. Rows without a usable
// email and users with an invalid identity type are skipped with a
// warning; an unreadable or malformed file is an error naming the file and
// line.
func (s *Source) Users(ctx context.Context, q core.SourceQuery, r core.Reporter) (core.DirectoryResult, error) {
	if r == nil {
		r = core.NopReporter{}
	}
	if err := ctx.Err(); err != nil {
		return core.DirectoryResult{}, &core.Error{Code: core.CodeCanceled, Op: "reading users file", Err: err}
	}
	path := s.cfg.FilePath
	if path == "" {
		return core.DirectoryResult{}, core.Errorf(core.CodeInvalidInput, "csv connector",
			"no users file: give --connector csv PATH, --users file PATH or file_path in connector-csv.yml")
	}
	if err := config.CheckFileName(path); err != nil {
		return core.DirectoryResult{}, &core.Error{Code: core.CodeInvalidInput, Op: "csv connector", Err: err}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		code := core.CodeUnavailable
		if errors.Is(err, fs.ErrNotExist) {
			code = core.CodeNotFound
		}
		return core.DirectoryResult{}, &core.Error{Code: code, Op: "reading users file", Err: err}
	}
	data, err := decode(path, raw, s.cfg.Encoding)
	if err != nil {
		return core.DirectoryResult{}, err
	}
	d := s.cfg.Delimiter
	if d == 0 {
		d = DelimiterFor(path)
	}
	return s.read(ctx, path, data, d, q, r)
}

// DelimiterFor is UST's delimiter for a file: a comma for a .csv file, a
// tab for any other extension.
func DelimiterFor(path string) rune {
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return ','
	}
	return '\t'
}

// decode turns raw file bytes into UTF-8, saying where invalid UTF-8 starts.
func decode(path string, raw []byte, enc string) ([]byte, error) {
	if isUTF8(enc) {
		raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(raw) {
			bad := raw
			for len(bad) > 0 {
				r, size := utf8.DecodeRune(bad)
				if r == utf8.RuneError && size <= 1 {
					break
				}
				bad = bad[size:]
			}
			line := 1 + bytes.Count(raw[:len(raw)-len(bad)], []byte("\n"))
			return nil, core.Errorf(core.CodeInvalidInput, "reading users file",
				"%s:%d: not valid UTF-8; set string_encoding in connector-csv.yml to the file's encoding (e.g. latin1, utf-16)", path, line)
		}
		return raw, nil
	}
	out, err := config.Decode(raw, enc)
	if err != nil {
		return nil, core.Errorf(core.CodeInvalidInput, "reading users file", "%s: %v", path, err)
	}
	return out, nil
}

func isUTF8(enc string) bool {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "utf8", "utf-8", "utf_8", "utf-8-sig", "utf8-sig":
		return true
	}
	return false
}

// users assembles users from rows, merging rows by email. Users are kept
// in one slice, in the order their first row appears, so that a million
// rows cost a million records and little else: what only a few users need
// (the lines of a user on several rows, the set of a user's many groups)
// is kept aside by index.
type users struct {
	list []core.DirectoryUser
	// lists shares the group lists of users whose first groups cell is
	// the same (a few hundred cells for a million users, typically).
	lists map[string][]string
	line  []int // the line of a user's first row; -1 once the user is dropped
	more  map[int][]int
	sets  map[int]map[string]struct{}
	index map[string]int
}

// smallGroups is how many groups a user has before addGroups keeps them
// as a set too; below it a scan of the list is as quick.
const smallGroups = 16

// addGroups appends the comma-separated names in cell that user i does
// not have yet, in time linear in the cell. A cell can hold a million
// names, so cancellation is checked as it goes.
func (us *users) addGroups(ctx context.Context, i int, cell string) error {
	u := &us.list[i]
	set := us.sets[i]
	if u.Groups == nil {
		if l, ok := us.lists[cell]; ok {
			u.Groups = l // its capacity is its length: an append copies
			return nil
		}
		if len(cell) <= maxSharedCell {
			defer us.share(u, cell)
		}
		u.Groups = make([]string, 0, min(strings.Count(cell, ",")+1, smallGroups))
	}
	n := 0
	for g := range strings.SplitSeq(cell, ",") {
		if n++; n%cancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if g == "" {
			continue
		}
		if set == nil && len(u.Groups) >= smallGroups {
			set = make(map[string]struct{}, len(u.Groups))
			for _, g := range u.Groups {
				set[g] = struct{}{}
			}
			if us.sets == nil {
				us.sets = map[int]map[string]struct{}{}
			}
			us.sets[i] = set
		}
		if set != nil {
			if _, ok := set[g]; ok {
				continue
			}
			set[g] = struct{}{}
		} else if slices.Contains(u.Groups, g) {
			continue
		}
		u.Groups = append(u.Groups, g)
	}
	return nil
}

// maxSharedCell and maxSharedLists bound the groups cells whose lists
// are shared.
const (
	maxSharedCell  = 4096
	maxSharedLists = 4096
)

// share makes the list just read from cell the one users with the same
// first groups cell get.
func (us *users) share(u *core.DirectoryUser, cell string) {
	if len(us.lists) >= maxSharedLists {
		return
	}
	if us.lists == nil {
		us.lists = map[string][]string{}
	}
	u.Groups = slices.Clip(u.Groups)
	us.lists[cell] = u.Groups
}

// boxes shares the interface values of a column's repeated cells (a
// country, a department, a groups cell), so that source attributes do
// not cost an allocation per cell.
type boxes struct {
	m map[string]any
}

// maxBoxes bounds a column's shared values; a column with more distinct
// values (an email, a name) is left unshared.
const maxBoxes = 4096

func (b *boxes) box(v string) any {
	if x, ok := b.m[v]; ok {
		return x
	}
	var x any = v
	if b.m == nil {
		b.m = map[string]any{}
	}
	if len(b.m) < maxBoxes {
		b.m[v] = x
	}
	return x
}

// cancelEvery is how many iterations of an inner loop over input pass
// between cancellation checks.
const cancelEvery = 4096

func canceled(err error) error {
	return &core.Error{Code: core.CodeCanceled, Op: "reading users file", Err: err}
}

func (s *Source) read(ctx context.Context, path string, data []byte, delim rune, q core.SourceQuery, r core.Reporter) (core.DirectoryResult, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return core.DirectoryResult{}, core.Errorf(core.CodeInvalidInput, "reading users file",
			"%s: the file is empty; the first row must name the columns (%s, ...)", path, s.cfg.Columns.Email)
	}
	if err != nil {
		return core.DirectoryResult{}, csvError(path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	c := s.cfg.Columns
	recognised := []string{c.Firstname, c.Lastname, c.Email, c.Country, c.Groups, c.Type, c.Username, c.Domain}
	for _, a := range q.ExtendedAttributes {
		if !slices.Contains(recognised, a) {
			recognised = append(recognised, a)
		}
	}
	var unknown []string
	for _, h := range header {
		if h = strings.TrimSpace(h); !slices.Contains(recognised, h) {
			unknown = append(unknown, strconv.Quote(h))
		}
	}
	if len(unknown) > 0 {
		s.log.Warn(fmt.Sprintf("%s: ignoring unknown column(s) %s; recognised columns are %s",
			path, strings.Join(unknown, ", "), strings.Join(recognised, ", ")))
	}
	if _, ok := col[c.Email]; !ok {
		return core.DirectoryResult{}, core.Errorf(core.CodeInvalidInput, "reading users file",
			"%s:1: the header has no %q column (set email_column_name in connector-csv.yml if it is named differently)", path, c.Email)
	}

	// Column positions, -1 when the header lacks the column.
	at := func(name string) int {
		if i, ok := col[name]; ok {
			return i
		}
		return -1
	}
	iEmail, iFirst, iLast, iCountry, iDomain := at(c.Email), at(c.Firstname), at(c.Lastname), at(c.Country), at(c.Domain)
	iGroups, iUsername, iType := at(c.Groups), at(c.Username), at(c.Type)
	var attrCols []int
	var attrBoxes []boxes
	if !q.NoAttributes {
		attrCols = make([]int, len(recognised))
		for k, name := range recognised {
			attrCols[k] = at(name)
		}
		attrBoxes = make([]boxes, len(recognised))
	}

	est := bytes.Count(data, []byte{'\n'})
	us := &users{list: make([]core.DirectoryUser, 0, est), line: make([]int, 0, est), index: make(map[string]int, est)}
	var notes []core.SourceNote
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return core.DirectoryResult{}, csvError(path, err)
		}
		rows++
		if rows%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return core.DirectoryResult{}, canceled(err)
			}
			r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: len(us.index)})
		}
		line, _ := cr.FieldPos(0)
		get := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		email := get(iEmail)
		if email == "" {
			s.log.Warn(fmt.Sprintf("%s:%d: row skipped: no email address in column %q", path, line, c.Email))
			notes = append(notes, core.SourceNote{Kind: core.NoteSkipped, Origin: fmt.Sprintf("%s:%d", path, line), Logged: true,
				Reason: fmt.Sprintf("row skipped: no email address in column %q", c.Email)})
			continue
		}
		if !strings.Contains(email, "@") {
			s.log.Warn(fmt.Sprintf("%s:%d: row skipped: email %q has no @", path, line, email))
			notes = append(notes, core.SourceNote{Kind: core.NoteSkipped, Origin: fmt.Sprintf("%s:%d", path, line), User: email, Logged: true,
				Reason: fmt.Sprintf("row skipped: email %q has no @", email)})
			continue
		}
		i, ok := us.index[email]
		if !ok {
			i = len(us.list)
			us.index[email] = i
			us.list = append(us.list, core.DirectoryUser{Email: email})
			us.line = append(us.line, line)
		} else {
			if us.more == nil {
				us.more = map[int][]int{}
			}
			us.more[i] = append(us.more[i], line)
		}
		u := &us.list[i]
		if ok {
			// Rows are merged; the later non-empty value wins. Say so
			// when they disagree.
			var diff []string
			for _, f := range [][3]string{{"firstname", u.Firstname, get(iFirst)}, {"lastname", u.Lastname, get(iLast)},
				{"country", u.Country, strings.ToUpper(get(iCountry))}} {
				if f[1] != "" && f[2] != "" && f[1] != f[2] {
					diff = append(diff, fmt.Sprintf("%s %q → %q", f[0], f[1], f[2]))
				}
			}
			if len(diff) > 0 {
				lines := append([]int{us.line[i]}, us.more[i]...)
				notes = append(notes, core.SourceNote{Kind: core.NoteConflict, Origin: path + ":" + joinInts(lines), User: email,
					Reason: fmt.Sprintf("rows for %s disagree (%s); the rows are merged and the later row's values are used", email, strings.Join(diff, ", "))})
			}
		}
		setIf(&u.Firstname, get(iFirst))
		setIf(&u.Lastname, get(iLast))
		setIf(&u.Country, strings.ToUpper(get(iCountry)))
		setIf(&u.Domain, get(iDomain))
		if iGroups >= 0 && iGroups < len(rec) && rec[iGroups] != "" {
			if err := us.addGroups(ctx, i, rec[iGroups]); err != nil {
				return core.DirectoryResult{}, canceled(err)
			}
		}
		u.Username = get(iUsername)
		if u.Username == "" {
			u.Username = email
		}
		u.Type = s.cfg.IdentityType
		if t := get(iType); t != "" {
			typ, err := core.ParseIdentityType(t)
			if err != nil {
				s.log.Warn(fmt.Sprintf("%s:%d: user %s skipped: %v", path, line, email, err))
				notes = append(notes, core.SourceNote{Kind: core.NoteSkipped, Origin: fmt.Sprintf("%s:%d", path, line), User: email, Logged: true,
					Reason: fmt.Sprintf("user %s skipped: %v", email, err)})
				us.line[i] = -1
				delete(us.index, email)
				continue
			}
			u.Type = typ
		}
		if q.NoAttributes {
			continue
		}
		attrs := make(map[string]any, len(recognised))
		for k, name := range recognised {
			if v := get(attrCols[k]); v != "" {
				attrs[name] = attrBoxes[k].box(v)
			} else {
				attrs[name] = nil
			}
		}
		if iGroups >= 0 && iGroups < len(rec) && rec[iGroups] != "" {
			attrs[c.Groups] = rec[iGroups] // as written, like the groups themselves
		}
		u.Attributes = attrs
	}
	us.index, us.sets, us.lists = nil, nil, nil

	requested := map[string]bool{}
	for _, g := range q.Groups {
		requested[g] = true
	}
	seen := map[string]bool{}
	var res core.DirectoryResult
	// The users are kept in place: res.Users is us.list without the
	// users dropped or not asked for.
	kept := us.list[:0]
	for n := range us.list {
		if n%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return core.DirectoryResult{}, canceled(err)
			}
		}
		if us.line[n] < 0 {
			continue
		}
		u := us.list[n]
		if u.Domain == "" && u.Username != u.Email {
			u.Domain = u.Email[strings.LastIndexByte(u.Email, '@')+1:]
		}
		// Nothing changes a user's groups in place, so the two lists
		// share their names; the capacity is cut so that an append
		// copies.
		u.Groups = u.Groups[:len(u.Groups):len(u.Groups)]
		u.MemberGroups = u.Groups
		if extra, ok := us.more[n]; ok {
			u.Origin = path + ":" + joinInts(append([]int{us.line[n]}, extra...))
		} else {
			u.Origin = path + ":" + strconv.Itoa(us.line[n])
		}
		in := false
		for k, g := range u.Groups {
			if k%cancelEvery == cancelEvery-1 {
				if err := ctx.Err(); err != nil {
					return core.DirectoryResult{}, canceled(err)
				}
			}
			seen[g] = true
			in = in || requested[g]
		}
		if q.AllUsers || in {
			kept = append(kept, u)
		} else {
			// Kept for explain and the diagnosis: the whole file was read.
			res.Unselected = append(res.Unselected, u)
		}
	}
	clear(us.list[len(kept):])
	if len(kept) > 0 {
		res.Users = kept
	}
	res.Notes = notes
	for _, g := range q.Groups {
		if !seen[g] {
			seen[g] = true // each missing group listed once
			res.MissingGroups = append(res.MissingGroups, g)
		}
	}
	r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: len(res.Users), Groups: len(q.Groups), Done: true})
	return res, nil
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func joinInts(ns []int) string {
	var b strings.Builder
	for i, n := range ns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// csvError turns a parse error into one naming the file, line and column.
func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line {
		// A quote left open swallows every line up to the next quote;
		// the line worth reporting is where the field began.
		return core.Errorf(core.CodeInvalidInput, "reading users file",
			"%s:%d: malformed CSV: a quoted field starting in the row at line %d is not closed properly (the parser only noticed at line %d)",
			path, pe.StartLine, pe.StartLine, pe.Line)
	}
	if errors.As(err, &pe) {
		return core.Errorf(core.CodeInvalidInput, "reading users file", "%s:%d:%d: malformed CSV: %v", path, pe.Line, pe.Column, pe.Err)
	}
	return core.Errorf(core.CodeInvalidInput, "reading users file", "%s: %v", path, err)
}

var _ core.UserLookup = (*Source)(nil)

// LookupUser finds one user of the file by email or username,
// case-insensitively, whether or not q would select it. where names the
// file searched.
func (s *Source) LookupUser(ctx context.Context, query string, q core.SourceQuery) (*core.DirectoryUser, string, error) {
	q.AllUsers = true
	res, err := s.Users(ctx, q, core.NopReporter{})
	if err != nil {
		return nil, "", err
	}
	where := fmt.Sprintf("the users file %s (%d users)", s.cfg.FilePath, len(res.Users))
	want := strings.ToLower(strings.TrimSpace(query))
	for i := range res.Users {
		u := &res.Users[i]
		if strings.ToLower(u.Email) == want || strings.ToLower(u.Username) == want {
			return u, where, nil
		}
	}
	return nil, where, nil
}
