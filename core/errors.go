package core

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an error so that core and cmd can branch on it
// without knowing a driver's error types.
type ErrorCode int

// The error codes.
const (
	CodeUnknown ErrorCode = iota
	CodeNotFound
	CodeThrottled
	CodeUnavailable
	CodeInvalidInput
	CodePermissionDenied
	CodeUnauthenticated
	CodeInconsistent // a read changed under us or came back truncated
	CodeCanceled
	CodeLocked // another usersync holds the database
	CodeStale  // a plan no longer matches either side
)

var codeNames = map[ErrorCode]string{
	CodeUnknown: "unknown", CodeNotFound: "not found", CodeThrottled: "throttled",
	CodeUnavailable: "unavailable", CodeInvalidInput: "invalid input",
	CodePermissionDenied: "permission denied", CodeUnauthenticated: "unauthenticated",
	CodeInconsistent: "inconsistent", CodeCanceled: "canceled", CodeLocked: "locked",
	CodeStale: "stale",
}

func (c ErrorCode) String() string { return codeNames[c] }

// Error is an error with a code. Op names the operation ("ldap bind",
// "umapi users page 3").
type Error struct {
	Code ErrorCode
	Op   string
	Err  error
}

func (e *Error) Error() string {
	if e.Op == "" {
		return e.Err.Error()
	}
	return e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code c.
func Errorf(c ErrorCode, op, format string, args ...any) error {
	return &Error{Code: c, Op: op, Err: fmt.Errorf(format, args...)}
}

// Code returns the code of the first *Error in err's chain, or CodeUnknown.
func Code(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeUnknown
}
