-- Users of identity providers (PORTRAIT_OIDC_ISSUER). A provider user is
-- linked to one account by (issuer, subject), never by email. An account
-- made for a provider user on its first request has no password
-- (password_hash '') and ' identity:<id>' as its email_normalized, which
-- no address normalises to (portrait.ProviderEmail): the address it shows
-- is no password login and takes no place among the unique addresses. An
-- operator may also link an identity to an existing account (portrait
-- link), which then keeps its own address and password.

CREATE TABLE identities (
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (issuer, subject)
);

CREATE INDEX identities_user_id_idx ON identities (user_id);
