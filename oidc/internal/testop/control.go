package main

import (
	"encoding/json"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// addControl adds the tests' endpoints:
//
//	POST /test/users   register a user (a JSON user)
//	POST /test/rotate  sign with a new key from now on (?retire=1: publish only it)
//	POST /test/mint    sign a JSON object of claims with the signing key
//	GET  /test/hits    requests received so far, by path
func addControl(mux *http.ServeMux, s *storage) {
	mux.HandleFunc("POST /test/users", func(w http.ResponseWriter, r *http.Request) {
		var u user
		if err := json.NewDecoder(r.Body).Decode(&u); err != nil || u.Subject == "" {
			http.Error(w, "want a JSON user with a sub", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.Users[u.Subject] = &u
		err := s.save()
		s.mu.Unlock()
		answer(w, err, nil)
	})
	mux.HandleFunc("POST /test/rotate", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		err := s.rotate(r.URL.Query().Get("retire") == "1")
		kid := s.Keys[0].KID
		s.mu.Unlock()
		answer(w, err, map[string]string{"kid": kid})
	})
	mux.HandleFunc("POST /test/mint", func(w http.ResponseWriter, r *http.Request) {
		claims := map[string]any{}
		if err := json.NewDecoder(r.Body).Decode(&claims); err != nil {
			http.Error(w, "want a JSON object of claims", http.StatusBadRequest)
			return
		}
		token, err := s.mint(claims)
		answer(w, err, map[string]string{"token": token})
	})
	mux.HandleFunc("GET /test/hits", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		answer(w, nil, s.hits)
	})
}

// mint signs claims with the signing key, as the token endpoint would.
func (s *storage) mint(claims map[string]any) (string, error) {
	s.mu.Lock()
	key := s.Keys[0]
	s.mu.Unlock()
	signer, err := op.SignerFromKey(key)
	if err != nil {
		return "", err
	}
	return crypto.Sign(claims, signer)
}

func answer(w http.ResponseWriter, err error, v any) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
