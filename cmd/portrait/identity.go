package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/portraitsvc/portrait/oidc"
)

// addIdentityFlags declares the flags of identity providers and local
// accounts.
func addIdentityFlags(fs *flag.FlagSet, cfg *config) {
	fs.StringVar(&cfg.OIDCIssuer, "oidc-issuer", "", "comma-separated issuer URLs of OpenID providers whose access tokens are accepted beside Portrait's own, exactly as their iss claim (https; http on loopback only)")
	fs.StringVar(&cfg.OIDCAudience, "oidc-audience", "", "the aud that provider tokens must name: Portrait's API identifier at the providers (required with --oidc-issuer)")
	fs.BoolVar(&cfg.OIDCProvision, "oidc-provision", true, "make an account for a provider user on its first request (false: 403 identity_not_linked until 'portrait link')")
	fs.DurationVar(&cfg.OIDCTimeout, "oidc-timeout", oidc.DefaultTimeout, "deadline of each call to a provider: discovery, keys, userinfo (503 after it)")
	fs.BoolVar(&cfg.LocalAccounts, "local-accounts", true, "Portrait's own accounts: register, login, logout, password (false: 403 local_accounts_disabled, only provider tokens)")
}

// openProviders sets a.providers, which a.close closes, to the verifier
// of the configured providers, each discovered once now (one that does
// not answer is logged, its tokens answered 503 until it does). It
// refuses a configuration that no user could sign in with.
func (a *app) openProviders(ctx context.Context) error {
	cfg := a.cfg
	issuers := commaList(cfg.OIDCIssuer)
	switch {
	case len(issuers) == 0 && !cfg.LocalAccounts:
		return errors.New("PORTRAIT_LOCAL_ACCOUNTS=false needs PORTRAIT_OIDC_ISSUER: nobody could sign in")
	case len(issuers) == 0:
		return nil
	case cfg.OIDCAudience == "":
		return errors.New("PORTRAIT_OIDC_AUDIENCE is required with PORTRAIT_OIDC_ISSUER: the aud that tokens meant for Portrait carry")
	}
	v, err := oidc.New(oidc.Config{Issuers: issuers, Audience: cfg.OIDCAudience, Timeout: cfg.OIDCTimeout, Log: a.log})
	if err != nil {
		return fmt.Errorf("PORTRAIT_OIDC_ISSUER: %w", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 3*cfg.OIDCTimeout)
	defer cancel()
	if err := v.Start(startCtx); err != nil {
		v.Close()
		return fmt.Errorf("PORTRAIT_OIDC_ISSUER: %w", err)
	}
	a.providers = v
	a.log.Info("identity providers", "issuers", issuers, "audience", cfg.OIDCAudience,
		"provision", cfg.OIDCProvision, "local_accounts", cfg.LocalAccounts)
	return nil
}
