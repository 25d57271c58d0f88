package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The demo: a directory of 400 people in a CSV file and an Adobe org seeded
// into the embedded simulator, with deliberate drift so that every kind of
// change appears: creates, name updates, group adds and removes, Adobe-only
// users, an excluded admin, and a directory group missing in Adobe.

const demoOrgID = "D3M0D3M0D3M0D3M0@AdobeOrg"

var (
	demoFirst = []string{"Ana", "Bruno", "Chloé", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ingrid", "José",
		"Kofi", "Lena", "Łukasz", "Maya", "Nils", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma",
		"Viktor", "Wen", "Ximena", "Yusuf", "Zoë"}
	demoLast = []string{"Abara", "Berg", "Castro", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ito",
		"Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Søren",
		"Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang"}
	demoCountries = []string{"US", "GB", "DE", "FR", "ES", "JP", "IN", "BR"}
	// Directory groups and where they map (also the demo config's mapping).
	demoMapping = []struct {
		dir   string
		adobe []string
	}{
		{"Design", []string{"Design Team", "Creative Cloud All Apps"}},
		{"Marketing", []string{"Marketing Team", "Acrobat Pro"}},
		{"Engineering", []string{"Acrobat Pro"}},
		{"Video", []string{"Premiere Pro"}}, // missing in the org: auto_create makes it
		{"Contractors", nil},
	}
)

type demoPerson struct {
	first, last, email, country string
	groups                      []string
}

func demoPeople() []demoPerson {
	var out []demoPerson
	for i := range 400 {
		f := demoFirst[i%len(demoFirst)]
		l := demoLast[(i*7)%len(demoLast)]
		email := fmt.Sprintf("%s.%s%d@example.org", asciiFold(f), asciiFold(l), i)
		var groups []string
		switch i % 10 {
		case 0, 1, 2:
			groups = []string{"Design"}
		case 3, 4:
			groups = []string{"Marketing"}
		case 5, 6, 7:
			groups = []string{"Engineering"}
		case 8:
			groups = []string{"Design", "Marketing"}
		case 9:
			groups = []string{"Contractors"}
		}
		if i%37 == 0 {
			groups = append(groups, "Video")
		}
		out = append(out, demoPerson{f, l, strings.ToLower(email), demoCountries[i%len(demoCountries)], groups})
	}
	return out
}

func asciiFold(s string) string {
	r := strings.NewReplacer("é", "e", "Ł", "L", "ł", "l", "ë", "e", "í", "i", "ø", "o", "ö", "o", "ü", "u")
	return r.Replace(s)
}

// demoCSV is the directory: users.csv in UST's CSV format.
func demoCSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"firstname", "lastname", "email", "country", "groups", "type", "username", "domain"})
	for _, p := range demoPeople() {
		w.Write([]string{p.first, p.last, p.email, p.country, strings.Join(p.groups, ","), "federatedID", "", ""})
	}
	w.Flush()
	return b.Bytes()
}

type seedUser struct {
	Email     string   `json:"email"`
	Username  string   `json:"username"`
	Domain    string   `json:"domain"`
	Type      string   `json:"type"`
	Firstname string   `json:"firstname,omitempty"`
	Lastname  string   `json:"lastname,omitempty"`
	Country   string   `json:"country,omitempty"`
	Groups    []string `json:"groups,omitempty"`
}

