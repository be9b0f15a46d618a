package http

import (
	"context"
	"log/slog"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/argon2id"
	"github.com/portraitsvc/portrait/jwt"
)

// userJSON is the contract's user object: exactly these six fields.
type userJSON struct {
	ID           string  `json:"id"`
	FirstName    string  `json:"first_name"`
	LastName     string  `json:"last_name"`
	Email        string  `json:"email"`
	PhoneNumber  string  `json:"phone_number"`
	ProfileImage *string `json:"profile_image"`
}

// imageURLs turns bucket keys into the absolute URLs clients fetch, and
// users into their stable picture URL.
type imageURLs struct {
	base string // of images, no trailing slash: this server's public URL, or a CDN's
	api  string // of this API, no trailing slash
}

// user returns the contract's six fields of usr.
func (u imageURLs) user(usr *portrait.User) userJSON {
	j := userJSON{ID: usr.ID, FirstName: usr.FirstName, LastName: usr.LastName, Email: usr.Email, PhoneNumber: usr.PhoneNumber}
	if usr.Image.Key != "" {
		url := u.base + "/" + usr.Image.Key
		j.ProfileImage = &url
	}
	return j
}

// profileJSON is a user as GET /users/me and login show it: the contract's
// six fields, and for a user with a picture, what a front-end needs to show
// it. A user without one has exactly the contract's six fields; the stable
// URL, /users/{id}/image, then answers the default picture.
type profileJSON struct {
	userJSON
	Image *pictureJSON `json:"image,omitempty"`
}

// pictureJSON is a user's picture: its stable URL, every stored size and
// format, and what to show while they load.
type pictureJSON struct {
	URL         string        `json:"url"`
	Variants    []variantJSON `json:"variants"`
	Placeholder *string       `json:"placeholder"`
	Color       *string       `json:"color"`
}

type variantJSON struct {
	Size int    `json:"size"`
	Type string `json:"type"`
	URL  string `json:"url"`
}

// profile returns usr as profileJSON.
func (u imageURLs) profile(usr *portrait.User) profileJSON {
	img := usr.Image
	if img.Key == "" {
		return profileJSON{userJSON: u.user(usr)}
	}
	p := &pictureJSON{URL: u.api + "/users/" + usr.ID + "/image", Variants: []variantJSON{},
		Placeholder: nonEmpty(img.Placeholder), Color: nonEmpty(img.Color)}
	for _, v := range img.Variants {
		p.Variants = append(p.Variants, variantJSON{Size: v.Side, Type: v.ContentType, URL: u.base + "/" + img.KeyOf(v)})
	}
	return profileJSON{userJSON: u.user(usr), Image: p}
}

// nonEmpty returns &s, or nil for "".
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type registerRequest struct {
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phone_number"`
	Password    string `json:"password"`
}

// Password bounds: OWASP's minimum length, and a byte cap so that nothing
// is ever silently truncated and hashing cost stays bounded.
const (
	minPasswordChars = 8
	maxPasswordBytes = 1024
	maxNameChars     = 100
	maxEmailBytes    = 254
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// nameRule says what cleanName accepts.
const nameRule = "must be 1 to 100 characters, some of them visible, without control or bidi-override characters"

// validate trims the names and email, puts the names in NFC, and returns
// a validation error that lists every invalid field, or nil.
func (req *registerRequest) validate() error {
	var fields []fieldError
	bad := func(field, msg string) { fields = append(fields, fieldError{field, msg}) }
	var ok bool
	if req.FirstName, ok = cleanName(req.FirstName); !ok {
		bad("first_name", nameRule)
	}
	if req.LastName, ok = cleanName(req.LastName); !ok {
		bad("last_name", nameRule)
	}
	req.Email = strings.TrimSpace(req.Email)
	if !validEmail(req.Email) {
		bad("email", "must be an email address such as name@example.com")
	} else if err := portrait.CheckEmail(req.Email); err != nil {
		bad("email", err.Error())
	} else {
		req.Email = portrait.DisplayEmail(req.Email)
	}
	if !e164.MatchString(req.PhoneNumber) {
		bad("phone_number", "must be in E.164 form: + and 7 to 15 digits, such as +15551234567")
	}
	if !validPassword(req.Password) {
		bad("password", passwordRule)
	}
	return invalidFields(fields)
}

// passwordRule says what validPassword accepts.
const passwordRule = "must be at least 8 characters and at most 1024 bytes"

func validPassword(pw string) bool {
	return utf8.RuneCountInString(pw) >= minPasswordChars && len(pw) <= maxPasswordBytes
}

// invalidFields returns the EVALIDATION error listing fields, or nil if
// there are none.
func invalidFields(fields []fieldError) error {
	if len(fields) == 0 {
		return nil
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Field
	}
	return &validationError{err: portrait.Errorf(portrait.EVALIDATION, "Some fields are invalid: %s.", strings.Join(names, ", ")), Fields: fields}
}

// validEmail accepts a bare addr-spec with a dotted domain, nothing else
// (no display name, no angle brackets, no comments).
func validEmail(s string) bool {
	if len(s) > maxEmailBytes {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

// handleRegister creates an account. Every valid attempt (one that would
// cost a password hash) counts against the client address's allowance of
// registrations; a form sent back with a typo does not.
func handleRegister(log *slog.Logger, users portrait.UserStore, passwords *argon2id.Hasher, limit portrait.RateLimiter, urls imageURLs) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req registerRequest
		if err := decodeJSON(w, r, &req); err != nil {
			writeError(w, r, log, err)
			return
		}
		if err := req.validate(); err != nil {
			writeError(w, r, log, err)
			return
		}
		if err := admitOne(r.Context(), limit, clientAddr(r), "registrations"); err != nil {
			writeError(w, r, log, err)
			return
		}
		hash, err := passwords.Hash(r.Context(), req.Password)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		u := &portrait.User{ID: newUserID(), FirstName: req.FirstName, LastName: req.LastName,
			Email: req.Email, PhoneNumber: req.PhoneNumber, PasswordHash: hash}
		if err := users.CreateUser(r.Context(), u); err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusCreated, envelope{urls.user(u)})
	})
}

