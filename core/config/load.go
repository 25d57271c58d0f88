package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/usersync/usersync/core"
	"go.yaml.in/yaml/v3"
)

// LoadOptions are the inputs of Load besides the file.
type LoadOptions struct {
	// Encoding of every configuration file; --config-file-encoding in
	// Flags takes precedence. Empty means UTF-8.
	Encoding string
	// Secrets resolves secure_X_key settings (the OS keyring).
	Secrets Secrets
	// Flags are the sync flags given on the command line; nil means none.
	Flags *SyncFlags
	// CompileHook turns the extension's after_mapping_hook into a
	// core.Hook; line is the first line of the code in file. When nil,
	// a configured hook is an error.
	CompileHook func(file string, line int, src string) (core.Hook, error)
}

// Config is a loaded UST configuration: the main file, the files it
// names, and the sync flags, resolved into what the engine and the
// connectors need.
type Config struct {
	// File is the main configuration file (absolute).
	File string
	// Options are the engine's options (core.Options.AdobeOnlyList and
	// Logger are left for cmd to fill).
	Options core.Options
	// Invocation holds the resolved options core.Options has no field
	// for: the connector, its users file, the Adobe-only list file.
	Invocation Invocation
	// Flags are the effective sync options: invocation_defaults overlaid
	// with the command line.
	Flags *SyncFlags
	// UMAPI maps core.PrimaryOrg and each secondary org's name to its
	// connection settings.
	UMAPI map[string]*UMAPIConfig
	// DirectoryConnectorFiles maps each connector named under
	// directory_users.connectors (ldap, csv, okta, entra, google, adobe_console) to its
	// files, absolute, in merge order.
	DirectoryConnectorFiles map[string][]string
	// DirectoryConnectors holds the parsed, merged file of the selected
	// connector (absent for csv without a file, and in Adobe-only list
	// mode). The connector package reads its own keys; where it has no
	// user_identity_type it uses Options.DefaultIdentityType.
	DirectoryConnectors map[string]*Node
	// Extension is the extension configuration, or nil.
	Extension *Extension
	// Logging are the logging settings.
	Logging Logging
	// Notifications are the notification settings (see safety.go).
	Notifications Notifications
	// Warnings are non-fatal problems to log at WARNING.
	Warnings []string

	encoding string
}

// Extension is extension-config.yml (UST §2.9).
type Extension struct {
	File string
	// Line is the first line of the hook's code in File.
	Line int
	// Source is after_mapping_hook as written.
	Source              string
	ExtendedAttributes  []string
	ExtendedAdobeGroups []string
}

// The directory connectors UST knows.
var directoryConnectors = []string{"ldap", "okta", "entra", "csv", "adobe_console", "google"}

// Load reads the main configuration file at path and every file it names,
// applies the sync flags and checks everything with UST's rules (§1-2).
// Errors name the file, key path and line (*Error); errors caused by
// command-line flags alone are *UsageError.
func Load(path string, opts LoadOptions) (*Config, error) {
	return LoadContext(context.Background(), path, opts)
}

// LoadContext is Load with a context for the secrets look-ups.
func LoadContext(ctx context.Context, path string, opts LoadOptions) (*Config, error) {
	flags := opts.Flags
	if flags == nil {
		flags = &SyncFlags{}
	}
	enc := opts.Encoding
	if flags.ConfigFileEncoding != nil {
		enc = *flags.ConfigFileEncoding
		if _, err := Decode(nil, enc); err != nil {
			return nil, usagef("--config-file-encoding: %v", err)
		}
	}
	if err := CheckFileName(path); err != nil {
		return nil, &Error{File: path, Msg: "shell execution in file names is not supported"}
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	root, err := readFile(path, enc)
	if err != nil {
		return nil, err
	}
	return load(ctx, root, enc, flags, opts)
}

func readFile(path, enc string) (*Node, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{File: path, Msg: "file not found", Err: fs.ErrNotExist}
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{File: path, Msg: "cannot read the file: " + err.Error(), Err: err}
	}
	return Parse(path, raw, enc)
}