// demoSeed is the Adobe org before the sync. Compared with the directory:
// every 5th person is missing (created by the sync), every 23rd has an old
// last name (updated), every 11th lacks a group or has a stale one (group
// adds and removes), 12 former employees are still there (Adobe-only), and
// an org admin is excluded by exclude_adobe_groups.
func demoSeed(clientID, secret string) []byte {
	type group struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		ProductName string `json:"productName,omitempty"`
	}
	seed := struct {
		OrgID        string `json:"org_id"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Domains      []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"domains"`
		Groups []group    `json:"groups"`
		Users  []seedUser `json:"users"`
	}{OrgID: demoOrgID, ClientID: clientID, ClientSecret: secret}
	seed.Domains = append(seed.Domains, struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}{"example.org", "federatedID"})
	seed.Groups = []group{
		{"Design Team", "USER_GROUP", ""}, {"Marketing Team", "USER_GROUP", ""},
		{"Creative Cloud All Apps", "PRODUCT_PROFILE", "Creative Cloud"},
		{"Acrobat Pro", "PRODUCT_PROFILE", "Acrobat"},
		{"Stock Contributors", "PRODUCT_PROFILE", "Adobe Stock"},
	}
	mapped := map[string][]string{}
	for _, m := range demoMapping {
		mapped[m.dir] = m.adobe
	}
	for i, p := range demoPeople() {
		if i%5 == 4 {
			continue // not in Adobe yet: created
		}
		u := seedUser{Email: p.email, Username: p.email, Domain: "example.org", Type: "federatedID",
			Firstname: p.first, Lastname: p.last, Country: p.country}
		if i%23 == 0 {
			u.Lastname = p.last + "-Old" // renamed in the directory: updated
		}
		seen := map[string]bool{}
		for _, g := range p.groups {
			for _, a := range mapped[g] {
				if a != "Premiere Pro" && !seen[a] {
					seen[a] = true
					u.Groups = append(u.Groups, a)
				}
			}
		}
		switch {
		case i%11 == 0 && len(u.Groups) > 0:
			u.Groups = u.Groups[1:] // lost a group: added back
		case i%11 == 1:
			u.Groups = append(u.Groups, "Acrobat Pro") // stale mapped group: removed
		}
		if i%50 == 3 {
			u.Groups = append(u.Groups, "Stock Contributors") // unmapped: left alone
		}
		seed.Users = append(seed.Users, u)
	}
	for i := range 12 {
		email := fmt.Sprintf("former.employee%02d@example.org", i+1)
		seed.Users = append(seed.Users, seedUser{Email: email, Username: email, Domain: "example.org", Type: "federatedID",
			Firstname: "Former", Lastname: fmt.Sprintf("Employee %d", i+1), Country: "US",
			Groups: []string{"Design Team", "Creative Cloud All Apps"}[:1+i%2]})
	}
	seed.Users = append(seed.Users, seedUser{Email: "it.admin@example.org", Username: "it.admin@example.org",
		Domain: "example.org", Type: "federatedID", Firstname: "IT", Lastname: "Admin", Country: "US",
		Groups: []string{"_org_admin"}})
	b, _ := json.MarshalIndent(seed, "", "  ")
	return b
}

const demoMainConfig = `# usersync demo: UST's configuration format, unchanged.
adobe_users:
  connectors:
    umapi: connector-umapi.yml
  exclude_adobe_groups:
    - _org_admin
directory_users:
  user_identity_type: federatedID
  default_country_code: US
  connectors:
    csv: connector-csv.yml
  groups:
%s
  # "Premiere Pro" is mapped but missing in the org: it is created.
  group_sync_options:
    auto_create: True
limits:
  max_adobe_only_users: 15
logging:
  log_to_file: False
  console_log_level: info
invocation_defaults:
  adobe_only_user_action: remove
  process_groups: Yes
  update_user_info: Yes
  users: mapped
  connector:
    - csv
    - %q
`

const demoUMAPIConfig = `server:
  host: %[1]s
  auth_host: %[1]s
enterprise:
  org_id: %[2]s
  client_id: %[3]s
  client_secret: %[4]s
`

// UST resolves file_path against the working directory, so the demo writes
// an absolute one.
const demoCSVConfig = `file_path: %q
`

// writeDemo writes the demo configuration for a simulator at baseURL into
// dir and returns the main config path.
func writeDemo(dir, baseURL, clientID, secret string) (string, error) {
	var groups strings.Builder
	for _, m := range demoMapping {
		fmt.Fprintf(&groups, "    - directory_group: %s\n      adobe_groups:\n", m.dir)
		if len(m.adobe) == 0 {
			groups.WriteString("        []\n")
		}
		for _, a := range m.adobe {
			fmt.Fprintf(&groups, "        - %s\n", a)
		}
	}
	files := map[string]string{
		"user-sync-config.yml": fmt.Sprintf(demoMainConfig, strings.TrimRight(groups.String(), "\n"), filepath.Join(dir, "users.csv")),
		"connector-umapi.yml":  fmt.Sprintf(demoUMAPIConfig, baseURL, demoOrgID, clientID, secret),
		"connector-csv.yml":    fmt.Sprintf(demoCSVConfig, filepath.Join(dir, "users.csv")),
		"users.csv":            string(demoCSV()),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "user-sync-config.yml"), nil
}
