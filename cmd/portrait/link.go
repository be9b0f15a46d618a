package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/portraitsvc/portrait"
	phttp "github.com/portraitsvc/portrait/http"
)

// linkFlags are the flags of portrait link.
type linkFlags struct {
	issuer, subject, user     string
	create, remove            bool
	first, last, email, phone string
}

func (f *linkFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.issuer, "issuer", "", "link: the identity's issuer URL, as its tokens' iss claim")
	fs.StringVar(&f.subject, "subject", "", "link: the identity's subject, as its tokens' sub claim")
	fs.StringVar(&f.user, "user", "", "link: the existing user (id, or email of a local account) to link the identity to")
	fs.BoolVar(&f.create, "new", false, "link: create a new user, without password, for the identity (with --first-name, --last-name, --email, --phone-number)")
	fs.BoolVar(&f.remove, "remove", false, "link: remove the identity's link; its user stays")
	fs.StringVar(&f.first, "first-name", "", "link --new: the new user's first name")
	fs.StringVar(&f.last, "last-name", "", "link --new: the new user's last name")
	fs.StringVar(&f.email, "email", "", "link --new: the new user's email, shown only (no login)")
	fs.StringVar(&f.phone, "phone-number", "", "link --new: the new user's phone number, in E.164 form")
}

// link is the operator's path for identities that provisioning refused
// (the email is a local account's) or does not run for (turned off): it
// links an identity to an existing user or to a new one, or removes a
// link, in the database alone (the storage is not opened). It prints
// what it did.
func link(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var f linkFlags
	cfg, err := parseConfig("link", args, getenv, stdout, stderr, f.add)
	if err != nil {
		return err
	}
	id := portrait.Identity{Issuer: f.issuer, Subject: f.subject}
	if id.Issuer == "" || id.Subject == "" {
		return errors.New("link: --issuer and --subject are required")
	}
	if !slices.Contains(commaList(cfg.OIDCIssuer), id.Issuer) {
		fmt.Fprintf(stderr, "warning: %q is not among PORTRAIT_OIDC_ISSUER (%q): its tokens are not accepted\n", id.Issuer, cfg.OIDCIssuer)
	}
	users, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer users.Close()
	switch {
	case f.remove:
		err = users.UnlinkIdentity(ctx, id)
		if err == nil {
			fmt.Fprintf(stdout, "unlinked %s %s\n", id.Issuer, id.Subject)
		}
	case f.create:
		err = linkNew(ctx, users, id, f, stdout)
	case f.user != "":
		err = linkExisting(ctx, users, id, f.user, stdout)
	default:
		err = errors.New("link: want --user <id or email>, --new or --remove")
	}
	return explainLink(ctx, users, id, err)
}

// linkExisting links id to the user named by ref, an id or the email of
// a local account.
func linkExisting(ctx context.Context, users portrait.UserStore, id portrait.Identity, ref string, stdout io.Writer) error {
	u, err := users.UserByID(ctx, ref)
	if portrait.ErrorCode(err) == portrait.ENOTFOUND && strings.Contains(ref, "@") {
		u, err = users.UserByEmail(ctx, ref)
	}
	if err != nil {
		return fmt.Errorf("user %q: %w", ref, err)
	}
	if err := users.LinkIdentity(ctx, id, u.ID); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "linked %s %s to user %s <%s>\n", id.Issuer, id.Subject, u.ID, u.Email)
	return nil
}

// linkNew creates a user for id from the flags, which registration's
// rules must accept as they are.
func linkNew(ctx context.Context, users portrait.UserStore, id portrait.Identity, f linkFlags, stdout io.Writer) error {
	p := portrait.Profile{FirstName: strings.TrimSpace(f.first), LastName: strings.TrimSpace(f.last),
		Email: strings.TrimSpace(f.email), PhoneNumber: f.phone}
	u := phttp.ProviderAccount(p)
	got := portrait.Profile{FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, PhoneNumber: u.PhoneNumber}
	if got != p {
		return fmt.Errorf("link: a name, the email or the phone number is invalid: %+v would be kept as %+v", p, got)
	}
	if err := users.CreateProviderUser(ctx, u, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s <%s> for %s %s\n", u.ID, u.Email, id.Issuer, id.Subject)
	return nil
}

// explainLink turns the store's refusals into operator sentences.
func explainLink(ctx context.Context, users portrait.UserStore, id portrait.Identity, err error) error {
	switch portrait.ErrorCode(err) {
	case portrait.EIDENTITYLINKED:
		other, _ := users.UserByIdentity(ctx, id)
		holder := "another user"
		if other != nil {
			holder = "user " + other.ID
		}
		return fmt.Errorf("link: %s %s is linked to %s already; remove that link first (--remove)", id.Issuer, id.Subject, holder)
	case portrait.EEMAILTAKEN:
		return fmt.Errorf("link: a local account has this email: link the identity to it (--user) instead")
	case portrait.ENOTFOUND:
		return fmt.Errorf("link: %w", err)
	}
	return err
}
