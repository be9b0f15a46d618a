package http

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/portraitsvc/portrait"
	"github.com/portraitsvc/portrait/web"
)

// router is where addRoutes registers its routes: an *http.ServeMux, or a
// test's recorder of the patterns.
type router interface {
	Handle(pattern string, handler http.Handler)
}

// addRoutes registers every route of the API and the middleware on it.
// Each path also gets a method-less pattern so that a wrong method is
// answered 405 as a problem document, and "/" answers 404 likewise.
// It fails only on a public or image base URL that is not http(s).
func addRoutes(mux router, cfg Config, dummyHash string) error {
	urls := imageURLs{base: strings.TrimRight(cfg.ImageBaseURL, "/"), api: strings.TrimRight(cfg.PublicURL, "/")}
	auth, local := authMiddleware(cfg) // local: for local accounts only, outside auth and inside
	addAccountRoutes(mux, cfg, dummyHash, urls, auth, local)
	addImageRoutes(mux, cfg, urls, auth)
	addOperationRoutes(mux, cfg.Log, cfg.Checks)
	site, err := web.New(cfg.PublicURL, cfg.ImageBaseURL) // the page to try the API in a browser
	if err != nil {
		return err
	}
	mux.Handle("GET /{$}", site.Page())
	mux.Handle("/{$}", methodNotAllowed(cfg.Log, "GET", "HEAD"))
	mux.Handle("GET /assets/{name}", site.Assets(notFound(cfg.Log)))
	mux.Handle("/", notFound(cfg.Log))
	return nil
}

// addAccountRoutes registers registration, login, logout, password change
// and the current user, with their rate limits.
func addAccountRoutes(mux router, cfg Config, dummyHash string, urls imageURLs, auth, local func(http.Handler) http.Handler) {
	log, limits := cfg.Log, cfg.rateLimits()
	throttle := newLoginThrottle(limits, cfg.LoginPerMinute)
	registrations := newLimiter(limits, "register", cfg.RegisterPerMinute)
	passwordFailures := newLimiter(limits, "password", cfg.LoginPerMinute)

	mux.Handle("POST /auth/register", local(handleRegister(log, cfg.Users, cfg.Passwords, registrations, urls)))
	mux.Handle("/auth/register", methodNotAllowed(log, "POST"))
	mux.Handle("POST /auth/login", local(handleLogin(log, cfg.Users, cfg.Passwords, cfg.Tokens, dummyHash, throttle, urls)))
	mux.Handle("/auth/login", methodNotAllowed(log, "POST"))
	mux.Handle("POST /auth/logout", local(auth(local(handleLogout(log, cfg.Users)))))
	mux.Handle("/auth/logout", methodNotAllowed(log, "POST"))
	mux.Handle("POST /auth/password", local(auth(local(handleChangePassword(log, cfg.Users, cfg.Passwords, passwordFailures)))))
	mux.Handle("/auth/password", methodNotAllowed(log, "POST"))
	mux.Handle("GET /users/me", auth(handleMe(urls)))
	mux.Handle("/users/me", methodNotAllowed(log, "GET"))
}

// addImageRoutes registers the contract's upload, the removal of the
// image, the stable picture URL and the images themselves.
func addImageRoutes(mux router, cfg Config, urls imageURLs, auth func(http.Handler) http.Handler) {
	log := cfg.Log
	uploads := newLimiter(cfg.rateLimits(), "upload", cfg.UploadPerMinute)
	mux.Handle("PATCH /users/image/upload", auth(handleUpload(log, cfg.Images, cfg.Avatars, uploads, urls, cfg.Upload)))
	mux.Handle("/users/image/upload", methodNotAllowed(log, "PATCH"))
	mux.Handle("DELETE /users/image", auth(handleDeleteImage(log, cfg.Images, urls)))
	mux.Handle("/users/image", methodNotAllowed(log, "DELETE"))
	mux.Handle("GET /users/{id}/image", handlePicture(log, cfg.Users, urls))
	mux.Handle("/users/{id}/image", methodNotAllowed(log, "GET", "HEAD"))
	mux.Handle("GET /profileImages/{key...}", handleImage(log, cfg.Bucket))
	mux.Handle("/profileImages/", methodNotAllowed(log, "GET", "HEAD"))
}

// addOperationRoutes registers what orchestrators and tools read:
// liveness, readiness and the OpenAPI document.
func addOperationRoutes(mux router, log *slog.Logger, checks []Check) {
	ready := handleReady(log, checks)
	mux.Handle("GET /livez", handleLive())
	mux.Handle("/livez", methodNotAllowed(log, "GET", "HEAD"))
	mux.Handle("GET /readyz", ready)
	mux.Handle("/readyz", methodNotAllowed(log, "GET", "HEAD"))
	mux.Handle("GET /healthz", ready)
	mux.Handle("/healthz", methodNotAllowed(log, "GET", "HEAD"))
	mux.Handle("GET /openapi.json", handleOpenAPI())
	mux.Handle("/openapi.json", methodNotAllowed(log, "GET", "HEAD"))
}

// rateLimits returns where the rate limits are counted: RateLimits, or
// this node's memory.
func (cfg Config) rateLimits() portrait.RateLimits {
	if cfg.RateLimits == nil {
		return memoryLimits
	}
	return cfg.RateLimits
}
