// Package notify tells people about a sync run: a webhook POST carrying the
// run's summary (as JSON, shaped for Slack or Teams incoming webhooks, or
// through a text/template of the operator's) and an email through SMTP
// with STARTTLS.
//
// Notifying is best effort by contract: Send returns the errors of the
// channels that failed so that the caller can log them, and the caller
// never lets them change a run's outcome or exit code.
package notify
