package s3_test

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/buckettest"
	"github.com/portraitsvc/portrait/s3"
	"github.com/portraitsvc/portrait/s3/s3test"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

func TestBucket(t *testing.T) {
	buckettest.Run(t, func(t *testing.T) portrait.Bucket {
		b, err := s3.OpenConfig(t.Context(), s3test.Config(t))
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// TestObjectMetadata checks what Put stores besides the bytes.
func TestObjectMetadata(t *testing.T) {
	c := s3test.Config(t)
	b, err := s3.OpenConfig(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	key := "profileImages/u1/a.webp"
	buckettest.MustPut(t, b, key, []byte("RIFF....WEBP"), "image/webp")
	client, err := s3.NewClient(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	head, err := client.HeadObject(t.Context(), &awss3.HeadObjectInput{Bucket: &c.Bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(head.CacheControl); got != s3.CacheControl {
		t.Errorf("Cache-Control = %q, want %q", got, s3.CacheControl)
	}
	if got := aws.ToString(head.ContentType); got != "image/webp" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := aws.ToInt64(head.ContentLength); got != 12 {
		t.Errorf("Content-Length = %d", got)
	}
}

// TestOpenURL checks that Open finds the credentials in the environment,
// as a `portrait serve` process given Env would.
func TestOpenURL(t *testing.T) {
	url := s3test.URL(t)
	for _, kv := range s3test.Env(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	b, err := s3.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	buckettest.MustPut(t, b, "profileImages/u1/a.png", []byte("png"), "image/png")
	if got, _ := buckettest.MustRead(t, b, "profileImages/u1/a.png"); string(got) != "png" {
		t.Errorf("read %q", got)
	}
}

// TestMissingBucket checks that a missing bucket, a configuration error, is
// not taken for a missing image.
func TestMissingBucket(t *testing.T) {
	c := s3test.Config(t)
	c.Bucket += "-missing"
	b, err := s3.OpenConfig(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = b.Open(t.Context(), "profileImages/u1/a.jpg")
	if err == nil || portrait.ErrorCode(err) == portrait.ENOTFOUND {
		t.Errorf("Open in a missing bucket = %v, want an internal error", err)
	}
}