// dedupeKeys makes a repeated key in any mapping of n mean what it means
// to UST's YAML loader: the last value wins. It returns a warning per
// repeated key.
func dedupeKeys(n *Node) []string {
	var warnings []string
	var walk func(y *yaml.Node, path string)
	walk = func(y *yaml.Node, path string) {
		switch y.Kind {
		case yaml.MappingNode:
			index := map[string]int{}
			out := y.Content[:0:0]
			for i := 0; i+1 < len(y.Content); i += 2 {
				k, v := y.Content[i], y.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if j, ok := index[k.Value]; ok {
					warnings = append(warnings, fmt.Sprintf("%s:%d: %s: repeated key; the value at line %d is used", n.File, out[j].Line, p, k.Line))
					out[j], out[j+1] = k, v
				} else {
					index[k.Value] = len(out)
					out = append(out, k, v)
				}
			}
			y.Content = out
			for i := 1; i < len(out); i += 2 {
				p := out[i-1].Value
				if path != "" {
					p = path + "." + p
				}
				walk(out[i], p)
			}
		case yaml.SequenceNode:
			for i, c := range y.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(n.y, n.Path)
	return warnings
}

// load builds the Config from the parsed main file.
func load(ctx context.Context, root *Node, enc string, flags *SyncFlags, opts LoadOptions) (*Config, error) {
	c := &Config{File: root.File, encoding: enc, UMAPI: map[string]*UMAPIConfig{},
		DirectoryConnectorFiles: map[string][]string{}, DirectoryConnectors: map[string]*Node{}}
	c.Warnings = append(c.Warnings, dedupeKeys(root)...)
	for _, k := range []string{"dashboard", "directory"} {
		if root.Has(k) {
			return nil, keyError(root, k, "this file is still in UST's v1 format: v2 configuration files "+
				"have adobe_users and directory_users sections instead of dashboard and directory "+
				"(see UST's guide to upgrading from v1)")
		}
	}
	if root.Has("post_sync") {
		return nil, keyError(root, "post_sync", "post_sync is no longer supported: Sign synchronisation moved "+
			"to its own configuration; run UST's `user-sync migrate-post-sync`, then remove post_sync from this file")
	}

	inv, err := root.Map("invocation_defaults")
	if err != nil {
		return nil, err
	}
	base, from, err := parseInvocationDefaults(inv)
	if err != nil {
		return nil, err
	}
	c.Flags = overlay(base, flags, from)
	in, err := resolveOptions(c.Flags, from, &c.Options)
	if err != nil {
		return nil, err
	}
	c.Invocation = *in

	var refs []orgRef
	au, err := root.RequireMap("adobe_users")
	if err != nil {
		return nil, err
	}
	umapiFiles, secondaries, err := c.adobeUsers(au)
	if err != nil {
		return nil, err
	}
	du, err := root.RequireMap("directory_users")
	if err != nil {
		return nil, err
	}
	extFile, r, err := c.directoryUsers(du)
	if err != nil {
		return nil, err
	}
	refs = append(refs, r...)
	if err := c.limits(root); err != nil {
		return nil, err
	}
	if err := c.logging(root); err != nil {
		return nil, err
	}
	if err := c.notifications(root); err != nil {
		return nil, err
	}

	// Every org:: prefix must name a secondary (UST §3.1 step 6).
	for _, g := range c.Options.AdobeUsersGroups {
		if org, _ := core.SplitQualifiedGroup(g); org != "" {
			refs = append(refs, orgRef{org: org, group: g, node: from["adobe_users"]})
		}
	}
	if err := checkOrgRefs(refs, secondaries); err != nil {
		return nil, err
	}
	refs = nil

	// Unknown keys (UST §2.1): fatal, except under directory_users.connectors.
	var unknown []error
	for _, e := range root.Unused() {
		if strings.HasPrefix(e.Path, "directory_users.connectors.") {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: %s: unknown connector, ignored", e.location(), e.Path))
			continue
		}
		if e.Path == "extensions" {
			e.Msg += ": the extensions section is an old layout; put after_mapping_hook and its lists in " +
				"extension-config.yml and name that file in directory_users.extension"
		} else if i := strings.LastIndex(e.Path, "."); i < 0 && !strings.Contains(e.Msg, "did you mean") {
			if s := Suggest(e.Path, []string{"adobe_users", "directory_users", "limits", "logging", "invocation_defaults", "notifications"}); s != "" {
				e.Msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
		}
		unknown = append(unknown, e)
	}
	if len(unknown) > 0 {
		return nil, errors.Join(unknown...)
	}

	// The Adobe side.
	prim, err := c.loadFiles(umapiFiles)
	if err != nil {
		return nil, err
	}
	u, w, err := parseUMAPI(ctx, prim, core.PrimaryOrg, c.Invocation.SSLCertVerify, opts.Secrets)
	if err != nil {
		return nil, err
	}
	c.UMAPI[core.PrimaryOrg] = u
	c.Warnings = append(c.Warnings, w...)
	c.Options.TrustedConnector = u.Trusted
	for _, s := range secondaries {
		n, err := c.loadFiles([]string{s.file})
		if err != nil {
			return nil, err
		}
		u, w, err := parseUMAPI(ctx, n, s.name, c.Invocation.SSLCertVerify, opts.Secrets)
		if err != nil {
			return nil, err
		}
		c.UMAPI[s.name] = u
		c.Options.Secondaries = append(c.Options.Secondaries, s.name)
		c.Warnings = append(c.Warnings, w...)
	}

	// The extension.
	if extFile != "" {
		if os.Getenv("UST_EXTENSION") == "0" {
			c.Warnings = append(c.Warnings, "the extension is disabled (UST_EXTENSION=0): "+extFile+" is ignored")
		} else {
			r, err := c.loadExtension(extFile, opts.CompileHook)
			if err != nil {
				return nil, err
			}
			refs = append(refs, r...)
		}
	}

	if err := checkOrgRefs(refs, secondaries); err != nil {
		return nil, err
	}

	// The directory side.
	if c.Invocation.AdobeOnlyListFile == "" {
		name := c.Invocation.Connector
		files := c.DirectoryConnectorFiles[name]
		if len(files) == 0 && name != "csv" {
			return nil, &Error{File: c.File, Path: "directory_users.connectors." + name,
				Msg: fmt.Sprintf("the %s connector needs its configuration file (e.g. %s: connector-%s.yml)", name, name, strings.ReplaceAll(name, "_", "-"))}
		}
		if len(files) > 0 {
			n, err := c.loadFiles(files)
			if err != nil {
				return nil, err
			}
			c.DirectoryConnectors[name] = n
		}
	}

	if c.Options.ProcessGroups && len(c.Options.GroupMapping) == 0 {
		c.Warnings = append(c.Warnings, c.File+": process-groups is on but directory_users.groups maps no groups")
	}
	return c, nil
}

// DirectoryConnector parses the merged files of the named directory
// connector, nil when none are configured.
func (c *Config) DirectoryConnector(name string) (*Node, error) {
	if n := c.DirectoryConnectors[name]; n != nil {
		return n, nil
	}
	files := c.DirectoryConnectorFiles[name]
	if len(files) == 0 {
		return nil, nil
	}
	return c.loadFiles(files)
}

func (c *Config) loadFiles(files []string) (*Node, error) {
	nodes := make([]*Node, 0, len(files))
	for _, f := range files {
		n, err := readFile(f, c.encoding)
		if err != nil {
			return nil, err
		}
		c.Warnings = append(c.Warnings, dedupeKeys(n)...)
		nodes = append(nodes, n)
	}
	return Merge(nodes...), nil
}

// keyError is an error about key itself, located at the key's line.
func keyError(n *Node, key, msg string) error {
	line := n.Line()
	for i := 0; i+1 < len(n.y.Content); i += 2 {
		if n.y.Content[i].Value == key {
			line = n.y.Content[i].Line
			break
		}
	}
	n.Get(key)
	return &Error{File: n.File, Path: n.child(key), Line: line, Msg: msg}
}

// orgRef is a use of an org:: prefix, checked once the secondaries are
// known. A nil node means the command line.
type orgRef struct {
	org, group string
	node       *Node
}

type secondary struct{ name, file string }

// checkOrgRefs reports the first org:: prefix that names no secondary org.
func checkOrgRefs(refs []orgRef, secs []secondary) error {
	for _, r := range refs {
		known := false
		for _, s := range secs {
			known = known || s.name == r.org
		}
		if known {
			continue
		}
		msg := fmt.Sprintf("group %q references the unknown org %q: secondary orgs are declared as {%s: file} items under adobe_users.connectors.umapi", r.group, r.org, r.org)
		if r.node == nil {
			return usagef("--adobe-users: %s", msg)
		}
		return r.node.Errorf("%s", msg)
	}
	return nil
}

// filePath checks and resolves a file name written at n.
func filePath(n *Node) (string, error) {
	s, err := n.Scalar()
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", n.Errorf("file name is empty")
	}
	if CheckFileName(s) != nil {
		return "", n.Errorf("shell execution in file names (%s) is not supported: name the file itself", s)
	}
	p := n.ResolvePath(s)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", n.Errorf("file %s not found", p)
		}
		return "", n.Errorf("cannot use file %s: %v", p, err)
	}
	return p, nil
}

