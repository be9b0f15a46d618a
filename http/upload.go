package http

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/avatar"
)

// UploadLimits bound what one upload request may send.
type UploadLimits struct {
	// MaxFileBytes caps the file part; over it the answer is 413. The whole
	// body may exceed it by multipartSlack for boundaries and headers.
	MaxFileBytes int64
	// MaxParts caps the number of multipart parts.
	MaxParts int
	// TempDir receives uploads while they are validated ("" = os.TempDir()).
	TempDir string
	// SpoolBytes bounds the bytes of all the uploads being received at
	// once in TempDir (0: only the disk's free space); over it, and on a
	// full disk, an upload gets 503 with Retry-After.
	SpoolBytes int64
}

const multipartSlack = 64 << 10

func handleUpload(log *slog.Logger, images *portrait.Images, avatars *avatar.Processor, uploads portrait.RateLimiter, urls imageURLs, lim UploadLimits) http.Handler {
	sp := newSpool(lim.TempDir, lim.SpoolBytes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := upload(w, r, images, avatars, uploads, lim, sp)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, envelope{urls.user(u)})
	})
}

// upload admits, receives and processes the request's image and makes it
// the current user's.
func upload(w http.ResponseWriter, r *http.Request, images *portrait.Images, avatars *avatar.Processor, uploads portrait.RateLimiter, lim UploadLimits, sp *spool) (*portrait.User, error) {
	userID := currentUser(r.Context()).ID
	if err := admitOne(r.Context(), uploads, userID, "uploads"); err != nil {
		return nil, err
	}
	in, err := receive(w, r, lim, sp)
	if err != nil {
		return nil, err
	}
	defer in.file.remove()
	crop, err := parseCrop(in.crop)
	if err != nil {
		return nil, err
	}
	set, err := avatars.Process(r.Context(), in.file, avatar.Options{Crop: crop})
	if err != nil {
		return nil, err
	}
	return images.Replace(r.Context(), userID, uploadOf(set))
}

// uploadOf is the image set that Replace stores for an avatar set: its
// first object, the largest JPEG or PNG, is what profile_image names.
func uploadOf(set *avatar.Set) portrait.Upload {
	up := portrait.Upload{Placeholder: set.Placeholder, Color: set.Color}
	for _, a := range set.Avatars {
		up.Objects = append(up.Objects, portrait.Object{Name: a.Name(), Side: a.Width, Data: a.Data, ContentType: a.ContentType})
	}
	return up
}

func handleDeleteImage(log *slog.Logger, images *portrait.Images, urls imageURLs) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := images.Remove(r.Context(), currentUser(r.Context()).ID)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, envelope{urls.user(u)})
	})
}

// received is what an upload's body held: the file, spooled, and the
// values of the crop fields given beside it.
type received struct {
	file *spoolFile
	crop map[string]string
}

// receive streams a multipart/form-data body, spools its one part named
// "file" to a temporary file, positioned at its start, and keeps the crop
// fields. The body is read to its end so that a second "file" part is
// found; other parts are discarded. The filename and Content-Type the
// client gave are ignored. On an error nothing is left spooled.
func receive(w http.ResponseWriter, r *http.Request, lim UploadLimits, sp *spool) (_ *received, err error) {
	mr, err := multipartReader(w, r, lim)
	if err != nil {
		return nil, err
	}
	in := &received{crop: map[string]string{}}
	defer func() {
		if err != nil && in.file != nil {
			in.file.remove()
		}
	}()
	for parts := 1; ; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bodyError(err)
		}
		if parts > lim.MaxParts {
			return nil, portrait.Errorf(portrait.ETOOMANYPARTS, "The request has more than %d parts.", lim.MaxParts)
		}
		if err := receivePart(p, in, lim, sp); err != nil {
			return nil, err
		}
	}
	return in, checkReceived(in.file)
}

// receivePart spools the part into in if it is the file, keeps its value
// if it is a crop field, and discards it otherwise.
func receivePart(p *multipart.Part, in *received, lim UploadLimits, sp *spool) error {
	defer p.Close()
	switch name := p.FormName(); {
	case isCropField(name):
		return readCropField(p, in.crop)
	case name != "file":
		_, err := io.Copy(io.Discard, p)
		return bodyError(err)
	case in.file != nil:
		return portrait.Errorf(portrait.EMULTIPLEFILES, "The request must contain exactly one part named \"file\".")
	}
	tmp, err := sp.create()
	if err != nil {
		return err
	}
	in.file = tmp
	n, err := io.Copy(tmp, io.LimitReader(p, lim.MaxFileBytes+1))
	if err != nil {
		return bodyError(err)
	}
	if n > lim.MaxFileBytes {
		return portrait.Errorf(portrait.EFILETOOLARGE, "The file must not be larger than %d bytes.", lim.MaxFileBytes)
	}
	return nil
}

func checkReceived(f *spoolFile) error {
	if f == nil {
		return portrait.Errorf(portrait.EMISSINGFILE, "The request must contain the image as a part named \"file\".")
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if size == 0 {
		return portrait.Errorf(portrait.EEMPTYFILE, "The file is empty.")
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

func multipartReader(w http.ResponseWriter, r *http.Request, lim UploadLimits) (*boundedParts, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, portrait.Errorf(portrait.ENOTMULTIPART, "The request body must be multipart/form-data with a boundary, the image in a part named \"file\".")
	}
	r.Body = http.MaxBytesReader(w, r.Body, lim.MaxFileBytes+multipartSlack)
	return newBoundedParts(r.Body, params["boundary"]), nil
}

// bodyError turns an error met while reading the body into the client's
// error: too large (413), cut short or malformed (400), or a timeout.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	var timeout interface{ Timeout() bool }
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errSpool):
		return err
	case errors.Is(err, errPartHeaderTooLarge):
		return portrait.Errorf(portrait.EPARTHEADERTOOLARGE, "The headers of a part must not be larger than %d bytes.", maxPartHeaderBytes)
	case errors.As(err, &tooBig):
		return portrait.Errorf(portrait.EFILETOOLARGE, "The request body must not be larger than %d bytes.", tooBig.Limit)
	case errors.As(err, &timeout) && timeout.Timeout():
		return portrait.Errorf(portrait.ETIMEOUT, "The request body was not received in time.")
	default:
		return portrait.Errorf(portrait.EINVALID, "The request body is malformed or was cut short.")
	}
}
