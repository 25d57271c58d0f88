package core

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The limits UMAPI puts on user values (reference/umapi-protocol.md §4.5).
const (
	MaxEmailLength = 60
	MaxNameLength  = 250
	MaxFieldLength = 250 // username, domain
)

// iso3166 holds the ISO 3166-1 alpha-2 codes, and UD, which UMAPI accepts
// for "undefined" (§6.5).
var iso3166 = func() map[string]bool {
	const codes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
		"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
		"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
		"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
		"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
		"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
		"UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW UD"
	m := map[string]bool{}
	for c := range strings.FieldsSeq(codes) {
		m[c] = true
	}
	return m
}()

// ValidCountry reports whether c is a country code UMAPI accepts: two
// upper-case letters of ISO 3166-1 alpha-2 (or UD).
func ValidCountry(c string) bool { return iso3166[c] }

// Problem is one value of a directory user that UMAPI would refuse.
type Problem struct {
	Field string `json:"field"` // email, username, domain, firstname, lastname, country
	Value string `json:"value"` // as read (control characters quoted by %q in Reason)
	// Reason says what is wrong, in plain words.
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	v := p.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Sprintf("%s %q %s", p.Field, v, p.Reason)
}

// ValidateEmail says why UMAPI would refuse e as an email address, or ""
// when it would accept it: one @ with a non-empty local part and a dotted
// domain, no spaces, control characters or NUL, at most MaxEmailLength
// characters.
func ValidateEmail(e string) string {
	switch {
	case e == "":
		return "is empty"
	case !utf8.ValidString(e):
		return "is not valid UTF-8"
	case hasControl(e):
		return "holds a control character"
	case strings.ContainsFunc(e, unicode.IsSpace):
		return "holds a space"
	case strings.Count(e, "@") != 1:
		if !strings.Contains(e, "@") {
			return "has no @"
		}
		return "has more than one @"
	}
	at := strings.IndexByte(e, '@')
	local, domain := e[:at], e[at+1:]
	switch {
	case local == "":
		return "has nothing before the @"
	case domain == "":
		return "has no domain after the @"
	case !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, ".."):
		return "has no valid domain after the @"
	case strings.ContainsAny(e, `<>()[]\,;:"`):
		return "holds a character email addresses cannot hold"
	case utf8.RuneCountInString(e) > MaxEmailLength:
		return fmt.Sprintf("is longer than %d characters", MaxEmailLength)
	}
	return ""
}

// ValidateName says why UMAPI would refuse s as a first or last name, or
// "" when it would accept it.
func ValidateName(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case hasControl(s):
		return "holds a control character"
	case utf8.RuneCountInString(s) > MaxNameLength:
		return fmt.Sprintf("is longer than %d characters", MaxNameLength)
	}
	return ""
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// ValidateDirectoryUser checks every value of u that would be sent to
// UMAPI the way UMAPI checks it, and returns the problems (nil when none).
// A user with a problem is skipped by the planner, never sent.
func ValidateDirectoryUser(u *DirectoryUser) []Problem {
	var out []Problem
	add := func(field, value, reason string) {
		if reason != "" {
			out = append(out, Problem{Field: field, Value: value, Reason: reason})
		}
	}
	if u.Email != "" || u.Type != AdobeID {
		add("email", u.Email, ValidateEmail(u.Email))
	}
	if u.Username != "" && !strings.EqualFold(u.Username, u.Email) {
		switch {
		case hasControl(u.Username) || strings.ContainsFunc(u.Username, unicode.IsSpace):
			add("username", u.Username, "holds a space or control character")
		case utf8.RuneCountInString(u.Username) > MaxFieldLength:
			add("username", u.Username, fmt.Sprintf("is longer than %d characters", MaxFieldLength))
		}
	}
	if u.Domain != "" {
		switch {
		case hasControl(u.Domain) || strings.ContainsFunc(u.Domain, unicode.IsSpace):
			add("domain", u.Domain, "holds a space or control character")
		case utf8.RuneCountInString(u.Domain) > MaxFieldLength:
			add("domain", u.Domain, fmt.Sprintf("is longer than %d characters", MaxFieldLength))
		}
	}
	add("firstname", u.Firstname, ValidateName(u.Firstname))
	add("lastname", u.Lastname, ValidateName(u.Lastname))
	if u.Country != "" && !ValidCountry(u.Country) {
		add("country", u.Country, "is not an ISO 3166-1 alpha-2 country code")
	}
	return out
}
