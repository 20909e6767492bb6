// Package errs is the project's one error type for failures a client may be
// told about. A domain package returns an *Error with a Code and a message that
// is safe to show; everything else is internal and is logged, never shown.
package errs

import (
	"fmt"
	"time"
)

// Code classifies an error; the HTTP layer alone maps it to a status.
type Code string

const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	TooMany      Code = "too_many"
	TooLarge     Code = "too_large"   // a body or file over its limit
	Unsupported  Code = "unsupported" // content of a kind the server does not take
	Unavailable  Code = "unavailable"
	// InsufficientStorage: the server's disk is full, so nothing was
	// stored; the administrator must free space (507).
	InsufficientStorage Code = "insufficient_storage"
	// NotImplemented: a capability this configuration does not offer
	// (speech on the server in browser voice mode).
	NotImplemented Code = "not_implemented"
	Internal       Code = "internal"
)

// FieldError names one input field and what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// Error is a failure with a code and a message that is safe to show a client.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// RetryAfter, when set on a TooMany or Unavailable error, tells the
	// client when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// New returns an error with a code and a client-safe message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// InvalidFields returns an Invalid error carrying every field error at once.
func InvalidFields(fields ...FieldError) *Error {
	msg := "validation failed"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Code: Invalid, Message: msg, Fields: fields}
}

// TooManyRetry returns a TooMany error that tells the client when to retry.
func TooManyRetry(msg string, after time.Duration) *Error {
	return &Error{Code: TooMany, Message: msg, RetryAfter: after}
}

// TooLargeLimit is the TooLarge error for what is bigger than a limit of
// limit bytes: "the file is larger than the 50 MB limit".
func TooLargeLimit(what string, limit int64) *Error {
	return New(TooLarge, "the "+what+" is larger than the "+sizeText(limit)+" limit")
}

// sizeText is a byte count as people say it: whole units when exact.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
