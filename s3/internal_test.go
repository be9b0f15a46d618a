package s3

import (
	"bytes"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

func TestReadAllCap(t *testing.T) {
	if _, err := readAll(bytes.NewReader(nil), 11, 10); err == nil {
		t.Error("readAll accepted an announced length above the cap")
	}
	if _, err := readAll(bytes.NewReader(make([]byte, 11)), -1, 10); err == nil {
		t.Error("readAll accepted a body above the cap")
	}
	if data, err := readAll(bytes.NewReader([]byte("abc")), 3, 10); err != nil || string(data) != "abc" {
		t.Errorf("readAll = %q, %v", data, err)
	}
}

func TestIsNotFound(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("NoSuchKey"), false},
		{&types.NoSuchKey{}, true},
		{&types.NotFound{}, true},
		{&smithy.GenericAPIError{Code: "NoSuchKey"}, true},
		{&smithy.GenericAPIError{Code: "NoSuchBucket"}, false},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, false},
	} {
		if got := isNotFound(tt.err); got != tt.want {
			t.Errorf("isNotFound(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestQuoteETag(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "abc": `"abc"`, `"abc"`: `"abc"`, `W/"abc"`: `W/"abc"`,
	} {
		if got := quoteETag(in); got != want {
			t.Errorf("quoteETag(%q) = %q, want %q", in, got, want)
		}
	}
}