// adobeUsers reads the adobe_users section.
func (c *Config) adobeUsers(au *Node) ([]string, []secondary, error) {
	conns, err := au.Map("connectors")
	if err != nil {
		return nil, nil, err
	}
	var prim []string
	var secs []secondary
	umapi := conns.Get("umapi")
	if umapi.IsNull() {
		return nil, nil, &Error{File: au.File, Path: "adobe_users.connectors.umapi", Line: au.Line(),
			Msg: "required: name the connector-umapi.yml file of the primary org"}
	}
	seen := map[string]bool{}
	for _, it := range umapi.Items() {
		if it.IsMap() {
			for _, name := range it.Keys() {
				v := it.Get(name)
				switch {
				case name == "" || strings.Contains(name, "::"):
					return nil, nil, v.Errorf("invalid secondary org name %q", name)
				case name == core.PrimaryOrg:
					return nil, nil, v.Errorf("%q is reserved for the primary org: give the secondary another name", name)
				case seen[name]:
					return nil, nil, v.Errorf("secondary org %q is declared twice", name)
				case v.IsList() || v.IsMap():
					return nil, nil, v.Errorf("a secondary org takes one file name")
				}
				p, err := filePath(v)
				if err != nil {
					return nil, nil, err
				}
				seen[name] = true
				secs = append(secs, secondary{name, p})
			}
			continue
		}
		if len(secs) > 0 {
			return nil, nil, it.Errorf("the primary org's files must come before the {name: file} items of secondary orgs")
		}
		p, err := filePath(it)
		if err != nil {
			return nil, nil, err
		}
		prim = append(prim, p)
	}
	if len(prim) == 0 {
		return nil, nil, umapi.Errorf("no file for the primary org: list its connector-umapi.yml first")
	}

	types, err := au.StringList("exclude_identity_types")
	if err != nil {
		return nil, nil, err
	}
	for i, s := range types {
		t, err := core.ParseIdentityType(s)
		if err != nil {
			return nil, nil, au.Get("exclude_identity_types").Items()[i].Errorf("%v", err)
		}
		c.Options.ExcludeIdentityTypes = append(c.Options.ExcludeIdentityTypes, t)
	}
	groups, err := au.StringList("exclude_adobe_groups")
	if err != nil {
		return nil, nil, err
	}
	for _, g := range groups {
		if strings.Contains(g, "::") {
			return nil, nil, au.Get("exclude_adobe_groups").Errorf("%q: excluded groups must be primary-org groups (no org:: prefix)", g)
		}
		if strings.TrimSpace(g) == "" {
			return nil, nil, au.Get("exclude_adobe_groups").Errorf("a group name is empty")
		}
		c.Options.ExcludeAdobeGroups = append(c.Options.ExcludeAdobeGroups, g)
	}
	users, err := au.StringList("exclude_users")
	if err != nil {
		return nil, nil, err
	}
	for _, s := range users {
		re, err := anchoredRegexp(s)
		if err != nil {
			return nil, nil, au.Get("exclude_users").Errorf("%v", err)
		}
		c.Options.ExcludeUsers = append(c.Options.ExcludeUsers, re)
	}
	c.Options.UpdateAttributes = []string{"firstname", "lastname", "email"}
	if ua := au.Get("update_attributes"); !ua.IsNull() {
		list, err := au.StringList("update_attributes")
		if err != nil {
			return nil, nil, err
		}
		c.Options.UpdateAttributes = []string{}
		for _, a := range list {
			switch s := strings.ToLower(strings.TrimSpace(a)); s {
			case "firstname", "lastname", "email", "username":
				c.Options.UpdateAttributes = append(c.Options.UpdateAttributes, s)
			default:
				return nil, nil, ua.Errorf("unknown attribute %q: use firstname, lastname, email or username", a)
			}
		}
	}
	return prim, secs, nil
}

