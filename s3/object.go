package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// skipLimit is how far forward a Read skips in the open stream rather than
// asking for a new range.
const skipLimit = 64 << 10

// object is an S3 object read as a stream: no more of it is in memory than
// a Read asks for. Seek only moves the position; a Read away from where
// the open stream is asks S3 for the rest of the object from there with a
// ranged GetObject that must match the first one's ETag, so every byte
// comes from the same object. Range and conditional requests on the image
// URLs thus cost one request each, and a whole-object read only the
// GetObject of Open.
type object struct {
	ctx     context.Context
	b       *Bucket
	key     string
	size    int64
	etag    string
	pos     int64         // where the next Read reads
	body    io.ReadCloser // the open stream, or nil
	bodyPos int64         // where body is
}

// Read reads from the current position.
func (o *object) Read(p []byte) (int, error) {
	if o.pos >= o.size {
		return 0, io.EOF
	}
	if err := o.position(); err != nil {
		return 0, err
	}
	n, err := o.body.Read(p)
	o.pos += int64(n)
	o.bodyPos += int64(n)
	if err == io.EOF && o.pos < o.size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		err = classify(fmt.Errorf("s3: read %s: %w", o.key, err))
	}
	return n, err
}

// position makes body a stream at pos: the open one, skipped forward a
// little if need be, or a new ranged one.
func (o *object) position() error {
	if o.body != nil && o.pos > o.bodyPos && o.pos-o.bodyPos <= skipLimit {
		n, err := io.CopyN(io.Discard, o.body, o.pos-o.bodyPos)
		o.bodyPos += n
		if err != nil {
			o.closeBody()
		}
	}
	if o.body != nil && o.bodyPos == o.pos {
		return nil
	}
	o.closeBody()
	out, err := o.b.client.GetObject(o.ctx, &awss3.GetObjectInput{
		Bucket:  aws.String(o.b.bucket),
		Key:     aws.String(o.key),
		Range:   aws.String(fmt.Sprintf("bytes=%d-", o.pos)),
		IfMatch: aws.String(o.etag),
	})
	if err != nil {
		return classify(fmt.Errorf("s3: read %s at %d: %w", o.key, o.pos, err))
	}
	o.body, o.bodyPos = out.Body, o.pos
	return nil
}

// Seek sets the position of the next Read; it reads nothing.
func (o *object) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errors.New("s3: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("s3: negative position")
	}
	o.pos = offset
	return offset, nil
}

// Close closes the open stream, if any.
func (o *object) Close() error {
	o.closeBody()
	return nil
}

func (o *object) closeBody() {
	if o.body != nil {
		o.body.Close()
		o.body = nil
	}
}
