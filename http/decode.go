package http

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/portraitsvc/portrait"
)

// maxJSONBytes bounds every JSON request body.
const maxJSONBytes = 64 << 10

// decodeJSON strictly decodes a JSON request body into v: the content type
// must be JSON, the body at most maxJSONBytes and exactly one value, valid
// UTF-8. Member names must match v's field names exactly (no case folding)
// and appear once: unknown, differently cased and duplicate names are
// refused, so that no two readers of the body can see different values.
// It uses the JSON v2 semantics of github.com/go-json-experiment/json.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return portrait.Errorf(portrait.EUNSUPPORTEDMEDIA, "The request body must be application/json.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	if err != nil {
		return bodyError(err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return portrait.Errorf(portrait.EINVALID, "The request body must not be empty.")
	}
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError turns a decoding error into the client's error, naming the
// member at fault where there is one.
func jsonError(err error) error {
	var syntax *jsontext.SyntacticError
	var semantic *json.SemanticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &syntax):
		return portrait.Errorf(portrait.EINVALID, "The request body has the member %q more than once.", syntax.JSONPointer.LastToken())
	case errors.Is(err, json.ErrUnknownName) && errors.As(err, &semantic):
		return portrait.Errorf(portrait.EINVALID, "The request body has an unknown member %q (names are case-sensitive).", semantic.JSONPointer.LastToken())
	case errors.As(err, &semantic) && semantic.JSONPointer != "":
		return portrait.Errorf(portrait.EINVALID, "The member %q has the wrong type.", semantic.JSONPointer.LastToken())
	case errors.As(err, &semantic):
		return portrait.Errorf(portrait.EINVALID, "The request body must be a JSON object.")
	default:
		return portrait.Errorf(portrait.EINVALID, "The request body is not valid JSON.")
	}
}
