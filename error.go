package portrait

import (
	"errors"
	"fmt"
)

// Error codes. Each is stable and machine-readable: clients switch on them.
// The http package maps every code to exactly one HTTP status; a code it
// does not know is answered as internal.
const (
	// 400: the request is malformed or fails validation.
	EINVALID            = "invalid_request"
	EVALIDATION         = "validation_failed"
	ENOTMULTIPART       = "not_multipart"
	EMISSINGFILE        = "missing_file"
	EMULTIPLEFILES      = "multiple_files"
	ETOOMANYPARTS       = "too_many_parts"
	EEMPTYFILE          = "empty_file"
	EUNSUPPORTEDIMAGE   = "unsupported_image_type"
	ECORRUPTIMAGE       = "corrupt_image"
	EIMAGETOOLARGE      = "image_too_large"
	EDECODETIMEOUT      = "decode_timeout" // the image took longer than the per-image decode deadline
	EINVALIDCREDENTIALS = "invalid_credentials"
	EINVALIDTOKEN       = "invalid_token"
	EEMAILTAKEN         = "email_taken"
	ENOTFOUND           = "not_found"
	EMETHODNOTALLOWED   = "method_not_allowed"
	EFILETOOLARGE       = "file_too_large"
	EUNSUPPORTEDMEDIA   = "unsupported_media_type"
	ERATELIMITED        = "rate_limited"
	EOVERLOADED         = "overloaded"
	EUNAVAILABLE        = "unavailable"
	EINTERNAL           = "internal"
	ETIMEOUT            = "request_timeout"
	ECANCELED           = "request_canceled" // the client went away before the answer
)

// Error is the one error type of Portrait. Code is one of the E* constants;
// Message is a sentence safe to show to the client. Internal errors are not
// Errors: they are plain Go errors, logged and answered as EINTERNAL.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when positive, tells the client how many seconds to wait
	// before trying again (rate limits, overload).
	RetryAfter int
}

func (e *Error) Error() string { return fmt.Sprintf("portrait: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns "" for a nil error, the code of err if it is or wraps
// an *Error, and EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of err, or a generic
// sentence for internal errors so that their text never reaches a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}
