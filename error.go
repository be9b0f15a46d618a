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
	EPARTHEADERTOOLARGE = "part_header_too_large"
	EEMPTYFILE          = "empty_file"
	EUNSUPPORTEDIMAGE   = "unsupported_image_type"
	ECORRUPTIMAGE       = "corrupt_image"
	EIMAGETOOLARGE      = "image_too_large"
	EDECODETIMEOUT      = "decode_timeout" // the image took longer than the per-image decode deadline
	EINVALIDCROP        = "invalid_crop"   // the crop rectangle is partial, empty or outside the picture
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
	// EUPLOADEXPIRED: the upload took so long between writing its image
	// and committing it that a sweep released it; nothing changed.
	EUPLOADEXPIRED = "upload_expired"
	EINTERNAL      = "internal"
	ETIMEOUT       = "request_timeout"
	ECANCELED      = "request_canceled" // the client went away before the answer
)

// Error codes of identity providers' users (see identity.go).
const (
	// 403: the token is valid, but what it asks is not allowed here.
	ELOCALACCOUNTSOFF  = "local_accounts_disabled" // PORTRAIT_LOCAL_ACCOUNTS=false
	EIDENTITYNOTLINKED = "identity_not_linked"     // provisioning off, and no operator link yet
	// EIDENTITYEMAILCONFLICT: a provider identity's email is a local
	// account's; an operator decides (portrait link) instead of a merge.
	EIDENTITYEMAILCONFLICT = "identity_email_conflict"
	// EMANAGEDBYPROVIDER: logout or a password change with a provider's
	// token, which only that provider can revoke.
	EMANAGEDBYPROVIDER = "managed_by_provider"
	// EIDENTITYLINKED (409): the identity is linked to another user.
	EIDENTITYLINKED = "identity_linked"
)

// Error is the one error type of Portrait. Code is one of the E* constants;
// Message is a sentence safe to show to the client. Internal errors are not
// Errors: they are plain Go errors, logged and answered as EINTERNAL.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when positive, tells the client how many seconds to wait
	// before trying again (rate limits, overload, a dependency down).
	RetryAfter int
	// Err is the cause, if any: logged, never shown to the client.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("portrait: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("portrait: %s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// UploadExpired returns the EUPLOADEXPIRED error of a commit that found
// its upload released by a sweep.
func UploadExpired() error {
	return &Error{Code: EUPLOADEXPIRED, RetryAfter: 1,
		Message: "The upload took too long to be saved, so it was cancelled and the previous image kept. Please try again."}
}

// UnavailableRetryAfter is the Retry-After, in seconds, of EUNAVAILABLE.
const UnavailableRetryAfter = 5

// Unavailable returns the EUNAVAILABLE error of a dependency ("database",
// "storage") that failed with cause: not the client's fault, and not a bug
// of ours, so the client is told to retry. The cause is kept for the log.
// A cause that already is an EUNAVAILABLE error is returned as it is.
func Unavailable(dependency string, cause error) error {
	var e *Error
	if errors.As(cause, &e) && e.Code == EUNAVAILABLE {
		return cause
	}
	return &Error{Code: EUNAVAILABLE, RetryAfter: UnavailableRetryAfter, Err: cause,
		Message: fmt.Sprintf("The %s is not available right now. Please try again shortly.", dependency)}
}

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
