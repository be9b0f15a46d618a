package http

import (
	"log/slog"
	"net/http"

	"github.com/portraitsvc/portrait"
)

// handleImage serves a stored image at /profileImages/<key>, with a
// strong ETag, conditional requests, HEAD and Range (http.ServeContent),
// and headers that make the bytes immutable, unsniffable and inert.
func handleImage(log *slog.Logger, bucket portrait.Bucket) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := portrait.ImagePrefix + r.PathValue("key")
		obj, info, err := bucket.Open(r.Context(), key)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer obj.Close()
		h := w.Header()
		h.Set("Content-Type", info.ContentType)
		h.Set("ETag", info.ETag)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		limitRanges(r, info.Size)
		http.ServeContent(w, r, "", info.ModTime, obj)
	})
}
