package http

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/portraitsvc/portrait"
)

// openAPIDoc is the part of openapi.json these tests read.
type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]openAPIResponse `json:"responses"`
		Schemas   struct {
			Problem struct {
				Properties struct {
					Code struct {
						Enum []string `json:"enum"`
					} `json:"code"`
				} `json:"properties"`
			} `json:"Problem"`
		} `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	Security    *[]any                     `json:"security"`
	RequestBody json.RawMessage            `json:"requestBody"`
	Responses   map[string]openAPIResponse `json:"responses"`
}

// openAPIResponse is a response, or a $ref to one of the components.
type openAPIResponse struct {
	Ref     string `json:"$ref"`
	Content map[string]struct {
		Schema struct {
			AllOf []struct {
				Properties struct {
					Status struct {
						Const int `json:"const"`
					} `json:"status"`
					Code struct {
						Enum []string `json:"enum"`
					} `json:"code"`
				} `json:"properties"`
			} `json:"allOf"`
		} `json:"schema"`
	} `json:"content"`
}

func loadOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &doc
}

// operations returns the document's operations by "METHOD /path".
func (d *openAPIDoc) operations(t *testing.T) map[string]openAPIOperation {
	t.Helper()
	ops := map[string]openAPIOperation{}
	for path, item := range d.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

// resolve returns r, or the component it refers to.
func (d *openAPIDoc) resolve(r openAPIResponse) openAPIResponse {
	if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
		return d.Components.Responses[name]
	}
	return r
}

// codes returns the problem codes r lists, and the status it pins.
func (r openAPIResponse) codes() (codes []string, status int) {
	for _, part := range r.Content["application/problem+json"].Schema.AllOf {
		codes = append(codes, part.Properties.Code.Enum...)
		status = max(status, part.Properties.Status.Const)
	}
	return codes, status
}

// patternRecorder records the patterns addRoutes registers.
type patternRecorder []string

func (p *patternRecorder) Handle(pattern string, _ http.Handler) { *p = append(*p, pattern) }

// TestOpenAPIDocumentsEveryRoute checks that every route with a method is
// an operation of the document and every operation a route: a route added
// without its documentation fails here.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var rec patternRecorder
	addRoutes(&rec, Config{}, "")
	routed := map[string]bool{}
	wildcard := regexp.MustCompile(`\{[^}]*\}`)
	for _, p := range rec {
		if method, path, ok := strings.Cut(p, " "); ok {
			path = strings.TrimSuffix(path, "{$}") // "/{$}" is exactly "/"
			routed[method+" "+wildcard.ReplaceAllString(path, "{}")] = true
		}
	}
	documented := map[string]bool{}
	for op := range loadOpenAPI(t).operations(t) {
		// /profileImages/{key...} serves the keys
		// profileImages/<user id>/<set id>/<file>, documented as such.
		op = strings.Replace(wildcard.ReplaceAllString(op, "{}"), "/{}/{}/{}", "/{}", 1)
		documented[op] = true
	}
	for r := range routed {
		if !documented[r] {
			t.Errorf("route %q is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("openapi.json documents %q, which no route serves", d)
		}
	}
}

// TestOpenAPIDocumentsEveryCode checks that the problem codes of the
// document are exactly those of the code (499's request_canceled is never
// seen by a client), and that each is documented with its status.
func TestOpenAPIDocumentsEveryCode(t *testing.T) {
	doc := loadOpenAPI(t)
	var want []string
	for code, status := range statuses {
		if status != statusClientClosedRequest {
			want = append(want, code)
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(doc.Components.Schemas.Problem.Properties.Code.Enum))
	if !slices.Equal(got, want) {
		t.Errorf("Problem.code enum is\n%v, want the codes of http/problem.go:\n%v", got, want)
	}
	documented := map[string]bool{}
	for name, r := range doc.Components.Responses {
		codes, status := r.codes()
		for _, c := range codes {
			if statuses[c] != status {
				t.Errorf("response %s lists %s with status %d; the code answers it %d", name, c, status, statuses[c])
			}
			documented[c] = true
		}
	}
	for _, c := range want {
		if !documented[c] {
			t.Errorf("no response of openapi.json documents %s (%d)", c, statuses[c])
		}
	}
}

// TestOpenAPIDocumentsEveryStatus checks the statuses that whole classes
// of operations can answer: 500 for all (a panic is recovered as one), 401
// and 503 for those behind a token (the token's user is read from the
// database), 400, 408, 413 and 415 for those reading a JSON body, and that
// every status listed is one the response's codes pin.
func TestOpenAPIDocumentsEveryStatus(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, op := range doc.operations(t) {
		want := []string{"500"}
		if op.Security == nil {
			want = append(want, "401", "503")
		}
		if strings.Contains(string(op.RequestBody), `"application/json"`) {
			want = append(want, "400", "408", "413", "415")
		}
		for _, status := range want {
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s does not document %s", name, status)
			}
		}
		for status, r := range op.Responses {
			if codes, pinned := doc.resolve(r).codes(); len(codes) > 0 && strconv.Itoa(pinned) != status {
				t.Errorf("%s documents as %s a problem whose status is %d", name, status, pinned)
			}
		}
	}
	for _, code := range []string{portrait.ENOTFOUND, portrait.EMETHODNOTALLOWED} {
		found := false
		for _, r := range doc.Components.Responses {
			codes, _ := r.codes()
			found = found || slices.Contains(codes, code)
		}
		if !found {
			t.Errorf("components.responses has no response for %s, which any path can answer", code)
		}
	}
}
