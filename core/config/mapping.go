package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/usersync/usersync/core"
)

// parseGroupMapping reads a groups: list (directory_users.groups).
// Entries for the same directory group accumulate (UST).
func parseGroupMapping(groups *Node) ([]core.GroupMapping, []orgRef, error) {
	var out []core.GroupMapping
	var refs []orgRef
	index := map[string]int{}
	for _, it := range groups.Items() {
		if !it.IsMap() {
			return nil, nil, it.Errorf("must be a mapping with directory_group and adobe_groups")
		}
		dg, err := it.RequireString("directory_group")
		if err != nil {
			return nil, nil, err
		}
		ag, err := it.StringList("adobe_groups")
		if err != nil {
			return nil, nil, err
		}
		agn := it.Get("adobe_groups")
		if err := checkGroupNameLengths(agn); err != nil {
			return nil, nil, err
		}
		for _, g := range ag {
			org, name := core.SplitQualifiedGroup(g)
			if strings.TrimSpace(name) == "" {
				return nil, nil, agn.Errorf("invalid Adobe group name %q", g)
			}
			if org != "" {
				refs = append(refs, orgRef{org: org, group: g, node: agn})
			}
		}
		if i, ok := index[dg]; ok {
			out[i].AdobeGroups = append(out[i].AdobeGroups, ag...)
			continue
		}
		index[dg] = len(out)
		out = append(out, core.GroupMapping{DirectoryGroup: dg, AdobeGroups: ag})
	}
	return out, refs, nil
}

// LoadMapping reads a file holding a groups: list in the format of
// directory_users.groups (for `plan --mapping FILE`). A file without a
// groups key, or with other keys, is an error: a typo must not silently
// empty the mapping.
func LoadMapping(path string) ([]core.GroupMapping, error) {
	n, err := LoadFile(path, "")
	if err != nil {
		return nil, err
	}
	if err := n.CheckKeys("groups"); err != nil {
		return nil, err
	}
	if !n.Has("groups") {
		return nil, &Error{File: path, Path: "groups", Line: 1, Msg: "required: the mapping file holds a groups: list like directory_users.groups"}
	}
	m, _, err := parseGroupMapping(n.Get("groups"))
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ReplaceMapping makes m the group mapping of c for this run (plan
// --mapping). Every org:: prefix must name a secondary org c declares.
func (c *Config) ReplaceMapping(m []core.GroupMapping) error {
	for _, gm := range m {
		for _, g := range gm.AdobeGroups {
			org, _ := core.SplitQualifiedGroup(g)
			if org == "" {
				continue
			}
			if _, ok := c.UMAPI[org]; !ok {
				return fmt.Errorf("group %q references the unknown org %q: secondary orgs are declared under adobe_users.connectors.umapi", g, org)
			}
		}
	}
	c.Options.GroupMapping = m
	return nil
}

// fileMode is the mode of an existing file, or 0600.
func fileMode(path string) os.FileMode {
	if st, err := os.Stat(path); err == nil {
		return st.Mode().Perm()
	}
	return 0o600
}
