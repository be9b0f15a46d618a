package avatar

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/portraitsvc/portrait"
)

// format is an accepted image format.
type format int

const (
	formatJPEG format = iota + 1
	formatPNG
	formatGIF
	formatWebP
)

// pngSignature starts every PNG file.
const pngSignature = "\x89PNG\r\n\x1a\n"

// sniff reads the first bytes of r, from its start, and returns the format
// their magic number announces. File names and declared content types are
// never consulted. It returns EEMPTYFILE for an empty file, ECORRUPTIMAGE
// for a PNG whose signature is damaged, and EUNSUPPORTEDIMAGE for anything
// else that is not JPEG, PNG, GIF or WebP.
func sniff(r io.ReadSeeker) (format, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("avatar: seek upload: %w", err)
	}
	var b [16]byte
	n, err := io.ReadFull(r, b[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, fmt.Errorf("avatar: read upload: %w", err)
	}
	if n == 0 {
		return 0, portrait.Errorf(portrait.EEMPTYFILE, "The file is empty.")
	}
	return classify(b[:n])
}

// classify returns the format whose magic number starts b.
func classify(b []byte) (format, error) {
	switch {
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return formatJPEG, nil
	case bytes.HasPrefix(b, []byte(pngSignature)):
		return formatPNG, nil
	case len(b) >= 16 && string(b[12:16]) == "IHDR":
		// A PNG whose signature was mangled, e.g. by a text-mode transfer.
		return 0, errCorrupt()
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF, nil
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP, nil
	}
	return 0, errUnsupported()
}

// errUnsupported is the error for a file that is not an accepted image.
func errUnsupported() error {
	return portrait.Errorf(portrait.EUNSUPPORTEDIMAGE, "The file is not a JPEG, PNG, GIF or WebP image.")
}
