package oidc

import (
	"context"
	"net/http"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/portraitsvc/portrait"
)

// Profile returns the profile that t's claims hold or, for a bare token,
// the one its provider's userinfo endpoint answers. Answers are cached by
// identity (at most userinfoEntries, for userinfoTTL), and concurrent
// calls for one identity share one request. It returns EUNAVAILABLE if
// the provider could not answer, EINVALIDTOKEN if it refused t or
// described another subject.
func (v *Verifier) Profile(ctx context.Context, t *portrait.ProviderToken) (portrait.Profile, error) {
	if !t.Profile.Empty() {
		return t.Profile, nil
	}
	if p, ok := v.userinfo.Get(t.Identity); ok {
		return p, nil
	}
	pr := v.providers[t.Identity.Issuer]
	if pr == nil {
		return portrait.Profile{}, invalidToken()
	}
	d, err := pr.ready(ctx)
	if err != nil || d.op.UserInfoEndpoint() == "" {
		return portrait.Profile{}, err
	}
	ch := v.flights.DoChan(t.Identity.Issuer+"\x00"+t.Identity.Subject, func() (any, error) { return v.fetchUserinfo(d, t) })
	select {
	case <-ctx.Done():
		return portrait.Profile{}, ctx.Err()
	case r := <-ch:
		p, _ := r.Val.(portrait.Profile)
		return p, r.Err
	}
}

// fetchUserinfo asks the provider about t's user, apart from any request,
// and caches the answer.
func (v *Verifier) fetchUserinfo(d *discovered, t *portrait.ProviderToken) (portrait.Profile, error) {
	ctx, cancel := context.WithTimeout(v.life, v.cfg.Timeout)
	defer cancel()
	var status int
	ctx = gooidc.ClientContext(context.WithValue(ctx, statusKey{}, &status), v.client)
	info, err := d.op.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: t.Raw}))
	switch {
	case err != nil && (status == http.StatusUnauthorized || status == http.StatusForbidden):
		return portrait.Profile{}, portrait.Errorf(portrait.EINVALIDTOKEN, "The identity provider refused this token at its userinfo endpoint.")
	case err != nil:
		return portrait.Profile{}, portrait.Unavailable("identity provider", err)
	case info.Subject != t.Identity.Subject:
		return portrait.Profile{}, portrait.Errorf(portrait.EINVALIDTOKEN, "The identity provider's userinfo describes another user.")
	}
	var c profileClaims
	if err := info.Claims(&c); err != nil {
		return portrait.Profile{}, portrait.Unavailable("identity provider", err)
	}
	p := c.profile()
	v.userinfo.Add(t.Identity, p)
	return p, nil
}
