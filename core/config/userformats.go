package config

import (
	"strings"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/attrformat"
)

// IdentityType reads an optional identity type key such as a connector's
// user_identity_type. An absent or blank key gives "", meaning the main
// configuration's default.
func (n *Node) IdentityType(key string) (core.IdentityType, error) {
	s, err := n.String(key, "")
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	t, err := core.ParseIdentityType(s)
	if err != nil {
		return "", n.Get(key).Errorf("%v", err)
	}
	return t, nil
}

// UserFormats points at a directory connector's user_*_format settings,
// the attribute templates UST gives every connector under the same keys.
type UserFormats struct {
	IdentityType, Email, Username, Domain, GivenName, Surname, CountryCode *attrformat.Format
}

// FormatDefaults are a connector's defaults for the user_*_format keys that
// have one; the others default to unset.
type FormatDefaults struct {
	Email, GivenName, Surname, CountryCode string
}

// UserFormats reads the user_*_format keys into dst, checking placeholder
// names with check. An absent or null key takes its default; an empty
// string is a format of its own (a constant ""), as in UST.
func (n *Node) UserFormats(check attrformat.Check, def FormatDefaults, dst UserFormats) error {
	keys := []struct {
		key, def string
		dst      *attrformat.Format
	}{
		{"user_identity_type_format", "", dst.IdentityType},
		{"user_email_format", def.Email, dst.Email},
		{"user_username_format", "", dst.Username},
		{"user_domain_format", "", dst.Domain},
		{"user_given_name_format", def.GivenName, dst.GivenName},
		{"user_surname_format", def.Surname, dst.Surname},
		{"user_country_code_format", def.CountryCode, dst.CountryCode},
	}
	for _, k := range keys {
		v := n.Get(k.key)
		if v.IsNull() {
			if k.def != "" {
				*k.dst = attrformat.Must(k.def, check)
			}
			continue
		}
		s, err := v.Scalar()
		if err != nil {
			return err
		}
		if *k.dst, err = attrformat.Parse(s, check); err != nil {
			return v.Errorf("%v", err)
		}
	}
	return nil
}