// directoryUsers reads the directory_users section. It returns the
// extension file, if any, and the org:: references it holds.
func (c *Config) directoryUsers(du *Node) (string, []orgRef, error) {
	var refs []orgRef
	t, err := du.IdentityType("user_identity_type")
	if err != nil {
		return "", nil, err
	}
	if t == "" {
		t = core.EnterpriseID
	}
	c.Options.DefaultIdentityType = t
	if c.Options.DefaultCountry, err = du.String("default_country_code", ""); err != nil {
		return "", nil, err
	}
	c.Options.DefaultCountry = strings.TrimSpace(c.Options.DefaultCountry)

	conns, err := du.RequireMap("connectors")
	if err != nil {
		return "", nil, err
	}
	for _, name := range directoryConnectors {
		v := conns.Get(name)
		for _, it := range v.Items() {
			if it.IsNull() {
				continue
			}
			p, err := filePath(it)
			if err != nil {
				return "", nil, err
			}
			c.DirectoryConnectorFiles[name] = append(c.DirectoryConnectorFiles[name], p)
		}
	}

	gm, grefs, err := parseGroupMapping(du.Get("groups"))
	if err != nil {
		return "", nil, err
	}
	c.Options.GroupMapping = append(c.Options.GroupMapping, gm...)
	refs = append(refs, grefs...)

	for _, it := range du.Get("additional_groups").Items() {
		if !it.IsMap() {
			return "", nil, it.Errorf("must be a mapping with source and target")
		}
		src, err := it.RequireString("source")
		if err != nil {
			return "", nil, err
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return "", nil, it.Get("source").Errorf("invalid regular expression %q: %s", src, regexpReason(err))
		}
		target, err := it.RequireString("target")
		if err != nil {
			return "", nil, err
		}
		org, name := core.SplitQualifiedGroup(target)
		if strings.TrimSpace(name) == "" {
			return "", nil, it.Get("target").Errorf("invalid Adobe group name %q", target)
		}
		// A target with \N references is only a template; its length is
		// known once a directory group fills it in.
		if !strings.Contains(name, `\`) {
			if err := checkGroupNameLengths(it.Get("target")); err != nil {
				return "", nil, err
			}
		}
		if org != "" {
			refs = append(refs, orgRef{org: org, group: target, node: it.Get("target")})
		}
		c.Options.AdditionalGroups = append(c.Options.AdditionalGroups, core.AdditionalGroupRule{Source: re, Target: target})
	}

	gso, err := du.Map("group_sync_options")
	if err != nil {
		return "", nil, err
	}
	if gso != nil {
		if c.Options.AutoCreate, err = gso.Bool("auto_create", false); err != nil {
			return "", nil, err
		}
	}

	ext := du.Get("extension")
	if ext.IsNull() {
		return "", refs, nil
	}
	p, err := filePath(ext)
	if err != nil {
		return "", nil, err
	}
	return p, refs, nil
}

// limits reads the limits section.
func (c *Config) limits(root *Node) error {
	l, err := root.RequireMap("limits")
	if err != nil {
		return err
	}
	v := l.Get("max_adobe_only_users")
	if v.IsNull() {
		if e := l.Misspelt("max_adobe_only_users"); e != nil {
			return e
		}
		return &Error{File: l.File, Path: "limits.max_adobe_only_users", Line: l.Line(),
			Msg: "required: the most Adobe-only users a run may act on, as a number (200) or a percentage (\"5%\")"}
	}
	s, err := v.Scalar()
	if err != nil {
		return err
	}
	if c.Options.MaxAdobeOnly, err = ParseLimit(s); err != nil {
		return v.Errorf("%v", err)
	}
	if c.Options.GroupRemovalsOnly, err = l.Bool("group_removals_only", false); err != nil {
		return err
	}
	return c.safetyLimits(l)
}

// ParseLimit parses max_adobe_only_users: a whole number of users or a
// percentage from 0% to 100% (decimals allowed).
func ParseLimit(s string) (core.Limit, error) {
	t := strings.TrimSpace(s)
	if num, ok := strings.CutSuffix(t, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || p != p {
			return core.Limit{}, fmt.Errorf("%q is not a percentage: write a number followed by %%, e.g. 5%%", s)
		}
		if p < 0 || p > 100 {
			return core.Limit{}, fmt.Errorf("%q: a percentage must be between 0%% and 100%%", s)
		}
		return core.Limit{Set: true, Percent: p, IsPercent: true, Text: t}, nil
	}
	n, err := strconv.Atoi(strings.ReplaceAll(t, "_", ""))
	if err != nil {
		return core.Limit{}, fmt.Errorf("%q is neither a whole number of users nor a percentage", s)
	}
	if n < 0 {
		return core.Limit{}, fmt.Errorf("%q: the number of users cannot be negative", s)
	}
	return core.Limit{Set: true, Count: n, Text: t}, nil
}

// loadExtension reads extension-config.yml and compiles its hook.
func (c *Config) loadExtension(path string, compile func(string, int, string) (core.Hook, error)) ([]orgRef, error) {
	n, err := readFile(path, c.encoding)
	if err != nil {
		return nil, err
	}
	c.Warnings = append(c.Warnings, dedupeKeys(n)...)
	if err := n.CheckKeys("after_mapping_hook", "extended_attributes", "extended_adobe_groups"); err != nil {
		return nil, err
	}
	e := &Extension{File: path}
	hook := n.Get("after_mapping_hook")
	if e.Source, err = n.RequireString("after_mapping_hook"); err != nil {
		return nil, err
	}
	e.Line = hook.Line()
	if hook.y.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		e.Line++ // the code starts below the | or > indicator
	}
	if e.ExtendedAttributes, err = n.StringList("extended_attributes"); err != nil {
		return nil, err
	}
	if e.ExtendedAdobeGroups, err = n.StringList("extended_adobe_groups"); err != nil {
		return nil, err
	}
	var refs []orgRef
	groups := n.Get("extended_adobe_groups")
	if err := checkGroupNameLengths(groups); err != nil {
		return nil, err
	}
	for _, g := range e.ExtendedAdobeGroups {
		org, name := core.SplitQualifiedGroup(g)
		if strings.TrimSpace(name) == "" {
			return nil, groups.Errorf("invalid Adobe group name %q", g)
		}
		if org != "" {
			refs = append(refs, orgRef{org: org, group: g, node: groups})
		}
	}
	if compile == nil {
		return nil, hook.Errorf("this program cannot run after_mapping_hook (no hook compiler)")
	}
	h, err := compile(path, e.Line, e.Source)
	if err != nil {
		// A compiler that locates its errors itself ("file:line: msg") is
		// not located a second time.
		var ce *Error
		if errors.As(err, &ce) || strings.Contains(err.Error(), path+":") {
			return nil, err
		}
		return nil, &Error{File: path, Path: "after_mapping_hook", Line: e.Line, Msg: err.Error(), Err: err}
	}
	c.Extension = e
	c.Options.Hook = h
	c.Options.ExtendedAttributes = e.ExtendedAttributes
	c.Options.ExtendedAdobeGroups = e.ExtendedAdobeGroups
	return refs, nil
}

func emptyMap() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"} }
