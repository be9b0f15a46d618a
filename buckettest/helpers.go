package buckettest

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/portraitsvc/portrait"
)

// MustPut puts data under key, failing the test on error.
func MustPut(tb testing.TB, b portrait.Bucket, key string, data []byte, contentType string) {
	tb.Helper()
	if err := b.Put(tb.Context(), key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		tb.Fatalf("Put(%s): %v", key, err)
	}
}

// MustRead opens key and reads it whole, failing the test on error.
func MustRead(tb testing.TB, b portrait.Bucket, key string) ([]byte, portrait.ObjectInfo) {
	tb.Helper()
	r, info, err := b.Open(tb.Context(), key)
	if err != nil {
		tb.Fatalf("Open(%s): %v", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("reading %s: %v", key, err)
	}
	return data, info
}

// MustBeMissing fails the test unless Open returns ENOTFOUND for key and
// List does not report it.
func MustBeMissing(tb testing.TB, b portrait.Bucket, key string) {
	tb.Helper()
	_, _, err := b.Open(tb.Context(), key)
	if code := portrait.ErrorCode(err); code != portrait.ENOTFOUND {
		tb.Errorf("Open(%s) = %v (code %q), want %s", key, err, code, portrait.ENOTFOUND)
	}
	if slices.Contains(ListKeys(tb, b, ""), key) {
		tb.Errorf("List reports %s", key)
	}
}

// ListAll returns the info of every object whose key starts with prefix,
// failing the test on error.
func ListAll(tb testing.TB, b portrait.Bucket, prefix string) []portrait.ObjectInfo {
	tb.Helper()
	var infos []portrait.ObjectInfo
	err := b.List(tb.Context(), prefix, func(info portrait.ObjectInfo) error {
		infos = append(infos, info)
		return nil
	})
	if err != nil {
		tb.Fatalf("List(%q): %v", prefix, err)
	}
	return infos
}

// ListKeys returns the sorted keys that start with prefix, failing the
// test on error.
func ListKeys(tb testing.TB, b portrait.Bucket, prefix string) []string {
	tb.Helper()
	var keys []string
	for _, info := range ListAll(tb, b, prefix) {
		keys = append(keys, info.Key)
	}
	slices.Sort(keys)
	return keys
}
