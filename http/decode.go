package http

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/portraitsvc/portrait"
)

// maxJSONBytes bounds every JSON request body.
const maxJSONBytes = 64 << 10

// decodeJSON strictly decodes a JSON request body into v: the content type
// must be JSON, the body at most maxJSONBytes, unknown fields are refused
// and exactly one value is allowed.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return portrait.Errorf(portrait.EUNSUPPORTEDMEDIA, "The request body must be application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return portrait.Errorf(portrait.EINVALID, "The request body must contain a single JSON object.")
	}
	return nil
}

func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return portrait.Errorf(portrait.EFILETOOLARGE, "The request body must not be larger than %d bytes.", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return portrait.Errorf(portrait.EINVALID, "The request body must not be empty.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return portrait.Errorf(portrait.EINVALID, "The request body is not valid JSON.")
	case errors.As(err, &typ):
		return portrait.Errorf(portrait.EINVALID, "The field %q has the wrong type.", typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields.
		return portrait.Errorf(portrait.EINVALID, "The request body has an unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return portrait.Errorf(portrait.EINVALID, "The request body could not be read.")
	}
}
