package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Seed is an organisation's state in the seed format of DESIGN.md. It is
// what --seed reads, what GET /_sim/state returns and what POST /_sim/reset
// takes.
type Seed struct {
	OrgID        string       `json:"org_id"`
	ClientID     string       `json:"client_id"`
	ClientSecret string       `json:"client_secret"`
	Domains      []SeedDomain `json:"domains"`
	Groups       []SeedGroup  `json:"groups"`
	Users        []SeedUser   `json:"users"`
}

// SeedDomain is a domain claimed by the org (or, with Trusted, accessed
// through another org's trust). Type is the identity type of the directory
// the domain is linked to: "federatedID" or "enterpriseID".
type SeedDomain struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Trusted bool   `json:"trusted,omitempty"`
}

// SeedGroup is a user group, a product profile or an admin group.
// ProductConfigurations lists the product profiles a user group grants
// (an extension of the DESIGN.md format, used by directOnly=false).
type SeedGroup struct {
	Name                  string   `json:"name"`
	Type                  string   `json:"type"`
	ProductName           string   `json:"productName,omitempty"`
	Description           string   `json:"description,omitempty"`
	ReadOnly              bool     `json:"readOnly,omitempty"`
	ProductConfigurations []string `json:"productConfigurations,omitempty"`
	// LicenseQuota is a product profile's licence quota, served as given in
	// the group list: a string ("50"), a number (50) or "UNLIMITED". The
	// simulator reports it and does not enforce it.
	LicenseQuota json.RawMessage `json:"licenseQuota,omitempty"`
}

// SeedUser is one member of the org. Username defaults to the email and
// Domain to the email's domain.
type SeedUser struct {
	Email     string   `json:"email"`
	Username  string   `json:"username"`
	Domain    string   `json:"domain"`
	Type      string   `json:"type"`
	Firstname string   `json:"firstname,omitempty"`
	Lastname  string   `json:"lastname,omitempty"`
	Country   string   `json:"country,omitempty"`
	Groups    []string `json:"groups,omitempty"`
}

// The defaults of an org started without a seed (and of missing seed
// fields).
const (
	DefaultOrgID        = "1234567890ABCDEF@AdobeOrg"
	DefaultClientID     = "sim-client"
	DefaultClientSecret = "sim-secret"
)

// LoadSeed reads and checks a seed file. Errors name the file and, for JSON
// syntax errors, the line and column.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSeed(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseSeed decodes and checks a seed document. Unknown fields are errors,
// so that a misspelt key does not silently seed an empty value.
func ParseSeed(data []byte) (*Seed, error) {
	s, _, err := decodeSeed(data)
	return s, err
}

// decodeSeed parses and checks a seed document and builds its org.
func decodeSeed(data []byte) (*Seed, *org, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return nil, nil, jsonPosError(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("unexpected data after the seed document")
	}
	o, err := buildOrg(&s)
	if err != nil {
		return nil, nil, err
	}
	return &s, o, nil
}

// jsonPosError adds a line and column to a JSON decoding error.
func jsonPosError(data []byte, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		off = te.Offset
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// fieldError is a seed validation error naming the offending field, such
// as users[3].domain.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}

func emailDomain(email string) string {
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		return email[i+1:]
	}
	return ""
}

// validQuota reports whether raw is a licenseQuota the real API could
// send: a whole number, as a JSON string or number, or "UNLIMITED".
func validQuota(raw json.RawMessage) bool {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.EqualFold(strings.TrimSpace(s), "UNLIMITED") {
			return true
		}
		raw = json.RawMessage(strings.TrimSpace(s))
	}
	var n uint64
	return json.Unmarshal(raw, &n) == nil
}
