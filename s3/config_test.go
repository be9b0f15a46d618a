package s3_test

import (
	"testing"

	"github.com/portraitsvc/portrait/s3"
)

func TestParseURL(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want s3.Config
	}{
		{"s3://images", s3.Config{Bucket: "images"}},
		{"s3://images/", s3.Config{Bucket: "images"}},
		{
			"s3://images?endpoint=http://127.0.0.1:7070&region=eu-west-3&path_style=true",
			s3.Config{Bucket: "images", Endpoint: "http://127.0.0.1:7070", Region: "eu-west-3", PathStyle: true},
		},
	} {
		got, err := s3.ParseURL(tt.url)
		if err != nil || got != tt.want {
			t.Errorf("ParseURL(%q) = %+v, %v, want %+v", tt.url, got, err, tt.want)
		}
		if back, err := s3.ParseURL(got.URL()); err != nil || back != got {
			t.Errorf("ParseURL(%q) = %+v, %v, want %+v", got.URL(), back, err, got)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, url := range []string{
		"", "images", "http://images", "s3://", "s3://images/sub", "s3://key:secret@images",
		"s3://images?bucket=x", "s3://images?path_style=maybe", "s3://images\x00",
	} {
		if c, err := s3.ParseURL(url); err == nil {
			t.Errorf("ParseURL(%q) = %+v, want an error", url, c)
		}
	}
}
