package ldap

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/usersync/usersync/core/config"
)

// The shared test directory: one slapd per test binary, started by
// TestMain on loopback with a throwaway configuration and data directory,
// seeded with slapadd before it starts (much faster than adding over the
// wire). Tests that need it call needSlapd.
var slapd struct {
	skip string // why LDAP integration tests are skipped, if they are
	slapdInstance
}

// slapdInstance is one running slapd.
type slapdInstance struct {
	dir      string
	ldapURL  string // ldap://127.0.0.1:PORT
	ldapsURL string // ldaps://127.0.0.1:PORT
	caFile   string // PEM of the CA that signed the server certificate
	confFile string
}

const (
	suffix      = "dc=example,dc=org"
	rootDN      = "cn=admin," + suffix
	rootPW      = "admin-secret"
	svcDN       = "uid=svc-sync,ou=service," + suffix
	svcPW       = "sync-secret-42"
	limitedDN   = "uid=svc-limited,ou=service," + suffix
	bigGroupLen = 5000
)

func slapdBinary() string {
	if p := os.Getenv("SLAPD"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/sbin/slapd", "/usr/local/sbin/slapd", "/usr/local/libexec/slapd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("slapd"); err == nil {
		return p
	}
	return ""
}

func moduleDir() string {
	for _, d := range []string{"/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap", "/usr/libexec/openldap"} {
		if _, err := os.Stat(filepath.Join(d, "back_mdb.so")); err == nil {
			return d
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	retryWait = 10 * time.Millisecond
	os.Exit(runWithSlapd(m))
}

// requireSlapd reports whether a missing or broken slapd fails the run
// instead of skipping the LDAP tests: under make test and in CI.
func requireSlapd() bool {
	return os.Getenv("USERSYNC_REQUIRE_SLAPD") != "" || os.Getenv("CI") == "true"
}

func runWithSlapd(m *testing.M) int {
	bin := slapdBinary()
	switch {
	case bin == "":
		slapd.skip = "OpenLDAP slapd is not installed (apt-get install slapd ldap-utils, or run make test, which installs it); LDAP integration tests skipped"
	case moduleDir() == "":
		slapd.skip = "slapd found but its modules (back_mdb.so) are not in a known directory; LDAP integration tests skipped"
	}
	if slapd.skip != "" {
		if requireSlapd() {
			fmt.Fprintln(os.Stderr, "slapd harness:", strings.TrimSuffix(slapd.skip, "; LDAP integration tests skipped")+"; USERSYNC_REQUIRE_SLAPD or CI=true demands it")
			return 1
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "usersync-slapd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "slapd harness:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	inst, stop, err := startSlapd(bin, dir, func(ldapURL string) map[string]string {
		return map[string]string{suffix: directoryLDIF(), referralSuffix: referralLDIF(ldapURL)}
	})
	if err != nil {
		// An installed slapd that cannot run here (an AppArmor profile
		// confining it to /etc/ldap, say) skips the integration tests
		// loudly, unless the run demands them.
		fmt.Fprintln(os.Stderr, "slapd harness: cannot start slapd:", err)
		if requireSlapd() {
			return 1
		}
		slapd.skip = "slapd is installed but could not be started (see the harness message above); LDAP integration tests skipped. Set USERSYNC_REQUIRE_SLAPD=1 to make this a failure"
		return m.Run()
	}
	defer stop()
	slapd.slapdInstance = *inst
	return m.Run()
}

// startSlapd writes certificates, a slapd.conf and the data, and starts
// slapd in the foreground. stop kills it; the process also dies with the
// test binary (Pdeathsig), so a crashed or timed-out test leaves nothing.
func startSlapd(bin, dir string, ldifs func(ldapURL string) map[string]string) (inst *slapdInstance, stop func(), err error) {
	inst = &slapdInstance{dir: dir, caFile: filepath.Join(dir, "ca.pem"), confFile: filepath.Join(dir, "slapd.conf")}
	ldapPort, ldapsPort := freePort(), freePort()
	inst.ldapURL = fmt.Sprintf("ldap://127.0.0.1:%d", ldapPort)
	inst.ldapsURL = fmt.Sprintf("ldaps://127.0.0.1:%d", ldapsPort)
	if err := writeCerts(dir); err != nil {
		return nil, nil, err
	}
	for _, d := range []string{"data", "data2"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "usersync-test.schema"), []byte(testSchema), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(inst.confFile, []byte(slapdConf(dir, moduleDir())), 0o600); err != nil {
		return nil, nil, err
	}
	slapadd := filepath.Join(filepath.Dir(bin), "slapadd")
	if _, err := os.Stat(slapadd); err != nil {
		slapadd = bin // slapd run as slapadd behaves as slapadd
	}
	for base, ldif := range ldifs(inst.ldapURL) {
		ldifFile := filepath.Join(dir, "seed.ldif")
		if err := os.WriteFile(ldifFile, []byte(ldif), 0o600); err != nil {
			return nil, nil, err
		}
		args := []string{"-q", "-f", inst.confFile, "-b", base, "-l", ldifFile}
		if filepath.Base(slapadd) != "slapadd" {
			args = append([]string{"-T", "add"}, args...)
		}
		if out, err := exec.Command(slapadd, args...).CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("slapadd: %v\n%s", err, out)
		}
	}
	var stderr bytes.Buffer
	proc := exec.Command(bin, "-d", "0", "-f", inst.confFile,
		"-h", inst.ldapURL+"/ "+inst.ldapsURL+"/")
	proc.Stderr = &stderr
	proc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := proc.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan struct{})
	go func() { proc.Wait(); close(exited) }()
	stop = func() {
		proc.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ldapPort), time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			return nil, nil, fmt.Errorf("slapd exited: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return nil, nil, fmt.Errorf("slapd did not listen within 15s: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return inst, stop, nil
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testSchema adds Active Directory's department attribute (the
// conformance suite's extended attribute) and an identity-type attribute.
const testSchema = `attributetype ( 1.3.6.1.4.1.32473.1.1 NAME 'department'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.3.6.1.4.1.32473.1.2 NAME 'idType'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.32473.2.1 NAME 'usersyncPerson' AUXILIARY
  MAY ( department $ idType $ c ) )
`

func slapdConf(dir, modules string) string {
	return fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include %[1]s/usersync-test.schema
modulepath %[2]s
moduleload back_mdb
moduleload memberof
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/server.pem
TLSCertificateKeyFile %[1]s/server.key
sizelimit unlimited
access to attrs=userPassword by self read by anonymous auth by * none
access to * by * read

database mdb
maxsize 1073741824
suffix "%[3]s"
rootdn "%[4]s"
rootpw %[5]s
directory %[1]s/data
limits dn.exact="%[6]s" size.soft=50 size.hard=50
index objectClass eq
index cn,uid,mail eq
index member,memberOf eq
overlay memberof

database mdb
maxsize 104857600
suffix "%[7]s"
rootdn "cn=admin,%[7]s"
directory %[1]s/data2
`, dir, modules, suffix, rootDN, rootPW, limitedDN, referralSuffix)
}

// writeCerts makes a CA and a server certificate for 127.0.0.1 and
// localhost, signed by it.
func writeCerts(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "usersync test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	files := map[string]*pem.Block{
		"ca.pem":     {Type: "CERTIFICATE", Bytes: caDER},
		"server.pem": {Type: "CERTIFICATE", Bytes: der},
		"server.key": {Type: "PRIVATE KEY", Bytes: keyDER},
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// ldifWriter builds LDIF, base64-encoding values LDIF cannot hold as is
// (non-ASCII names among them).
type ldifWriter struct{ b strings.Builder }

func (w *ldifWriter) entry(dn string, attrs ...string) {
	w.attr("dn", dn)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.attr(attrs[i], attrs[i+1])
	}
	w.b.WriteByte('\n')
}

func (w *ldifWriter) attr(name, value string) {
	safe := value == "" || (value[0] != ' ' && value[0] != ':' && value[0] != '<' && value[len(value)-1] != ' ')
	for i := 0; safe && i < len(value); i++ {
		safe = value[i] >= 0x20 && value[i] < 0x7f
	}
	if safe {
		fmt.Fprintf(&w.b, "%s: %s\n", name, value)
		return
	}
	fmt.Fprintf(&w.b, "%s:: %s\n", name, base64.StdEncoding.EncodeToString([]byte(value)))
}

func people(uid string) string { return "uid=" + uid + ",ou=people," + suffix }
func group(cn string) string   { return "cn=" + cn + ",ou=groups," + suffix }
func bulkDN(i int) string      { return fmt.Sprintf("uid=bulk%05d,ou=bulk,%s", i, suffix) }

// directoryLDIF is the shared test directory:
//
//	ou=people   ana, bo, zoe (Zoë Ångström), taro (山田 太郎), multi (two
//	            mails, two departments), nomail, badtype, svc-backup (a
//	            service account that all_users_filter leaves out)
//	ou=service  svc-sync (the bind account), svc-limited (size limit 50)
//	ou=bulk     5,000 members of Big
//	ou=groups   Designers (with a dangling member), Engineers ⊃ Contractors
//	            ⊃ Engineers (a cycle), "R&D (EU)*", Unix (a posixGroup),
//	            Big, Dup (a second Dup lives in ou=people), Services (only
//	            a service account)
//
// memberOf is written out as the memberof overlay would maintain it
// (slapadd bypasses overlays).
func directoryLDIF() string {
	var w ldifWriter
	w.entry(suffix, "objectClass", "dcObject", "objectClass", "organization", "dc", "example", "o", "Example")
	for _, ou := range []string{"people", "service", "groups", "bulk"} {
		w.entry("ou="+ou+","+suffix, "objectClass", "organizationalUnit", "ou", ou)
	}
	person := func(uid, given, sn string, extra ...string) {
		a := []string{"objectClass", "inetOrgPerson", "objectClass", "usersyncPerson", "uid", uid,
			"cn", strings.TrimSpace(given + " " + sn), "sn", sn}
		if given != "" {
			a = append(a, "givenName", given)
		}
		w.entry(people(uid), append(a, extra...)...)
	}
	person("ana", "Ana", "Ruiz", "mail", "ana@example.org", "c", "es", "idType", "federated", "department", "Design",
		"memberOf", group("Designers"), "memberOf", group("Unix"))
	person("bo", "Bo", "Chen", "mail", "bo@example.org", "c", "US", "idType", "enterprise",
		"memberOf", group("Designers"), "memberOf", group("Engineers"))
	person("zoe", "Zoë", "Ångström", "mail", "zoe@example.org", "c", "fr",
		"memberOf", group("Designers"), "memberOf", group("R&D (EU)*"))
	person("taro", "太郎", "山田", "mail", "taro@example.org", "c", "jp", "memberOf", group("Contractors"))
	person("multi", "Multi", "Mail", "mail", "multi@example.org", "mail", "multi.second@example.org",
		"department", "Sales", "department", "Support", "memberOf", group("Engineers"))
	person("nomail", "No", "Mail", "memberOf", group("Designers"))
	person("badtype", "Bad", "Type", "mail", "badtype@example.org", "idType", "bogus")
	person("svc-backup", "Backup", "Service", "mail", "svc-backup@example.org", "employeeType", "service",
		"memberOf", group("Designers"))
	w.entry("cn=Dup,ou=people,"+suffix, "objectClass", "groupOfNames", "cn", "Dup", "member", people("ana"))

	w.entry(svcDN, "objectClass", "account", "objectClass", "simpleSecurityObject", "uid", "svc-sync", "userPassword", svcPW)
	w.entry(limitedDN, "objectClass", "account", "objectClass", "simpleSecurityObject", "uid", "svc-limited", "userPassword", svcPW)

	groupOfNames := func(cn string, members ...string) {
		a := []string{"objectClass", "groupOfNames", "cn", cn}
		for _, m := range members {
			a = append(a, "member", m)
		}
		w.entry(group(cn), a...)
	}
	groupOfNames("Designers", people("ana"), people("bo"), people("zoe"), people("nomail"), people("svc-backup"), people("gone"))
	groupOfNames("Engineers", people("bo"), people("multi"), group("Contractors"))
	groupOfNames("Contractors", people("taro"), group("Engineers"))
	groupOfNames("R&D (EU)*", people("zoe"))
	groupOfNames("Dup", people("bo"))
	groupOfNames("Services", people("svc-backup")) // no member passes all_users_filter
	w.entry(group("Unix"), "objectClass", "posixGroup", "cn", "Unix", "gidNumber", "5000", "memberUid", "ana")
	big := []string{"objectClass", "groupOfNames", "cn", "Big"}
	for i := 1; i <= bigGroupLen; i++ {
		big = append(big, "member", bulkDN(i))
	}
	w.entry(group("Big"), big...)
	for i := 1; i <= bigGroupLen; i++ {
		uid := fmt.Sprintf("bulk%05d", i)
		w.entry(bulkDN(i), "objectClass", "inetOrgPerson", "uid", uid, "cn", "Bulk "+uid, "sn", uid,
			"givenName", "Bulk", "mail", uid+"@example.org", "memberOf", group("Big"))
	}
	return w.b.String()
}

// referralSuffix is a second database holding only referrals, so that
// searches of the main one meet none:
//
//	ou=zones   an OU with a reference to Active Directory's DomainDnsZones
//	ou=follow  an OU with a reference to ou=people of the main database
//	ou=broken  an OU with a reference to a server that does not exist
const referralSuffix = "o=referrals"

func referralLDIF(ldapURL string) string {
	var w ldifWriter
	w.entry(referralSuffix, "objectClass", "organization", "o", "referrals")
	ref := func(parent, ou, url string) {
		w.entry("ou="+parent+","+referralSuffix, "objectClass", "organizationalUnit", "ou", parent)
		w.entry("ou="+ou+",ou="+parent+","+referralSuffix, "objectClass", "referral", "objectClass", "extensibleObject",
			"ou", ou, "ref", url)
	}
	ref("zones", "dns", "ldap://dc.example.invalid/DC=DomainDnsZones,DC=example,DC=com")
	ref("follow", "remote", ldapURL+"/ou=people,"+suffix)
	ref("broken", "gone", "ldap://ldap.elsewhere.invalid/ou=gone,"+suffix)
	return w.b.String()
}

// needSlapd skips t when the shared slapd is not running.
func needSlapd(t testing.TB) {
	t.Helper()
	if slapd.skip != "" {
		t.Skip(slapd.skip)
	}
}

// testConfig is a connector-ldap.yml for the shared slapd; extra lines
// are appended (later keys of the same name are not allowed by YAML, so
// callers leave out what they override through vars).
func testConfig(t testing.TB, yml string) Config {
	t.Helper()
	r := strings.NewReplacer("$LDAPS", slapd.ldapsURL, "$LDAP", slapd.ldapURL, "$CA", slapd.caFile,
		"$SVCPW", svcPW, "$SVC", svcDN, "$SUFFIX", suffix)
	n, err := config.Parse(filepath.Join(t.TempDir(), "connector-ldap.yml"), []byte(r.Replace(yml)), "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseConfig(context.Background(), n, nil)
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	return c
}

// openLDAPConfig is the usual configuration for the test directory.
const openLDAPConfig = `host: $LDAP
base_dn: $SUFFIX
username: $SVC
password: $SVCPW
all_users_filter: (&(objectClass=inetOrgPerson)(!(employeeType=service)))
`
