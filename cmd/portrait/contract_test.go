package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	vconfig "github.com/pb33f/libopenapi-validator/config"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/paths"
	"github.com/pb33f/libopenapi-validator/responses"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// openAPIPath is the document the server embeds and serves at
// /openapi.json (TestServedOpenAPIIsTheFile checks they are one).
const openAPIPath = "../../http/openapi.json"

// contract validates answers against the OpenAPI document with
// libopenapi-validator: status, headers and body. It is built once per test
// binary, from openAPIPath or, in the test that proves it can fail, from a
// document of the test's own.
//
// libopenapi-validator rather than kin-openapi: both validate 3.1 schemas
// (type arrays, const, prefixItems, unevaluatedProperties…) with the same
// JSON Schema 2020-12 engine, but kin-openapi's response validation skips
// HEAD and 304 answers (their required ETag went unchecked), refuses bodies
// it has no decoder for (a 206 of image/webp or multipart/byteranges), and
// takes decoders from a global registry; libopenapi models 3.1 natively and
// checks the document itself against the 3.1 schema (ValidateDocument).
type contract struct {
	v     validator.Validator
	model *v3.Document
}

var theContract struct {
	once sync.Once
	c    *contract
	err  error
}

// served returns the contract of the served document.
func servedContract() (*contract, error) {
	theContract.once.Do(func() {
		spec, err := os.ReadFile(openAPIPath)
		if err != nil {
			theContract.err = err
			return
		}
		theContract.c, theContract.err = newContract(spec)
	})
	return theContract.c, theContract.err
}

// newContract compiles an OpenAPI 3.1 document. Formats (email, uri,
// uuid) are asserted, not only annotations.
func newContract(spec []byte) (*contract, error) {
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	v, errs := validator.NewValidator(doc, vconfig.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi.json: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %s", describe(verrs))
	}
	model, merr := doc.BuildV3Model()
	if merr != nil {
		return nil, merr
	}
	return &contract{v: v, model: &model.Model}, nil
}

// check returns nil if r, the answer to req, is one the document allows.
// Answers of paths or methods the document has no operation for must be
// the problems any path may answer (components.responses NotFound and
// MethodNotAllowed), or a CORS preflight's 204.
func (c *contract) check(req *http.Request, r reply) error {
	if req.URL.Path == "/metrics" && r.status == http.StatusOK {
		return nil // the Prometheus listener (--metrics-addr), apart from the API
	}
	resp := &http.Response{StatusCode: r.status, Header: r.header, Request: req,
		Body: io.NopCloser(bytes.NewReader(r.body))}
	if req.Method == http.MethodHead {
		return c.checkHead(req, r)
	}
	ok, errs := c.v.ValidateHttpResponse(req, resp)
	if ok {
		return nil
	}
	if !noOperation(errs) {
		return fmt.Errorf("%s %s answered %s, which openapi.json does not allow: %s", req.Method, req.URL.Path, r, describe(errs))
	}
	return c.checkAnyPath(req, r)
}

// checkHead checks the answer to a HEAD as the GET's without its body:
// the status must be documented and the headers match.
func (c *contract) checkHead(req *http.Request, r reply) error {
	item, errs, path := paths.FindPath(req, c.model, vconfig.NewValidationOptions())
	if item == nil || item.Get == nil {
		if len(errs) == 0 || noOperation(errs) {
			return c.checkAnyPath(req, r)
		}
		return fmt.Errorf("HEAD %s: %s", req.URL.Path, describe(errs))
	}
	status := strconv.Itoa(r.status)
	want := item.Get.Responses.Codes.GetOrZero(status)
	if want == nil {
		return fmt.Errorf("HEAD %s answered %d, a status that GET %s does not document", req.URL.Path, r.status, path)
	}
	resp := &http.Response{StatusCode: r.status, Header: r.header, Request: req, Body: http.NoBody}
	if ok, errs := responses.ValidateResponseHeaders(req, resp, want.Headers, path, status, vconfig.WithFormatAssertions()); !ok {
		return fmt.Errorf("HEAD %s answered %d with headers that openapi.json does not allow: %s", req.URL.Path, r.status, describe(errs))
	}
	if len(r.body) > 0 {
		return fmt.Errorf("HEAD %s answered a body", req.URL.Path)
	}
	return nil
}

// checkAnyPath checks an answer to a request that no operation describes.
func (c *contract) checkAnyPath(req *http.Request, r reply) error {
	if req.Method == http.MethodOptions && r.status == http.StatusNoContent && r.header.Get("Access-Control-Allow-Origin") != "" {
		return nil
	}
	name := map[int]string{http.StatusNotFound: "NotFound", http.StatusMethodNotAllowed: "MethodNotAllowed"}[r.status]
	if name == "" {
		return fmt.Errorf("%s %s answered %s: no operation of openapi.json has this method and path, and only 404 and 405 may answer those", req.Method, req.URL.Path, r)
	}
	want := c.model.Components.Responses.GetOrZero(name)
	resp := &http.Response{StatusCode: r.status, Header: r.header, Request: req, Body: http.NoBody}
	if ok, errs := responses.ValidateResponseHeaders(req, resp, want.Headers, req.URL.Path, strconv.Itoa(r.status)); !ok {
		return fmt.Errorf("%s %s answered %d with headers that components.responses.%s does not allow: %s", req.Method, req.URL.Path, r.status, name, describe(errs))
	}
	media := want.Content.GetOrZero("application/problem+json")
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("%s %s answered %d as %q, want application/problem+json", req.Method, req.URL.Path, r.status, ct)
	}
	if req.Method == http.MethodHead {
		return nil
	}
	if ok, errs := schema_validation.NewSchemaValidator(vconfig.WithFormatAssertions()).ValidateSchemaBytes(media.Schema.Schema(), r.body); !ok {
		return fmt.Errorf("%s %s answered %s, which components.responses.%s does not allow: %s", req.Method, req.URL.Path, r, name, describe(errs))
	}
	return nil
}

