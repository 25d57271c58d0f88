package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"

	"github.com/usersync/usersync/core"
)

// Node is a position in a loaded YAML configuration file: the file, the key
// path from the document root, and the YAML node. Accessors read typed
// values with UST's rules (YAML 1.1 booleans, scalars accepted where lists
// are expected) and every error they return names the file, the key path
// and the line.
//
// Nodes record which keys were read, so that Unused can report keys no
// reader asked for (UST rejects those).
type Node struct {
	File string // the file the node was read from
	Path string // dotted key path, e.g. "directory_users.groups[0]"
	y    *yaml.Node
	used *usage
}

type usage struct {
	keys map[*yaml.Node]map[string]bool
}

// Error is a configuration error with its location.
type Error struct {
	File string
	Path string
	Line int
	Msg  string
	// Err is the underlying error, if any (e.g. fs.ErrNotExist for a
	// missing file), for errors.Is; Msg already describes it.
	Err error
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Decode converts raw file bytes in the named encoding (IANA or WHATWG
// name, e.g. "utf8", "latin1", "windows-1252", "utf-16") to UTF-8. An empty
// name means UTF-8. A UTF-8 byte-order mark is dropped. Invalid input for
// the encoding is an error, as in UST (strict decoding).
func Decode(data []byte, name string) ([]byte, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	switch name {
	case "", "utf8", "utf-8", "utf_8", "utf-8-sig", "utf8-sig":
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		if !utf8Valid(data) {
			return nil, errors.New("not valid UTF-8 (set --config-file-encoding to the file's encoding)")
		}
		return data, nil
	}
	var enc encoding.Encoding
	switch name {
	case "utf-16", "utf16":
		enc = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)
	case "utf-16-le", "utf-16le", "utf_16_le":
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case "utf-16-be", "utf-16be", "utf_16_be":
		enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case "latin1", "latin-1", "latin_1", "iso8859-1", "iso-8859-1", "cp1252":
		e, _ := htmlindex.Get("windows-1252")
		enc = e
	default:
		e, err := htmlindex.Get(name)
		if err != nil {
			return nil, fmt.Errorf("unknown encoding %q", name)
		}
		enc = e
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return nil, fmt.Errorf("cannot decode as %s: %v", name, err)
	}
	return bytes.TrimPrefix(out, []byte("\xef\xbb\xbf")), nil
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

// CheckFileName rejects UST's legacy "$(command)" file names.
func CheckFileName(name string) error {
	t := strings.TrimSpace(name)
	if strings.HasPrefix(t, "$(") && strings.HasSuffix(t, ")") {
		return fmt.Errorf("%s: shell execution in file names is not supported", name)
	}
	return nil
}

// LoadFile reads and parses a YAML file in the given encoding. An empty
// file is an empty mapping; a document that is not a mapping is an error.
func LoadFile(path, encodingName string) (*Node, error) {
	if err := CheckFileName(path); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read configuration file: %w", err)
	}
	return Parse(path, raw, encodingName)
}

// Parse parses YAML bytes as if read from file path.
func Parse(path string, raw []byte, encodingName string) (*Node, error) {
	data, err := Decode(raw, encodingName)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: path, Msg: "malformed YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	root := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		root = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: root.Line}
	}
	n := &Node{File: path, y: root, used: &usage{keys: map[*yaml.Node]map[string]bool{}}}
	if root.Kind != yaml.MappingNode {
		return nil, n.Errorf("the top level must be a mapping of keys to values")
	}
	return n, nil
}

// Line is the node's line in its file (0 if unknown).
func (n *Node) Line() int {
	if n == nil || n.y == nil {
		return 0
	}
	return n.y.Line
}

// Dir is the directory of the node's file, against which relative paths
// written in it are resolved.
func (n *Node) Dir() string { return filepath.Dir(n.File) }

// ResolvePath makes p absolute relative to the node's file.
func (n *Node) ResolvePath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(n.Dir(), p)
}

// Errorf returns an *Error located at n.
func (n *Node) Errorf(format string, args ...any) error {
	return &Error{File: n.File, Path: n.Path, Line: n.Line(), Msg: fmt.Sprintf(format, args...)}
}

func (n *Node) child(key string) string {
	if n.Path == "" {
		return key
	}
	return n.Path + "." + key
}

// IsMap reports whether the node is a mapping.
func (n *Node) IsMap() bool { return n != nil && n.y.Kind == yaml.MappingNode }

// IsList reports whether the node is a sequence.
func (n *Node) IsList() bool { return n != nil && n.y.Kind == yaml.SequenceNode }

// IsNull reports whether the node is absent or YAML null.
func (n *Node) IsNull() bool {
	return n == nil || (n.y.Kind == yaml.ScalarNode && n.y.Tag == "!!null")
}

func (n *Node) markUsed(key string) {
	m := n.used.keys[n.y]
	if m == nil {
		m = map[string]bool{}
		n.used.keys[n.y] = m
	}
	m[key] = true
}

// Keys lists a mapping's keys in file order.
func (n *Node) Keys() []string {
	if !n.IsMap() {
		return nil
	}
	keys := make([]string, 0, len(n.y.Content)/2)
	for i := 0; i+1 < len(n.y.Content); i += 2 {
		keys = append(keys, n.y.Content[i].Value)
	}
	return keys
}

// Has reports whether a mapping has key (even with a null value).
func (n *Node) Has(key string) bool {
	if !n.IsMap() {
		return false
	}
	for i := 0; i+1 < len(n.y.Content); i += 2 {
		if n.y.Content[i].Value == key {
			return true
		}
	}
	return false
}

// Get returns the value of key, or nil when the key is absent. It marks the
// key as read.
func (n *Node) Get(key string) *Node {
	if !n.IsMap() {
		return nil
	}
	n.markUsed(key)
	for i := 0; i+1 < len(n.y.Content); i += 2 {
		if n.y.Content[i].Value == key {
			v := n.y.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if v.Line == 0 {
				v.Line = n.y.Content[i].Line
			}
			return &Node{File: n.File, Path: n.child(key), y: v, used: n.used}
		}
	}
	return nil
}

// Map returns the mapping under key; absent or null gives nil, a value of
// another kind is an error.
func (n *Node) Map(key string) (*Node, error) {
	v := n.Get(key)
	if v.IsNull() {
		return nil, nil
	}
	if !v.IsMap() {
		return nil, v.Errorf("must be a mapping of keys to values")
	}
	return v, nil
}

// RequireMap is Map for required sections.
func (n *Node) RequireMap(key string) (*Node, error) {
	v, err := n.Map(key)
	if err != nil {
		return nil, err
	}
	if v == nil {
		if e := n.Misspelt(key); e != nil {
			return nil, e
		}
		return nil, &Error{File: n.File, Path: n.child(key), Line: n.Line(), Msg: "required section is missing"}
	}
	return v, nil
}

// Items returns a sequence's elements; a scalar or mapping is a
// one-element list (UST wraps scalars).
func (n *Node) Items() []*Node {
	if n.IsNull() {
		return nil
	}
	if n.y.Kind != yaml.SequenceNode {
		return []*Node{n}
	}
	out := make([]*Node, len(n.y.Content))
	for i, c := range n.y.Content {
		if c.Kind == yaml.AliasNode && c.Alias != nil {
			c = c.Alias
		}
		out[i] = &Node{File: n.File, Path: fmt.Sprintf("%s[%d]", n.Path, i), y: c, used: n.used}
	}
	return out
}

// Scalar returns the node's scalar text; a non-scalar is an error.
func (n *Node) Scalar() (string, error) {
	if n.y.Kind != yaml.ScalarNode {
		return "", n.Errorf("must be a single value, not a %s", kindName(n.y.Kind))
	}
	if n.y.Tag == "!!null" {
		return "", nil
	}
	return n.y.Value, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// String returns the string under key, or def when absent or null.
func (n *Node) String(key, def string) (string, error) {
	v := n.Get(key)
	if v.IsNull() {
		return def, nil
	}
	return v.Scalar()
}

// RequireString returns the non-empty string under key.
func (n *Node) RequireString(key string) (string, error) {
	s, err := n.String(key, "")
	if err != nil {
		return "", err
	}
	if s == "" {
		if e := n.Misspelt(key); e != nil {
			return "", e
		}
		return "", &Error{File: n.File, Path: n.child(key), Line: n.Line(), Msg: "required value is missing"}
	}
	return s, nil
}

// ParseBool parses YAML 1.1 booleans as PyYAML does: yes/no, on/off,
// true/false, y/n in any case.
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "on", "true":
		return true, true
	case "no", "n", "off", "false":
		return false, true
	}
	return false, false
}

// Bool returns the boolean under key, or def when absent or null.
func (n *Node) Bool(key string, def bool) (bool, error) {
	v := n.Get(key)
	if v.IsNull() {
		return def, nil
	}
	s, err := v.Scalar()
	if err != nil {
		return false, err
	}
	b, ok := ParseBool(s)
	if !ok {
		return false, v.Errorf("must be true or false (yes/no, on/off), not %q", s)
	}
	return b, nil
}

// OptBool is Bool with "not given" distinguished from false.
func (n *Node) OptBool(key string) (*bool, error) {
	if n.Get(key).IsNull() {
		return nil, nil
	}
	b, err := n.Bool(key, false)
	return &b, err
}

