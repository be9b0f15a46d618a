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
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return 0, errISOMedia(string(b[8:12]))
	}
	return 0, errUnsupported()
}

// heifBrands are the major brands of the ISO media files that hold a
// HEIF still image or sequence, as iPhones save photos; AVIF is HEIF's
// AV1 sibling.
var heifBrands = map[string]string{
	"heic": "HEIC", "heix": "HEIC", "heim": "HEIC", "heis": "HEIC", "hevc": "HEIC", "hevx": "HEIC",
	"mif1": "HEIF", "msf1": "HEIF", "avif": "AVIF", "avis": "AVIF",
}

// errISOMedia is the error for an ISO media file (HEIC, AVIF, MP4…) of
// major brand brand: HEIC and AVIF are named, with what to send instead.
func errISOMedia(brand string) error {
	name, ok := heifBrands[brand]
	if !ok {
		return errUnsupported()
	}
	return portrait.Errorf(portrait.EUNSUPPORTEDIMAGE,
		"The file is a %s image, which is not supported: send a JPEG, PNG, GIF or WebP. "+
			"(On an iPhone, a page whose file input accepts only image/jpeg, image/png and image/webp gets a JPEG.)", name)
}

// errUnsupported is the error for a file that is not an accepted image.
func errUnsupported() error {
	return portrait.Errorf(portrait.EUNSUPPORTEDIMAGE, "The file is not a JPEG, PNG, GIF or WebP image.")
}
