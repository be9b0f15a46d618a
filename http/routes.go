package http

import (
	"net/http"
	"strings"
)

// router is where addRoutes registers its routes: an *http.ServeMux, or a
// test's recorder of the patterns.
type router interface {
	Handle(pattern string, handler http.Handler)
}

// addRoutes registers every route of the API and the middleware on it.
// Each path also gets a method-less pattern so that a wrong method is
// answered 405 as a problem document, and "/" answers 404 likewise.
func addRoutes(mux router, cfg Config, dummyHash string) {
	log := cfg.Log
	urls := imageURLs{base: strings.TrimRight(cfg.ImageBaseURL, "/")}
	limits := cfg.RateLimits
	if limits == nil {
		limits = memoryLimits
	}
	throttle := newLoginThrottle(limits, cfg.LoginPerMinute)
	uploads := newLimiter(limits, "upload", cfg.UploadPerMinute)
	registrations := newLimiter(limits, "register", cfg.RegisterPerMinute)
	passwordFailures := newLimiter(limits, "password", cfg.LoginPerMinute)
	auth := func(h http.Handler) http.Handler { return requireUser(log, cfg.Users, cfg.Tokens, h) }

	mux.Handle("POST /auth/register", handleRegister(log, cfg.Users, cfg.Passwords, registrations, urls))
	mux.Handle("/auth/register", methodNotAllowed(log, "POST"))
	mux.Handle("POST /auth/login", handleLogin(log, cfg.Users, cfg.Passwords, cfg.Tokens, dummyHash, throttle, urls))
	mux.Handle("/auth/login", methodNotAllowed(log, "POST"))
	mux.Handle("POST /auth/logout", auth(handleLogout(log, cfg.Users)))
	mux.Handle("/auth/logout", methodNotAllowed(log, "POST"))
	mux.Handle("POST /auth/password", auth(handleChangePassword(log, cfg.Users, cfg.Passwords, passwordFailures)))
	mux.Handle("/auth/password", methodNotAllowed(log, "POST"))

	mux.Handle("GET /users/me", auth(handleMe(urls)))
	mux.Handle("/users/me", methodNotAllowed(log, "GET"))
	mux.Handle("PATCH /users/image/upload", auth(handleUpload(log, cfg.Images, cfg.Avatars, uploads, urls, cfg.Upload)))
	mux.Handle("/users/image/upload", methodNotAllowed(log, "PATCH"))
	mux.Handle("DELETE /users/image", auth(handleDeleteImage(log, cfg.Images, urls)))
	mux.Handle("/users/image", methodNotAllowed(log, "DELETE"))

	mux.Handle("GET /profileImages/{key...}", handleImage(log, cfg.Bucket))
	mux.Handle("/profileImages/", methodNotAllowed(log, "GET", "HEAD"))

	ready := handleReady(log, cfg.Checks)
	mux.Handle("GET /livez", handleLive())
	mux.Handle("/livez", methodNotAllowed(log, "GET", "HEAD"))
	mux.Handle("GET /readyz", ready)
	mux.Handle("/readyz", methodNotAllowed(log, "GET", "HEAD"))
	mux.Handle("GET /healthz", ready)
	mux.Handle("/healthz", methodNotAllowed(log, "GET", "HEAD"))
	mux.Handle("GET /openapi.json", handleOpenAPI())
	mux.Handle("/openapi.json", methodNotAllowed(log, "GET", "HEAD"))
	mux.Handle("/", notFound(log))
}