// Int returns the integer under key, or def when absent or null.
func (n *Node) Int(key string, def int) (int, error) {
	v := n.Get(key)
	if v.IsNull() {
		return def, nil
	}
	s, err := v.Scalar()
	if err != nil {
		return 0, err
	}
	i, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, v.Errorf("must be a whole number, not %q", s)
	}
	return i, nil
}

// StringList returns the strings under key; a single value is a
// one-element list. Absent or null gives nil.
func (n *Node) StringList(key string) ([]string, error) {
	v := n.Get(key)
	if v.IsNull() {
		return nil, nil
	}
	var out []string
	for _, it := range v.Items() {
		if it.IsNull() {
			continue
		}
		s, err := it.Scalar()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Unused lists the keys below n that no reader asked for, as key paths,
// sorted. Keys of mappings that were never entered are not listed
// separately (their parent key was read, so the whole value counts).
func (n *Node) Unused() []*Error {
	var out []*Error
	var walk func(y *yaml.Node, path string)
	walk = func(y *yaml.Node, path string) {
		switch y.Kind {
		case yaml.MappingNode:
			used := n.used.keys[y]
			if used == nil {
				return
			}
			for i := 0; i+1 < len(y.Content); i += 2 {
				k := y.Content[i].Value
				p := k
				if path != "" {
					p = path + "." + k
				}
				if !used[k] {
					msg := "unknown key"
					if s := Suggest(k, askedKeys(used)); s != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", s)
					}
					out = append(out, &Error{File: n.File, Path: p, Line: y.Content[i].Line, Msg: msg})
					continue
				}
				walk(y.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range y.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(n.y, n.Path)
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// askedKeys lists, sorted, the keys readers asked a mapping for: the keys
// a misspelt one may have been meant as.
func askedKeys(used map[string]bool) []string {
	out := make([]string, 0, len(used))
	for k := range used {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Misspelt returns, when required key is absent from mapping n but a key
// no reader asked for is close to it, an unknown-key error for that key
// suggesting key; otherwise nil. A required-value error would send the
// reader looking for a key that is there, only misspelt.
func (n *Node) Misspelt(key string) *Error {
	if !n.IsMap() {
		return nil
	}
	used := n.used.keys[n.y]
	for i := 0; i+1 < len(n.y.Content); i += 2 {
		k := n.y.Content[i].Value
		if used[k] || k == key {
			continue
		}
		if Suggest(k, []string{key}) != "" {
			return &Error{File: n.File, Path: n.child(k), Line: n.y.Content[i].Line,
				Msg: fmt.Sprintf("unknown key (did you mean %q?)", key)}
		}
	}
	return nil
}

// CheckKeys returns an error naming the first key of mapping n that is not
// in allowed (with a suggestion when one is close).
func (n *Node) CheckKeys(allowed ...string) error {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for i := 0; n.IsMap() && i+1 < len(n.y.Content); i += 2 {
		k := n.y.Content[i].Value
		if !ok[k] {
			msg := "unknown key"
			if s := Suggest(k, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return &Error{File: n.File, Path: n.child(k), Line: n.y.Content[i].Line, Msg: msg}
		}
	}
	return nil
}

// Suggest returns the candidate closest to s by edit distance, if close.
func Suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := core.EditDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Merge combines files that configure the same thing, in order: later
// keys override earlier ones, and where both values are mappings they are
// merged one level deep (UST §2.1). The result reports errors against the
// file each value came from only approximately (the first file's name);
// values keep their own line numbers.
func Merge(nodes ...*Node) *Node {
	if len(nodes) == 1 {
		return nodes[0]
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}
	index := map[string]int{}
	names := make([]string, 0, len(nodes))
	for _, nd := range nodes {
		names = append(names, nd.File)
		for i := 0; i+1 < len(nd.y.Content); i += 2 {
			k, v := nd.y.Content[i], nd.y.Content[i+1]
			if j, ok := index[k.Value]; ok {
				old := out.Content[j+1]
				if old.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode {
					merged := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: old.Line}
					merged.Content = append(append([]*yaml.Node{}, old.Content...), v.Content...)
					out.Content[j+1] = dedupeMapping(merged)
				} else {
					out.Content[j+1] = v
				}
				continue
			}
			index[k.Value] = len(out.Content)
			out.Content = append(out.Content, k, v)
		}
	}
	return &Node{File: strings.Join(names, "+"), y: out, used: &usage{keys: map[*yaml.Node]map[string]bool{}}}
}

func dedupeMapping(m *yaml.Node) *yaml.Node {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: m.Line}
	index := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if j, ok := index[k.Value]; ok {
			out.Content[j+1] = v
			continue
		}
		index[k.Value] = len(out.Content)
		out.Content = append(out.Content, k, v)
	}
	return out
}
