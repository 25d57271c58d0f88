package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/usersync/usersync/core"
)

// MappingEditKind is what a MappingEdit does to directory_users.groups.
type MappingEditKind string

// The mapping edits.
const (
	// EditRenameDirectoryGroup renames DirectoryGroup to NewName in every
	// row that names it.
	EditRenameDirectoryGroup MappingEditKind = "rename_directory_group"
	// EditAddAdobeGroup adds AdobeGroup to the row of DirectoryGroup.
	EditAddAdobeGroup MappingEditKind = "add_adobe_group"
	// EditRemoveAdobeGroup removes AdobeGroup (matched as UMAPI does,
	// trimmed and case-insensitive) from every row of DirectoryGroup.
	EditRemoveAdobeGroup MappingEditKind = "remove_adobe_group"
	// EditAddRow adds a row mapping DirectoryGroup to AdobeGroups.
	EditAddRow MappingEditKind = "add_row"
	// EditDeleteRow deletes every row of DirectoryGroup.
	EditDeleteRow MappingEditKind = "delete_row"
)

// MappingEdit is one change an operator makes to the group mapping.
type MappingEdit struct {
	Kind           MappingEditKind `json:"kind"`
	DirectoryGroup string          `json:"directory_group"`
	NewName        string          `json:"new_name,omitempty"`
	AdobeGroup     string          `json:"adobe_group,omitempty"`
	AdobeGroups    []string        `json:"adobe_groups,omitempty"`
}

// String says what the edit does, for confirmations and undo lists.
func (e MappingEdit) String() string {
	switch e.Kind {
	case EditRenameDirectoryGroup:
		return fmt.Sprintf("rename directory group %q to %q", e.DirectoryGroup, e.NewName)
	case EditAddAdobeGroup:
		return fmt.Sprintf("map %q also to %q", e.DirectoryGroup, e.AdobeGroup)
	case EditRemoveAdobeGroup:
		return fmt.Sprintf("stop mapping %q to %q", e.DirectoryGroup, e.AdobeGroup)
	case EditAddRow:
		return fmt.Sprintf("add a row mapping %q to %s", e.DirectoryGroup, strings.Join(e.AdobeGroups, ", "))
	case EditDeleteRow:
		return fmt.Sprintf("delete the row of %q", e.DirectoryGroup)
	}
	return string(e.Kind)
}

func (e MappingEdit) check() error {
	if strings.TrimSpace(e.DirectoryGroup) == "" {
		return fmt.Errorf("%s: no directory group named", e.Kind)
	}
	switch e.Kind {
	case EditRenameDirectoryGroup:
		if strings.TrimSpace(e.NewName) == "" {
			return fmt.Errorf("rename %q: the new name is empty", e.DirectoryGroup)
		}
	case EditAddAdobeGroup, EditRemoveAdobeGroup:
		if strings.TrimSpace(e.AdobeGroup) == "" {
			return fmt.Errorf("%s: no Adobe group named", e.Kind)
		}
	case EditAddRow:
		for _, g := range e.AdobeGroups {
			if strings.TrimSpace(g) == "" {
				return fmt.Errorf("add row %q: an Adobe group name is empty", e.DirectoryGroup)
			}
		}
	case EditDeleteRow:
	default:
		return fmt.Errorf("unknown mapping edit %q", e.Kind)
	}
	return nil
}

