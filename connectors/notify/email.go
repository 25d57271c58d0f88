package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/usersync/usersync/core/config"
)

// Email sends the run's summary as a plain-text message through cfg's SMTP
// server. The connection is upgraded with STARTTLS before anything else is
// said, and a server that does not offer it is refused, so neither the
// password nor the summary ever crosses the network in clear.
func Email(ctx context.Context, cfg *config.EmailConfig, s Summary, secrets config.Secrets) error {
	if s.Text == "" {
		s.Text = DefaultText(s)
	}
	password := cfg.Password
	if cfg.PasswordKey != "" {
		if secrets == nil {
			return fmt.Errorf("no keyring or secrets store to look up %q", cfg.PasswordKey)
		}
		var err error
		if password, err = secrets.Secret(ctx, cfg.PasswordKey, cfg.Username); err != nil {
			return fmt.Errorf("looking up %q for %q: %v", cfg.PasswordKey, cfg.Username, err)
		}
	}
	subject, err := renderSubject(cfg.Subject, s)
	if err != nil {
		return err
	}
	msg := message(cfg, subject, s)

	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		return fmt.Errorf("%s: %v", addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		return fmt.Errorf("%s does not offer STARTTLS; usersync does not send mail in clear", addr)
	}
	tc := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return err
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: no PEM certificate found", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	if err := c.StartTLS(tc); err != nil {
		return fmt.Errorf("%s: STARTTLS: %v", addr, err)
	}
	if cfg.Username != "" {
		if password == "" {
			return errors.New("username is set but no password (password or secure_password_key)")
		}
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, password, cfg.Host)); err != nil {
			return fmt.Errorf("%s: authentication as %q: %v", addr, cfg.Username, err)
		}
	}
	if err := c.Mail(cfg.From); err != nil {
		return fmt.Errorf("%s: MAIL FROM: %v", addr, err)
	}
	for _, to := range cfg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("%s: RCPT TO %s: %v", addr, to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("%s: DATA: %v", addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: message refused: %v", addr, err)
	}
	return c.Quit()
}

func renderSubject(src string, s Summary) (string, error) {
	t, err := template.New("subject").Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("subject: %v", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, s); err != nil {
		return "", fmt.Errorf("subject: %v", err)
	}
	return strings.Join(strings.Fields(b.String()), " "), nil
}

// message is the RFC 5322 message: headers, then the summary's text and
// its details.
func message(cfg *config.EmailConfig, subject string, s Summary) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", cfg.From)
	h("To", strings.Join(cfg.To, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", time.Now().Format(time.RFC1123Z))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\r\n")
	}
	line("%s", s.Text)
	line("")
	for _, h := range s.GroupHolds {
		line("Withheld by max_group_removals %s: %d of %d members of %q (%s)", h.Setting, h.Removals, h.Members, h.Group, h.Org)
	}
	for _, r := range s.Seats {
		if r.Over {
			line("Licence quota: %q has %d members and a quota of %s; %d adds planned, %d withheld", r.Group, r.Before, r.Quota, r.Adds, r.Held)
		}
	}
	for _, p := range s.Pending {
		line("Grace period: %s, missing since %s, %s due %s", p.Email, p.FirstMissed.Format(time.RFC3339), p.Action, p.Due.Format(time.RFC3339))
	}
	for _, w := range s.Warnings {
		line("Warning: %s", w)
	}
	return b.Bytes()
}