// noOperation reports whether errs say that the document has no operation
// for the request's path or method.
func noOperation(errs []*liberrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationSubType == helpers.ValidationMissingOperation ||
			(e.ValidationType == helpers.PathValidation && e.ValidationSubType == helpers.ValidationMissing) {
			return true
		}
	}
	return false
}

// describe joins validation errors into one line each.
func describe(errs []*liberrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s", e.Message)
		if e.Reason != "" && e.Reason != e.Message {
			fmt.Fprintf(&b, ": %s", e.Reason)
		}
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s (%s)", s.Reason, s.FieldPath, s.KeywordLocation)
		}
	}
	return b.String()
}

// checkAnswer fails t if r, the answer to req, breaks the served
// document's contract. It is called by the request helpers (send, and so
// do and everything built on them), so every end-to-end test checks every
// answer it gets.
func checkAnswer(t testing.TB, req *http.Request, r reply) {
	t.Helper()
	c, err := servedContract()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.check(req, r); err != nil {
		t.Error(err)
	}
}

// violations collects the contract violations of the helpers that have no
// test to fail (tryDo, used from any goroutine); TestMain fails the run if
// there are any.
var violations struct {
	mu   sync.Mutex
	errs []string
}

// recordAnswer checks r like checkAnswer, for callers without a test.
func recordAnswer(req *http.Request, r reply) {
	c, err := servedContract()
	if err == nil {
		err = c.check(req, r)
	}
	if err != nil {
		violations.mu.Lock()
		violations.errs = append(violations.errs, err.Error())
		violations.mu.Unlock()
	}
}

// reportViolations prints what recordAnswer collected and returns whether
// there was anything.
func reportViolations(w io.Writer) bool {
	violations.mu.Lock()
	defer violations.mu.Unlock()
	for _, e := range violations.errs {
		fmt.Fprintln(w, "contract violation:", e)
	}
	return len(violations.errs) > 0
}

// TestServedOpenAPIIsTheFile checks that the document the contract is
// checked against is the one the server serves.
func TestServedOpenAPIIsTheFile(t *testing.T) {
	s := startServer(t, nil)
	r := do(t, "GET", s.base+"/openapi.json", "", "", nil)
	file, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != http.StatusOK || !bytes.Equal(r.body, file) {
		t.Fatalf("GET /openapi.json answered %d and %d bytes, not the %d of %s", r.status, len(r.body), len(file), openAPIPath)
	}
}

// TestContractCatchesMismatches breaks the document in several ways and
// checks that real answers of the server are then refused: the helpers'
// validation can fail, on the body, a header, the status and the path.
func TestContractCatchesMismatches(t *testing.T) {
	spec, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, nil)
	a := s.newAccount(t)
	me := func(token string) (*http.Request, reply) {
		req, _ := http.NewRequest("GET", s.base+"/users/me", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return req, send(t, req)
	}
	type object = map[string]any
	at := func(doc object, path ...string) object {
		for _, p := range path {
			doc = doc[p].(object)
		}
		return doc
	}
	user := func(doc object) object { return at(doc, "components", "schemas", "Profile", "properties") } // of GET /users/me
	img := s.uploadFile(t, a.token, photo(t, 64, 64)).data(t)["profile_image"].(string)
	head := func(string) (*http.Request, reply) {
		req, _ := http.NewRequest("HEAD", img, nil)
		return req, send(t, req)
	}
	cases := []struct {
		name    string
		spoil   func(doc object)
		token   string
		want    string
		request func(token string) (*http.Request, reply)
	}{
		{"a body member of the wrong type", func(doc object) { user(doc)["profile_image"] = object{"type": "integer"} }, a.token, "profile_image", nil},
		{"a body member too many", func(doc object) { delete(user(doc), "phone_number") }, a.token, "phone_number", nil},
		{"a header's value", func(doc object) {
			at(doc, "components", "headers", "WWW-Authenticate", "schema")["pattern"] = "^Basic"
		}, "", "www-authenticate", nil},
		{"a missing header", func(doc object) {
			at(doc, "components", "responses", "TokenRejected", "headers")["X-Not-Sent"] = object{"required": true, "schema": object{"type": "string"}}
		}, "", "X-Not-Sent", nil},
		{"an undocumented status", func(doc object) { delete(at(doc, "paths", "/users/me", "get", "responses"), "401") }, "", "401", nil},
		{"an undocumented path", func(doc object) {
			paths := at(doc, "paths")
			paths["/users/self"] = paths["/users/me"]
			delete(paths, "/users/me")
		}, a.token, "no operation", nil},
		{"HEAD: a header's value", func(doc object) {
			at(doc, "components", "headers", "ETag", "schema")["pattern"] = "^W/"
		}, "", "etag", head},
		{"HEAD: an undocumented status", func(doc object) {
			delete(at(doc, "paths", "/profileImages/{userId}/{setId}/{file}", "get", "responses"), "200")
		}, "", "200", head},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var doc object
			if err := json.Unmarshal(spec, &doc); err != nil {
				t.Fatal(err)
			}
			c.spoil(doc)
			b, _ := json.Marshal(doc)
			broken, err := newContract(b)
			if err != nil {
				t.Fatal(err)
			}
			request := me
			if c.request != nil {
				request = c.request
			}
			req, r := request(c.token)
			err = broken.check(req, r)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("the broken document accepted %s (error %v, want one naming %q)", r, err, c.want)
			}
		})
	}
}
