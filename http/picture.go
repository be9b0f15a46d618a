package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/monogram"
)

// pictureMaxAge is how long clients and caches may keep an answer of the
// stable picture URL: short, since it changes with every upload.
const pictureMaxAge = "public, max-age=60"

// pictureQuery is what a request of the stable picture URL asks for.
type pictureQuery struct {
	side  int      // pixels a side; math.MaxInt32 for the largest
	types []string // media types in order of preference
}

// handlePicture answers GET /users/{id}/image, the URL of a user's picture
// that never changes: a short-lived redirect to the immutable object of the
// smallest stored size at least ?size= pixels (the largest if none is), as
// WebP when ?format=webp or Accept prefers it, else JPEG (PNG for pictures
// with transparency); for a user without a picture, the default picture,
// rendered at that size. Public, as the images are; an unknown user is 404.
func handlePicture(log *slog.Logger, users portrait.UserStore, urls imageURLs) http.Handler {
	renders := make(chan struct{}, 2) // default pictures rendered at once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, err := parsePictureQuery(r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		u, err := users.UserByID(r.Context(), r.PathValue("id"))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		h := w.Header()
		h.Add("Vary", "Accept")
		h.Set("Cache-Control", pictureMaxAge)
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		if v, ok := u.Image.Pick(q.side, q.types...); ok {
			http.Redirect(w, r, urls.base+"/"+u.Image.KeyOf(v), http.StatusFound)
			return
		}
		serveMonogram(w, r, log, renders, u, q.side)
	})
}

// parsePictureQuery reads ?size= (1 to 4096; default the largest) and
// ?format= (webp, jpeg or png; default by Accept).
func parsePictureQuery(r *http.Request) (pictureQuery, error) {
	q := pictureQuery{side: math.MaxInt32}
	if s := r.URL.Query().Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 4096 {
			return q, portrait.Errorf(portrait.EINVALID, "The size must be a whole number of pixels from 1 to 4096.")
		}
		q.side = n
	}
	switch f := r.URL.Query().Get("format"); {
	case f == "webp", f == "" && acceptsWebP(r.Header.Get("Accept")):
		q.types = []string{"image/webp", "image/jpeg", "image/png"}
	case f == "", f == "jpeg", f == "png":
		q.types = []string{"image/jpeg", "image/png"}
	default:
		return q, portrait.Errorf(portrait.EINVALID, "The format must be webp, jpeg or png.")
	}
	return q, nil
}

// acceptsWebP reports whether an Accept header names image/webp with a
// quality above zero, as browsers that can show WebP do.
func acceptsWebP(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mediaType, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(mediaType), "image/webp") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "q" {
				q, err := strconv.ParseFloat(v, 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

// monogramStep rounds the sizes of default pictures up to a multiple of
// it, so that few sizes exist to be cached and to be asked for.
const monogramStep = 16

// serveMonogram answers the default picture of u at side pixels (rounded
// up to monogramStep, within monogram's bounds). At most cap(renders) are
// rendered at once; the bytes are deterministic, so their hash is a strong
// ETag and conditional requests are answered 304 without rendering.
func serveMonogram(w http.ResponseWriter, r *http.Request, log *slog.Logger, renders chan struct{}, u *portrait.User, side int) {
	side = min(max((side+monogramStep-1)/monogramStep*monogramStep, monogram.MinSize), monogram.MaxSize)
	etag := monogramETag(u, side)
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	png, err := renderMonogram(r.Context(), renders, u, side)
	if err != nil {
		writeError(w, r, log, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(png))
}

// renderMonogram renders u's default picture once a render slot is free.
func renderMonogram(ctx context.Context, renders chan struct{}, u *portrait.User, side int) ([]byte, error) {
	select {
	case renders <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-renders }()
	return monogram.Render(u.ID, u.FirstName, u.LastName, side)
}

// monogramETag names the default picture of u at side: what it is drawn
// from, and the version of the drawing.
func monogramETag(u *portrait.User, side int) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{"monogram/1", u.ID, u.FirstName, u.LastName, strconv.Itoa(side)}, "\x00")))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}