// ApplyMappingEdits returns m with edits applied, in order, without
// touching m: the console previews an edit (and replans) with it before
// anything is written. An edit naming a directory group the mapping lacks
// (other than EditAddRow) is an error.
func ApplyMappingEdits(m []core.GroupMapping, edits ...MappingEdit) ([]core.GroupMapping, error) {
	out := make([]core.GroupMapping, len(m))
	for i, g := range m {
		out[i] = core.GroupMapping{DirectoryGroup: g.DirectoryGroup, AdobeGroups: slices.Clone(g.AdobeGroups)}
	}
	for _, e := range edits {
		if err := e.check(); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(out, func(g core.GroupMapping) bool { return g.DirectoryGroup == e.DirectoryGroup })
		if i < 0 && e.Kind != EditAddRow {
			return nil, fmt.Errorf("%s: the mapping has no directory group %q", e, e.DirectoryGroup)
		}
		switch e.Kind {
		case EditRenameDirectoryGroup:
			if j := slices.IndexFunc(out, func(g core.GroupMapping) bool { return g.DirectoryGroup == e.NewName }); j >= 0 {
				// Rows of one directory group accumulate, as when loading.
				out[j].AdobeGroups = append(out[j].AdobeGroups, out[i].AdobeGroups...)
				out = slices.Delete(out, i, i+1)
			} else {
				out[i].DirectoryGroup = e.NewName
			}
		case EditAddAdobeGroup:
			if !slices.ContainsFunc(out[i].AdobeGroups, sameGroup(e.AdobeGroup)) {
				out[i].AdobeGroups = append(out[i].AdobeGroups, e.AdobeGroup)
			}
		case EditRemoveAdobeGroup:
			out[i].AdobeGroups = slices.DeleteFunc(out[i].AdobeGroups, sameGroup(e.AdobeGroup))
		case EditAddRow:
			if i >= 0 {
				for _, g := range e.AdobeGroups {
					if !slices.ContainsFunc(out[i].AdobeGroups, sameGroup(g)) {
						out[i].AdobeGroups = append(out[i].AdobeGroups, g)
					}
				}
			} else {
				out = append(out, core.GroupMapping{DirectoryGroup: e.DirectoryGroup, AdobeGroups: slices.Clone(e.AdobeGroups)})
			}
		case EditDeleteRow:
			out = slices.Delete(out, i, i+1)
		}
	}
	return out, nil
}

func sameGroup(name string) func(string) bool {
	n := core.NormalizeGroup(name)
	return func(g string) bool { return core.NormalizeGroup(g) == n }
}

// EditMappingFile applies edits to directory_users.groups of the main
// configuration file at path, in its YAML node tree, so that comments, key
// order and the style of every other value are kept (the file is never
// re-marshalled from structs). It then:
//
//  1. writes the new text to a temporary file beside path;
//  2. validates it by loading it with opts (a file that does not load is
//     refused, and the error says why);
//  3. copies the original to a backup beside it (path.YYYYMMDDTHHMMSS.bak);
//  4. renames the new file over path (atomic on one file system).
//
// Any failure leaves path untouched and removes the temporary file. It
// returns the backup's path. Only UTF-8 files are edited.
func EditMappingFile(path string, opts LoadOptions, edits ...MappingEdit) (backup string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read configuration file: %w", err)
	}
	if !isUTF8Name(opts.Encoding) {
		return "", fmt.Errorf("%s: only UTF-8 configuration files can be edited in place (this one is %s)", path, opts.Encoding)
	}
	out, err := EditMappingYAML(raw, edits...)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("cannot write beside %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			os.Remove(tmpName)
		}
	}()
	if _, err = tmp.Write(out); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("cannot write beside %s: %w", path, err)
	}
	if err = os.Chmod(tmpName, fileMode(path)); err != nil {
		return "", err
	}
	if _, err = Load(tmpName, opts); err != nil {
		return "", fmt.Errorf("the edited configuration does not load, so %s was not changed: %w", path, err)
	}
	backup = fmt.Sprintf("%s.%s.bak", path, time.Now().UTC().Format("20060102T150405.000"))
	if err = os.WriteFile(backup, raw, fileMode(path)); err != nil {
		return "", fmt.Errorf("cannot write the backup %s, so %s was not changed: %w", backup, path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return "", fmt.Errorf("cannot replace %s (it is unchanged; the edit is in %s): %w", path, tmpName, err)
	}
	return backup, nil
}

func isUTF8Name(enc string) bool {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "utf8", "utf-8", "utf_8":
		return true
	}
	return false
}

