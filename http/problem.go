package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/portraitsvc/portrait"
)

// statuses maps every error code to its one HTTP status. A code missing
// here is answered as 500.
var statuses = map[string]int{
	portrait.EINVALID:            http.StatusBadRequest,
	portrait.EVALIDATION:         http.StatusBadRequest,
	portrait.ENOTMULTIPART:       http.StatusBadRequest,
	portrait.EMISSINGFILE:        http.StatusBadRequest,
	portrait.EMULTIPLEFILES:      http.StatusBadRequest,
	portrait.ETOOMANYPARTS:       http.StatusBadRequest,
	portrait.EPARTHEADERTOOLARGE: http.StatusBadRequest,
	portrait.EEMPTYFILE:          http.StatusBadRequest,
	portrait.EUNSUPPORTEDIMAGE:   http.StatusBadRequest,
	portrait.ECORRUPTIMAGE:       http.StatusBadRequest,
	portrait.EIMAGETOOLARGE:      http.StatusBadRequest,
	portrait.EDECODETIMEOUT:      http.StatusBadRequest,
	portrait.EINVALIDCROP:        http.StatusBadRequest,
	portrait.EINVALIDCREDENTIALS: http.StatusUnauthorized,
	portrait.EINVALIDTOKEN:       http.StatusUnauthorized,
	portrait.ENOTFOUND:           http.StatusNotFound,
	portrait.EMETHODNOTALLOWED:   http.StatusMethodNotAllowed,
	portrait.ETIMEOUT:            http.StatusRequestTimeout,
	portrait.ECANCELED:           statusClientClosedRequest,
	portrait.EEMAILTAKEN:         http.StatusConflict,
	portrait.EFILETOOLARGE:       http.StatusRequestEntityTooLarge,
	portrait.EUNSUPPORTEDMEDIA:   http.StatusUnsupportedMediaType,
	portrait.ERATELIMITED:        http.StatusTooManyRequests,
	portrait.EINTERNAL:           http.StatusInternalServerError,
	portrait.EOVERLOADED:         http.StatusServiceUnavailable,
	portrait.EUNAVAILABLE:        http.StatusServiceUnavailable,
	portrait.EUPLOADEXPIRED:      http.StatusServiceUnavailable,

	portrait.ELOCALACCOUNTSOFF:      http.StatusForbidden,
	portrait.EIDENTITYNOTLINKED:     http.StatusForbidden,
	portrait.EIDENTITYEMAILCONFLICT: http.StatusForbidden,
	portrait.EMANAGEDBYPROVIDER:     http.StatusForbidden,
}

// statusClientClosedRequest is nginx's status for a request whose client
// closed the connection before the answer: no client sees it, but logs
// and metrics tell it apart from the server's own failures.
const statusClientClosedRequest = 499

// problem is an RFC 9457 problem document with Portrait's stable code.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Code      string       `json:"code"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []fieldError `json:"errors,omitempty"`
	// Checks is the readiness report of a failed /readyz.
	Checks map[string]checkResult `json:"checks,omitempty"`
}

// fieldError names one invalid field of a request body.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// validationError is a portrait.EVALIDATION error that lists its fields.
type validationError struct {
	err    *portrait.Error
	Fields []fieldError
}

func (v *validationError) Error() string { return v.err.Error() }
func (v *validationError) Unwrap() error { return v.err }

// writeError answers err as a problem document. Internal errors are logged
// with the request id and shown to the client only as "internal".
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		err = portrait.Errorf(portrait.ECANCELED, "The client closed the request.")
	}
	code := portrait.ErrorCode(err)
	status, ok := statuses[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.code = code
	}
	id := requestID(r.Context())
	switch {
	case status == http.StatusInternalServerError:
		log.Error("request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	case status >= 500:
		log.Warn("request refused", "request_id", id, "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	p := newProblem(status, code, id, err)
	var pe *portrait.Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(pe.RetryAfter))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portrait"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

// newProblem returns the problem document of err, with its fields or
// checks if it lists any.
func newProblem(status int, code, requestID string, err error) problem {
	p := problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code,
		Detail: portrait.ErrorMessage(err), RequestID: requestID}
	var ve *validationError
	if errors.As(err, &ve) {
		p.Errors = ve.Fields
	}
	var re *readinessError
	if errors.As(err, &re) {
		p.Checks = re.Checks
	}
	return p
}

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// envelope is the contract's response shape: {"data": …}.
type envelope struct {
	Data any `json:"data"`
}
