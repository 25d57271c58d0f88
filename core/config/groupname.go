package config

import (
	"unicode/utf8"

	"github.com/usersync/usersync/core"
)

// MaxAdobeGroupName is the longest user-group or product-profile name
// UMAPI accepts, in characters (umapi-protocol.md §4.5).
const MaxAdobeGroupName = 255

// checkGroupNameLengths refuses, at its own line, an Adobe group name in
// the list node that UMAPI would refuse for its length, so a typo'd or
// pasted name fails when the config loads instead of at the org.
func checkGroupNameLengths(list *Node) error {
	for _, it := range list.Items() {
		if it.IsNull() {
			continue
		}
		s, err := it.Scalar()
		if err != nil {
			return err
		}
		_, name := core.SplitQualifiedGroup(s)
		if n := utf8.RuneCountInString(name); n > MaxAdobeGroupName {
			return it.Errorf("Adobe group name %.40q… is %d characters; UMAPI allows at most %d", name, n, MaxAdobeGroupName)
		}
	}
	return nil
}