// EditMappingYAML applies edits to directory_users.groups of a main
// configuration file's text and returns the new text. Only the groups
// list's nodes change; the rest of the tree, comments included, is
// written back as it was read, with the file's own indentation.
func EditMappingYAML(raw []byte, edits ...MappingEdit) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("malformed YAML: %v", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the top level must be a mapping of keys to values")
	}
	du := mapValue(doc.Content[0], "directory_users")
	if du == nil || du.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("no directory_users section to edit")
	}
	groups := mapValue(du, "groups")
	if groups == nil || (groups.Kind == yaml.ScalarNode && groups.Tag == "!!null") {
		groups = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		setMapValue(du, "groups", groups)
	}
	if groups.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("directory_users.groups is not a list")
	}
	for _, e := range edits {
		if err := e.check(); err != nil {
			return nil, err
		}
		if err := editGroups(groups, e); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(detectIndent(raw))
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// editGroups applies one edit to the groups sequence node.
func editGroups(groups *yaml.Node, e MappingEdit) error {
	var rows []*yaml.Node
	for _, it := range groups.Content {
		if it.Kind != yaml.MappingNode {
			continue
		}
		if dg := mapValue(it, "directory_group"); dg != nil && dg.Value == e.DirectoryGroup {
			rows = append(rows, it)
		}
	}
	if len(rows) == 0 && e.Kind != EditAddRow {
		return fmt.Errorf("%s: directory_users.groups has no row for %q", e, e.DirectoryGroup)
	}
	switch e.Kind {
	case EditRenameDirectoryGroup:
		for _, r := range rows {
			v := mapValue(r, "directory_group")
			v.Value = e.NewName
			if v.Style == 0 && needsQuotes(e.NewName) {
				v.Style = yaml.DoubleQuotedStyle
			}
		}
	case EditAddAdobeGroup:
		for _, r := range rows {
			if slices.ContainsFunc(adobeGroupNodes(r), func(n *yaml.Node) bool { return sameGroup(e.AdobeGroup)(n.Value) }) {
				return nil
			}
		}
		r := rows[len(rows)-1]
		ag := mapValue(r, "adobe_groups")
		switch {
		case ag == nil || (ag.Kind == yaml.ScalarNode && ag.Tag == "!!null"):
			setMapValue(r, "adobe_groups", &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{scalar(e.AdobeGroup)}})
		case ag.Kind == yaml.ScalarNode:
			// UST wraps a single name; keep it a list from now on.
			old := *ag
			*ag = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Content: []*yaml.Node{&old, scalar(e.AdobeGroup)}}
		case ag.Kind == yaml.SequenceNode:
			ag.Content = append(ag.Content, scalar(e.AdobeGroup))
		default:
			return fmt.Errorf("%s: adobe_groups of %q is not a list", e, e.DirectoryGroup)
		}
	case EditRemoveAdobeGroup:
		for _, r := range rows {
			ag := mapValue(r, "adobe_groups")
			switch {
			case ag == nil:
			case ag.Kind == yaml.SequenceNode:
				ag.Content = slices.DeleteFunc(ag.Content, func(n *yaml.Node) bool { return sameGroup(e.AdobeGroup)(n.Value) })
			case ag.Kind == yaml.ScalarNode && sameGroup(e.AdobeGroup)(ag.Value):
				*ag = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
			}
		}
	case EditAddRow:
		if len(rows) > 0 {
			for _, g := range e.AdobeGroups {
				if err := editGroups(groups, MappingEdit{Kind: EditAddAdobeGroup, DirectoryGroup: e.DirectoryGroup, AdobeGroup: g}); err != nil {
					return err
				}
			}
			return nil
		}
		list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		// Follow the style of the rows already there.
		if len(groups.Content) > 0 {
			if ag := mapValue(groups.Content[len(groups.Content)-1], "adobe_groups"); ag != nil && ag.Kind == yaml.SequenceNode {
				list.Style = ag.Style
			}
		}
		for _, g := range e.AdobeGroups {
			list.Content = append(list.Content, scalar(g))
		}
		groups.Content = append(groups.Content, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			scalar("directory_group"), scalar(e.DirectoryGroup), scalar("adobe_groups"), list}})
		groups.Style = 0
	case EditDeleteRow:
		groups.Content = slices.DeleteFunc(groups.Content, func(n *yaml.Node) bool { return slices.Contains(rows, n) })
	}
	return nil
}

func adobeGroupNodes(row *yaml.Node) []*yaml.Node {
	ag := mapValue(row, "adobe_groups")
	switch {
	case ag == nil:
		return nil
	case ag.Kind == yaml.SequenceNode:
		return ag.Content
	case ag.Kind == yaml.ScalarNode:
		return []*yaml.Node{ag}
	}
	return nil
}

func scalar(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if needsQuotes(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// needsQuotes reports whether s would not read back as the same string
// when written plain (a number, a boolean, a leading indicator, ": ").
func needsQuotes(s string) bool {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return true
	}
	str, ok := v.(string)
	return !ok || str != s
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				return v.Alias
			}
			return v
		}
	}
	return nil
}

func setMapValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, scalar(key), v)
}

// detectIndent returns the indentation of the file's first indented
// line (2 when none is found), so that the file keeps its own.
func detectIndent(raw []byte) int {
	for l := range strings.SplitSeq(string(raw), "\n") {
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "#") || t == l {
			continue
		}
		if n := len(l) - len(t); n >= 2 && n <= 8 {
			return n
		}
	}
	return 2
}
