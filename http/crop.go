package http

import (
	"image"
	"io"
	"math"
	"mime/multipart"
	"slices"
	"strconv"
	"strings"

	"github.com/portraitsvc/portrait"
)

// cropFields are the form fields of an upload's crop rectangle: its
// origin and its size.
var cropFields = [4]string{"crop_x", "crop_y", "crop_width", "crop_height"}

// maxCropField bounds the bytes of one crop field's value.
const maxCropField = 32

// isCropField reports whether a form field is one of cropFields.
func isCropField(name string) bool {
	return slices.Contains(cropFields[:], name)
}

// readCropField reads the value of the crop field p into fields, refusing
// a value over maxCropField bytes and a field given twice.
func readCropField(p *multipart.Part, fields map[string]string) error {
	name := p.FormName()
	b, err := io.ReadAll(io.LimitReader(p, maxCropField+1))
	if err != nil {
		return bodyError(err)
	}
	if _, twice := fields[name]; twice || len(b) > maxCropField {
		return errCrop("%s must be given once, as a number of pixels.", name)
	}
	fields[name] = strings.TrimSpace(string(b))
	return nil
}

// parseCrop returns the rectangle that the crop fields describe, in
// pixels of the upright picture (as crop dialogs such as Cropper.js report
// it; decimals are rounded to the nearest pixel edge), or the empty
// rectangle if none is given. Some but not all of them, a value that is
// not a finite number, a negative origin and a zero or negative size are
// EINVALIDCROP; whether the rectangle lies inside the picture is known
// only once it is read (package avatar).
func parseCrop(fields map[string]string) (image.Rectangle, error) {
	if len(fields) == 0 {
		return image.Rectangle{}, nil
	}
	var v [4]float64
	for i, name := range cropFields {
		s, ok := fields[name]
		if !ok {
			return image.Rectangle{}, errCrop("The crop rectangle needs all of crop_x, crop_y, crop_width and crop_height; %s is missing.", name)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e9 {
			return image.Rectangle{}, errCrop("%s must be a number of pixels, not %q.", name, s)
		}
		v[i] = f
	}
	r := image.Rect(edge(v[0]), edge(v[1]), edge(v[0]+v[2]), edge(v[1]+v[3]))
	if v[0] < 0 || v[1] < 0 || v[2] <= 0 || v[3] <= 0 || r.Empty() {
		return image.Rectangle{}, errCrop("The crop rectangle must start at x, y ≥ 0 and be at least a pixel wide and high.")
	}
	return r, nil
}

// edge rounds a crop edge to the nearest pixel boundary.
func edge(f float64) int { return int(math.Round(f)) }

// errCrop is an EINVALIDCROP error with the message format makes of args.
func errCrop(format string, args ...any) error {
	return portrait.Errorf(portrait.EINVALIDCROP, format, args...)
}
