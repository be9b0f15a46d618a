package jpeg

import (
	"errors"
	"io"
)

// sourceSize is the size of a source's buffer.
const sourceSize = 64 << 10

// source is a buffered reader of the file with the primitives marker
// parsing and entropy decoding need. buf[pos:end] is unread data.
type source struct {
	r        io.Reader
	buf      []byte
	pos, end int
	base     int64 // file offset of buf[0]
	err      error // why r stopped giving data (io.EOF at the end)
}

// offset returns the file offset of the next unread byte.
func (s *source) offset() int64 { return s.base + int64(s.pos) }

func newSource(r io.Reader) *source {
	return &source{r: r, buf: make([]byte, sourceSize)}
}

// fill moves the unread bytes to the front of buf and reads more, until at
// least want bytes are unread or r stops. It reports whether want are.
func (s *source) fill(want int) bool {
	if s.end-s.pos >= want {
		return true
	}
	s.base += int64(s.pos)
	s.end = copy(s.buf, s.buf[s.pos:s.end])
	s.pos = 0
	for s.end < want && s.err == nil {
		var n int
		n, s.err = s.r.Read(s.buf[s.end:])
		s.end += n
	}
	return s.end >= want
}

// readErr is the error for data that ended early: ErrUnexpectedEOF at the
// end of the file, and the error of r otherwise.
func (s *source) readErr() error {
	if s.err == nil || s.err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return s.err
}

// byte returns the next byte.
func (s *source) byte() (byte, error) {
	if !s.fill(1) {
		return 0, s.readErr()
	}
	b := s.buf[s.pos]
	s.pos++
	return b, nil
}

// full reads exactly len(b) bytes into b (at most len(buf)).
func (s *source) full(b []byte) error {
	if !s.fill(len(b)) {
		return s.readErr()
	}
	s.pos += copy(b, s.buf[s.pos:s.end])
	return nil
}

// skip discards n bytes.
func (s *source) skip(n int) error {
	for n > 0 {
		if !s.fill(1) {
			return s.readErr()
		}
		k := min(n, s.end-s.pos)
		s.pos += k
		n -= k
	}
	return nil
}

// nextMarker discards bytes up to the next marker, as libjpeg and
// image/jpeg do (stray bytes, "FF 00" pairs and fill bytes are skipped),
// and returns its code.
func (s *source) nextMarker() (byte, error) {
	for {
		b, err := s.byte()
		if err != nil {
			return 0, err
		}
		if b != 0xff {
			continue
		}
		for b == 0xff {
			if b, err = s.byte(); err != nil {
				return 0, err
			}
		}
		if b != 0 {
			return b, nil
		}
	}
}

var errShortSegment = FormatError("short segment length")

// segmentLength reads a segment's length field and returns the length of
// its payload.
func (s *source) segmentLength() (int, error) {
	var l [2]byte
	if err := s.full(l[:]); err != nil {
		return 0, err
	}
	n := int(l[0])<<8 | int(l[1]) - 2
	if n < 0 {
		return 0, errShortSegment
	}
	return n, nil
}

// isEOF reports whether err means the file ended.
func isEOF(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }
