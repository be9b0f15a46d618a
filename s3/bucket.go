// Package s3 implements portrait.Bucket on an S3 bucket, on AWS or on an
// S3-compatible server.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/portraitsvc/portrait"
)

var _ portrait.Bucket = (*Bucket)(nil)

// MaxObjectSize is the largest object that Put stores: it holds the whole
// object in memory.
const MaxObjectSize = 32 << 20

// CacheControl is stored with every object: keys are never overwritten, so
// an object may be cached for ever.
const CacheControl = "public, max-age=31536000, immutable"

// Bucket stores each object as the S3 object of the same key.
type Bucket struct {
	client *awss3.Client
	bucket string
}

// Open returns a Bucket for a URL that ParseURL accepts. Credentials come
// from the standard AWS chain. It does not contact the server.
func Open(ctx context.Context, rawURL string) (*Bucket, error) {
	c, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, c)
}

// OpenConfig returns a Bucket for c. It does not contact the server.
func OpenConfig(ctx context.Context, c Config) (*Bucket, error) {
	if c.Bucket == "" {
		return nil, errors.New("s3: no bucket name")
	}
	client, err := NewClient(ctx, c)
	if err != nil {
		return nil, err
	}
	return &Bucket{client: client, bucket: c.Bucket}, nil
}

// Put reads the size bytes of r into memory and stores them with one
// PutObject, which S3 makes visible only complete, along with contentType
// and CacheControl. A negative size or one above MaxObjectSize is EINVALID;
// r ending before size bytes is an error.
func (b *Bucket) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if size < 0 || size > MaxObjectSize {
		return portrait.Errorf(portrait.EINVALID, "Invalid object size %d.", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return fmt.Errorf("s3: put %s: read body: %w", key, err)
	}
	_, err := b.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:        aws.String(b.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(contentType),
		CacheControl:  aws.String(CacheControl),
	})
	if err != nil {
		return classify(fmt.Errorf("s3: put %s: %w", key, err))
	}
	return nil
}

// Open returns the object as a reader that streams it from S3 (see
// object), and its info. It returns ENOTFOUND for a missing object.
func (b *Bucket) Open(ctx context.Context, key string) (io.ReadSeekCloser, portrait.ObjectInfo, error) {
	if key == "" {
		return nil, portrait.ObjectInfo{}, errNotFound()
	}
	out, err := b.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(key),
	})
	if isNotFound(err) {
		return nil, portrait.ObjectInfo{}, errNotFound()
	} else if err != nil {
		return nil, portrait.ObjectInfo{}, classify(fmt.Errorf("s3: open %s: %w", key, err))
	}
	info := portrait.ObjectInfo{
		Key:         key,
		Size:        aws.ToInt64(out.ContentLength),
		ContentType: aws.ToString(out.ContentType),
		ModTime:     aws.ToTime(out.LastModified),
		ETag:        quoteETag(aws.ToString(out.ETag)),
	}
	return &object{ctx: ctx, b: b, key: key, size: info.Size, etag: aws.ToString(out.ETag), body: out.Body}, info, nil
}

// Delete removes the objects: one DeleteObject for one key, DeleteObjects
// for up to 1000 at a time otherwise. Missing objects are not errors.
func (b *Bucket) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 1 {
		return b.deleteOne(ctx, keys[0])
	}
	for batch := range slices.Chunk(keys, maxDeleteBatch) {
		if err := b.deleteBatch(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// maxDeleteBatch is the most keys S3 takes in one DeleteObjects.
const maxDeleteBatch = 1000

func (b *Bucket) deleteOne(ctx context.Context, key string) error {
	_, err := b.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(b.bucket),
		Key:    aws.String(key),
	})
	if err != nil && !isNotFound(err) {
		return classify(fmt.Errorf("s3: delete %s: %w", key, err))
	}
	return nil
}

// deleteBatch deletes keys with one DeleteObjects, which answers an error
// per key that it could not delete.
func (b *Bucket) deleteBatch(ctx context.Context, keys []string) error {
	ids := make([]types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
	}
	out, err := b.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
		Bucket: aws.String(b.bucket),
		Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return classify(fmt.Errorf("s3: delete %d objects: %w", len(keys), err))
	}
	for _, e := range out.Errors {
		if code := aws.ToString(e.Code); code != "NoSuchKey" {
			return fmt.Errorf("s3: delete %s: %s: %s", aws.ToString(e.Key), code, aws.ToString(e.Message))
		}
	}
	return nil
}

// Ping reports whether the bucket can be reached, with one HeadBucket.
func (b *Bucket) Ping(ctx context.Context) error {
	_, err := b.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(b.bucket)})
	if err != nil {
		return classify(fmt.Errorf("s3: head bucket %s: %w", b.bucket, err))
	}
	return nil
}

// List pages through the objects whose key starts with prefix. S3 lists no
// content types, so the ObjectInfo's ContentType is derived from the key's
// extension, which Portrait's keys carry.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(portrait.ObjectInfo) error) error {
	p := awss3.NewListObjectsV2Paginator(b.client, &awss3.ListObjectsV2Input{
		Bucket: aws.String(b.bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return classify(fmt.Errorf("s3: list %s: %w", prefix, err))
		}
		for _, o := range page.Contents {
			if err := fn(listedInfo(o)); err != nil {
				return err
			}
		}
	}
	return nil
}

// listedInfo describes the listed object o.
func listedInfo(o types.Object) portrait.ObjectInfo {
	key := aws.ToString(o.Key)
	return portrait.ObjectInfo{
		Key:         key,
		Size:        aws.ToInt64(o.Size),
		ContentType: portrait.ContentTypeOf(key),
		ModTime:     aws.ToTime(o.LastModified),
		ETag:        quoteETag(aws.ToString(o.ETag)),
	}
}

// quoteETag returns etag quoted as in HTTP; some servers send it bare.
func quoteETag(etag string) string {
	if etag == "" || strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/"`) {
		return etag
	}
	return `"` + etag + `"`
}

// isNotFound reports whether err says that the object does not exist: S3's
// NoSuchKey or NotFound code, or a 404 status other than NoSuchBucket (a
// missing bucket is a configuration error, not a missing image).
func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket":
			return false
		}
	}
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound
}

func errNotFound() error { return portrait.Errorf(portrait.ENOTFOUND, "Image not found.") }

// classify returns err as EUNAVAILABLE if it says the server cannot serve
// now: a 5xx answer (such as 503 SlowDown), retries exhausted, a timeout
// or a failed connection. Other errors, a 403 for instance, are returned
// unchanged: they need an operator, not a retry.
func classify(err error) error {
	var resp *smithyhttp.ResponseError
	var netErr net.Error
	var attempts *retry.MaxAttemptsError
	switch {
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500,
		errors.As(err, &attempts), errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF):
		return portrait.Unavailable("storage", err)
	}
	return err
}