// newUserID returns a time-ordered UUID (v7), which keeps index inserts local.
func newUserID() string {
	return uuid.Must(uuid.NewV7()).String()
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	AccessToken string      `json:"access_token"`
	TokenType   string      `json:"token_type"`
	ExpiresIn   int64       `json:"expires_in"`
	User        profileJSON `json:"user"`
}

func handleLogin(log *slog.Logger, users portrait.UserStore, passwords *argon2id.Hasher, tokens *jwt.Issuer, dummyHash string, throttle *loginThrottle, urls imageURLs) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req loginRequest
		if err := decodeJSON(w, r, &req); err != nil {
			writeError(w, r, log, err)
			return
		}
		if err := throttle.admit(r, req.Email); err != nil {
			writeError(w, r, log, err)
			return
		}
		u, weak, err := authenticate(r.Context(), users, passwords, dummyHash, req)
		if portrait.ErrorCode(err) == portrait.EINVALIDCREDENTIALS {
			if ferr := throttle.failed(r, req.Email); ferr != nil {
				err = ferr
			}
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if weak {
			rehash(r.Context(), log, users, passwords, u, req.Password)
		}
		tok, err := tokens.Issue(u.ID, u.TokenVersion)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		writeJSON(w, http.StatusOK, envelope{loginResponse{AccessToken: tok, TokenType: "Bearer",
			ExpiresIn: int64(tokens.TTL().Seconds()), User: urls.profile(u)}})
	})
}

// authenticate returns the user whose email and password match, and
// whether the stored hash is weaker than today's parameters. An unknown
// email and a wrong password fail alike, EINVALIDCREDENTIALS, after the
// same Argon2id work (against dummyHash for an unknown email).
func authenticate(ctx context.Context, users portrait.UserStore, passwords *argon2id.Hasher, dummyHash string, req loginRequest) (*portrait.User, bool, error) {
	invalid := portrait.Errorf(portrait.EINVALIDCREDENTIALS, "The email or password is incorrect.")
	if len(req.Password) > maxPasswordBytes || len(req.Email) > maxEmailBytes {
		return nil, false, invalid
	}
	u, err := users.UserByEmail(ctx, req.Email)
	hash := dummyHash
	switch {
	case err == nil:
		hash = u.PasswordHash
	case portrait.ErrorCode(err) != portrait.ENOTFOUND:
		return nil, false, err
	}
	ok, weak, verr := passwords.Verify(ctx, req.Password, hash)
	if verr != nil {
		return nil, false, verr
	}
	if u == nil || !ok {
		return nil, false, invalid
	}
	return u, weak, nil
}

// rehash replaces u's weaker password hash by one made with today's
// parameters, unless the hash changed meanwhile; the user's tokens stay
// valid. A failure is logged, not returned: the login itself succeeded.
func rehash(ctx context.Context, log *slog.Logger, users portrait.UserStore, passwords *argon2id.Hasher, u *portrait.User, password string) {
	hash, err := passwords.Hash(ctx, password)
	if err == nil {
		var ok bool
		if ok, err = users.RehashPassword(ctx, u.ID, u.PasswordHash, hash); ok {
			u.PasswordHash = hash
		}
	}
	if err != nil {
		log.Warn("password rehash failed", "request_id", requestID(ctx), "user_id", u.ID, "err", err)
	}
}

func handleMe(urls imageURLs) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, envelope{urls.profile(currentUser(r.Context()))})
	})
}

// handleLogout revokes every token of the user, the one used included.
func handleLogout(log *slog.Logger, users portrait.UserStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := users.RevokeTokens(r.Context(), currentUser(r.Context()).ID); err != nil {
			writeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// handleChangePassword replaces the user's password after checking the
// current one, and revokes every token of the user, the one used included.
// Wrong current passwords are counted per user, like failed logins, so a
// stolen token cannot be used to guess the password.
func handleChangePassword(log *slog.Logger, users portrait.UserStore, passwords *argon2id.Hasher, failures portrait.RateLimiter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req passwordRequest
		if err := decodeJSON(w, r, &req); err != nil {
			writeError(w, r, log, err)
			return
		}
		if err := changePassword(r.Context(), users, passwords, failures, currentUser(r.Context()), req); err != nil {
			writeError(w, r, log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func changePassword(ctx context.Context, users portrait.UserStore, passwords *argon2id.Hasher, failures portrait.RateLimiter, u *portrait.User, req passwordRequest) error {
	if !validPassword(req.NewPassword) {
		return invalidFields([]fieldError{{"new_password", passwordRule}})
	}
	if err := checkAllowance(ctx, failures, u.ID, "password attempts"); err != nil {
		return err
	}
	ok, _, err := passwords.Verify(ctx, req.CurrentPassword, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		if err := failures.Spend(ctx, u.ID); err != nil {
			return err
		}
		return portrait.Errorf(portrait.EINVALIDCREDENTIALS, "The current password is incorrect.")
	}
	hash, err := passwords.Hash(ctx, req.NewPassword)
	if err != nil {
		return err
	}
	_, err = users.SetPassword(ctx, u.ID, hash)
	return err
}
