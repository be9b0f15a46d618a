package portrait

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
)

// Image is a user's stored profile image: the image set that one upload
// wrote, the object in it that the contract's profile_image names, and
// what a front-end needs to show it.
type Image struct {
	Set string // see SetOf
	Key string // the profile_image object, in Set
	// Variants are the set's objects, every size in every format. An image
	// stored before sets had sizes has none: Key is then its one object.
	Variants []Variant
	// Placeholder is a BlurHash of the picture, and Color its average
	// colour as #rrggbb; both "" when unknown.
	Placeholder string
	Color       string
}

// Variant is one object of an image set: the picture at one size, in one
// format.
type Variant struct {
	Name        string `json:"name"` // file name in the set, such as "256.webp"
	Side        int    `json:"side"` // pixels a side
	ContentType string `json:"type"` // image/jpeg, image/png or image/webp
}

// KeyOf returns the object key of the variant v of img.
func (img Image) KeyOf(v Variant) string {
	if !strings.HasSuffix(img.Set, "/") {
		return img.Key // a set of one, stored before sets had sizes
	}
	return img.Set + v.Name
}

// Stored returns the image's variants: Variants, or for an image that has
// none, its one object, whose side is unknown (0).
func (img Image) Stored() []Variant {
	if len(img.Variants) > 0 || img.Key == "" {
		return img.Variants
	}
	return []Variant{{Name: path.Base(img.Key), ContentType: ContentTypeOf(img.Key)}}
}

// Pick returns the variant to serve for a request of side pixels in one
// of types, the most preferred first: the smallest variant at least side
// pixels a side of the first type that has one; if none has, the largest
// of them all (of the most preferred type among equals). So a picture
// whose WebP stops below the size asked is served as its larger JPEG. It
// returns false if the image has no variant of those types.
func (img Image) Pick(side int, types ...string) (Variant, bool) {
	var best Variant
	found := false
	for _, t := range types {
		var of []Variant
		for _, v := range img.Stored() {
			if v.ContentType == t {
				of = append(of, v)
			}
		}
		if len(of) == 0 {
			continue
		}
		v := pickSide(of, side)
		if v.Side >= side {
			return v, true
		}
		if !found || v.Side > best.Side {
			best, found = v, true
		}
	}
	return best, found
}

// pickSide returns the smallest of vs at least side a side, or the largest.
func pickSide(vs []Variant, side int) Variant {
	slices.SortFunc(vs, func(a, b Variant) int { return a.Side - b.Side })
	i, _ := slices.BinarySearchFunc(vs, side, func(v Variant, side int) int { return v.Side - side })
	return vs[min(i, len(vs)-1)]
}

// imageDetails is how stores keep an Image's variants, placeholder and
// colour: one JSON document beside its set and key.
type imageDetails struct {
	Variants    []Variant `json:"variants,omitempty"`
	Placeholder string    `json:"placeholder,omitempty"`
	Color       string    `json:"color,omitempty"`
}

// Details returns the image's variants, placeholder and colour as one
// document for a store to keep, or "" if it has none of them.
func (img Image) Details() string {
	d := imageDetails{img.Variants, img.Placeholder, img.Color}
	if len(d.Variants) == 0 && d.Placeholder == "" && d.Color == "" {
		return ""
	}
	b, _ := json.Marshal(d) // cannot fail: strings and ints
	return string(b)
}

// WithDetails returns img with the variants, placeholder and colour of a
// document that Details returned ("": none).
func (img Image) WithDetails(doc string) (Image, error) {
	if doc == "" {
		return img, nil
	}
	var d imageDetails
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return img, err
	}
	img.Variants, img.Placeholder, img.Color = d.Variants, d.Placeholder, d.Color
	return img, nil
}
