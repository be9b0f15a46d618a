package s3

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

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
