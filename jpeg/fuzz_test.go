package jpeg

import (
	"bytes"
	"context"
	"errors"
	stdjpeg "image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuzzPixels bounds the images fuzzed: instrumented for coverage, a
// decode of a few megapixels takes seconds.
const maxFuzzPixels = 1 << 18

// FuzzDecode runs this package and image/jpeg on the same bytes. Neither
// may panic; this package must stay within the memory it estimates, and
// give the same verdict (decodes or not) as image/jpeg but for the
// differences knownDifference documents.
func FuzzDecode(f *testing.F) {
	// Small seeds: the fuzzer mutates and minimises them much faster.
	fix, _ := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	for _, path := range fix {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add(benchFileT(f, 33, 17))
	if data, err := os.ReadFile(filepath.Join("testdata", "progressive-restart.jpg")); err == nil {
		f.Add(flood(bytes.TrimSuffix(data, []byte{0xff, 0xd9}), 70, 63, 63, true))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := stdjpeg.DecodeConfig(bytes.NewReader(data))
		if err == nil && cfg.Width*cfg.Height > maxFuzzPixels {
			return // too slow to fuzz with
		}
		var est int64
		var ours error
		allocated := allocatedBy(func() { est, ours = decodeFuzz(data) })
		if allocated > est {
			t.Fatalf("allocated %d bytes, estimated %d", allocated, est)
		}
		_, theirs := stdjpeg.Decode(bytes.NewReader(data))
		if (ours == nil) != (theirs == nil) && !knownDifference(data, ours, theirs) {
			if _, err := exec.LookPath("djpeg"); err != nil {
				t.Skipf("verdicts differ (this package: %v; image/jpeg: %v); djpeg, absent, would decide", ours, theirs)
			}
			t.Fatalf("this package: %v; image/jpeg: %v", ours, theirs)
		}
	})
}

// decodeFuzz decodes data at a scale chosen by its length, returning the
// memory estimate and the error.
func decodeFuzz(data []byte) (int64, error) {
	d, err := NewDecoder(bytes.NewReader(data))
	if err != nil {
		return decoderSize, err
	}
	if d.h.Width*d.h.Height > maxFuzzPixels {
		return decoderSize, LimitError("too large to fuzz") // a caller bounds dimensions first
	}
	o := Options{Scale: 1 << (len(data) % 4)}
	_, err = d.Decode(context.Background(), o)
	return d.Memory(o), err
}

// knownDifference reports whether the verdicts of this package (ours) and
// image/jpeg (theirs) differ for a documented reason:
//   - image/jpeg does not implement sampling factors of 3, luma sampled
//     below chroma and other valid layouts, nor progressive files with
//     restart intervals in some cases; this package decodes them;
//   - this package bounds scans and work (LimitError), checks that a
//     Huffman table's codes fit their lengths, and refuses bits that are no
//     code of their table;
//   - image/jpeg refuses a refinement run past the end of its band,
//     which libjpeg and this package read on;
//   - where image/jpeg and libjpeg disagree, libjpeg decides (see
//     libjpegAgrees).
func knownDifference(data []byte, ours, theirs error) bool {
	var unsupported stdjpeg.UnsupportedError
	var limit LimitError
	switch {
	case ours == nil && errors.As(theirs, &unsupported):
		return true
	case ours == nil && theirs.Error() == "invalid JPEG format: missing 0xff00 sequence" && progressiveRestart(data):
		return true
	case ours == nil && theirs.Error() == "invalid JPEG format: too many coefficients":
		// A refinement run past the end of its band: libjpeg places the
		// coefficient after the band, as this package does; image/jpeg
		// stops.
		return true
	case errors.As(ours, &limit):
		return true
	case errors.Is(ours, FormatError("bad Huffman table: too many codes")):
		return true
	case errors.Is(ours, errBadCode) && theirs == nil:
		// Bits that are no code of their table: corrupt data. image/jpeg
		// may not reach them (see libjpegAgrees), and libjpeg-turbo's
		// fast path reads them silently as symbol 0.
		return true
	}
	return libjpegAgrees(data, ours)
}

// libjpegAgrees reports whether djpeg, if installed, decodes data without
// a warning of corrupt data exactly when this package decodes it. Where
// image/jpeg alone disagrees, it is image/jpeg's reading that is off: for
// instance, it reads the invalid symbols "run 1–14, size 0" of a
// sequential scan as runs of empty blocks, where libjpeg (and this
// package) end the block.
func libjpegAgrees(data []byte, ours error) bool {
	if _, err := exec.LookPath("djpeg"); err != nil {
		return false
	}
	// At trace level 3, libjpeg prints every warning, not just the first.
	cmd := exec.Command("djpeg", "-v", "-v", "-v", "-dct", "int", "-nosmooth", "-outfile", os.DevNull)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return (err == nil || onlyExtraneousBytes(err, stderr.String())) == (ours == nil)
}

// onlyExtraneousBytes reports whether djpeg failed only with warnings
// (exit status 2), and all of them about bytes between segments, which
// this package and image/jpeg skip silently too.
func onlyExtraneousBytes(err error, stderr string) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		return false
	}
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "Corrupt JPEG data") && !strings.Contains(line, "extraneous bytes before marker") {
			return false
		}
	}
	return true
}

// progressiveRestart reports whether data is a progressive JPEG with
// restart intervals, which image/jpeg fails to decode when an interval
// ends within a run of blocks with no coefficient in the band.
func progressiveRestart(data []byte) bool {
	d, err := NewDecoder(bytes.NewReader(data))
	return err == nil && d.h.Progressive && d.tables.restart > 0
}
