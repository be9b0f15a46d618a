package http

import (
	"errors"
	"io"
	"mime/multipart"
	"net/textproto"
)

// maxPartHeaderBytes caps the header block of one multipart part. Browsers
// send a few hundred bytes (Content-Disposition with the filename, and a
// Content-Type); Go's multipart reader alone would accept 10 MiB per part
// and hold it in memory while it arrives.
const maxPartHeaderBytes = 8 << 10

// readAhead is what the multipart reader may read beyond a header block
// in one go: the size of its buffer.
const readAhead = 4 << 10

var errPartHeaderTooLarge = errors.New("multipart: part header block too large")

// boundedParts reads the parts of a multipart body like multipart.Reader,
// with each part's header block bounded in both the bytes read to find it
// and the size of the header parsed.
type boundedParts struct {
	mr     *multipart.Reader
	budget *headerBudget
}

func newBoundedParts(body io.Reader, boundary string) *boundedParts {
	b := &headerBudget{r: body, remaining: -1}
	return &boundedParts{mr: multipart.NewReader(b, boundary), budget: b}
}

// NextPart returns the next part, io.EOF after the last, or an error that
// wraps errPartHeaderTooLarge. While it looks for the part's headers, at
// most maxPartHeaderBytes+readAhead bytes are read from the body, so the
// memory a connection holds for them stays that small however slowly or
// however much the client sends; the parsed header must then total at
// most maxPartHeaderBytes. The previous part must have been read to its
// end (or its remainder counts against the budget).
func (b *boundedParts) NextPart() (*multipart.Part, error) {
	b.budget.remaining = maxPartHeaderBytes + readAhead
	p, err := b.mr.NextPart()
	b.budget.remaining = -1
	if err == nil && headerSize(p.Header) > maxPartHeaderBytes {
		return nil, errPartHeaderTooLarge
	}
	if errors.Is(err, multipart.ErrMessageTooLarge) {
		return nil, errPartHeaderTooLarge
	}
	return p, err
}

// headerSize is the size of h as sent: "Key: value\r\n" for each value.
func headerSize(h textproto.MIMEHeader) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// headerBudget passes reads through to r; while remaining >= 0 it allows
// only that many more bytes, then fails with errPartHeaderTooLarge.
type headerBudget struct {
	r         io.Reader
	remaining int
}

func (h *headerBudget) Read(p []byte) (int, error) {
	if h.remaining < 0 {
		return h.r.Read(p)
	}
	if h.remaining == 0 {
		return 0, errPartHeaderTooLarge
	}
	if len(p) > h.remaining {
		p = p[:h.remaining]
	}
	n, err := h.r.Read(p)
	h.remaining -= n
	return n, err
}
