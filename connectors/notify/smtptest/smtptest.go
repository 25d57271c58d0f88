// Package smtptest is a minimal SMTP server for tests: it speaks enough of
// RFC 5321 for net/smtp (EHLO, STARTTLS with a generated certificate, AUTH
// PLAIN, MAIL, RCPT, DATA, QUIT) and records what it was sent.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data string
	// TLS and User say whether the session had STARTTLS and who
	// authenticated.
	TLS  bool
	User string
}

// Server is a running test SMTP server on 127.0.0.1.
type Server struct {
	Host string
	Port int
	// CAFile is a PEM file with the certificate the server presents.
	CAFile     string
	user, pass string
	ln         net.Listener
	tlsConf    *tls.Config
	mu         sync.Mutex
	msgs       []Message
	noTLS      bool
	wg         sync.WaitGroup
}

// Start starts a server that accepts AUTH PLAIN for user and pass (only
// after STARTTLS) and stops it when the test ends.
func Start(t testing.TB, user, pass string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert, pemBytes := selfSigned(t)
	ca := filepath.Join(t.TempDir(), "smtp-ca.pem")
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().(*net.TCPAddr)
	s := &Server{Host: "127.0.0.1", Port: a.Port, CAFile: ca, user: user, pass: pass, ln: ln,
		tlsConf: &tls.Config{Certificates: []tls.Certificate{cert}}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// DisableStartTLS makes the server stop offering STARTTLS.
func (s *Server) DisableStartTLS() {
	s.mu.Lock()
	s.noTLS = true
	s.mu.Unlock()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
		}()
	}
}

func (s *Server) session(c net.Conn) {
	defer func() { c.Close() }()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(l string) { c.Write([]byte(l + "\r\n")) }
	var m Message
	s.mu.Lock()
	noTLS := s.noTLS
	s.mu.Unlock()
	say("220 smtptest ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ext := []string{"250-smtptest"}
			if !m.TLS && !noTLS {
				ext = append(ext, "250-STARTTLS")
			}
			if m.TLS {
				ext = append(ext, "250-AUTH PLAIN")
			}
			ext = append(ext, "250 8BITMIME")
			for _, e := range ext {
				say(e)
			}
		case "STARTTLS":
			if m.TLS || noTLS {
				say("503 not now")
				continue
			}
			say("220 go ahead")
			tc := tls.Server(c, s.tlsConf)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, r, m.TLS = tc, bufio.NewReader(tc), true
			say = func(l string) { tc.Write([]byte(l + "\r\n")) }
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !m.TLS || !strings.EqualFold(mech, "PLAIN") {
				say("530 STARTTLS first")
				continue
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				say("535 authentication failed")
				continue
			}
			m.User = parts[1]
			say("235 ok")
		case "MAIL":
			m.From = angle(arg)
			say("250 ok")
		case "RCPT":
			m.To = append(m.To, angle(arg))
			say("250 ok")
		case "DATA":
			say("354 end with .")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = data.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 queued")
		case "RSET", "NOOP":
			say("250 ok")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

// selfSigned makes a CA-flagged certificate for 127.0.0.1.
func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, p
}

// angle returns the address between < and > of a MAIL or RCPT argument.
func angle(arg string) string {
	i, j := strings.Index(arg, "<"), strings.Index(arg, ">")
	if i < 0 || j < i {
		return ""
	}
	return arg[i+1 : j]
}
