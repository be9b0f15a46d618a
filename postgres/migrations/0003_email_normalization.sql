-- Emails are compared under a stated Unicode rule (RFC 8265 PRECIS for the
-- local part, IDNA for the domain; portrait.NormalizeEmail) instead of
-- lower-casing. The Go step of this migration (renormalizeEmails)
-- recomputes every users.email_normalized. Accounts whose addresses become
-- one (e.g. "josé" in NFC and in NFD) cannot all keep it: the oldest does;
-- each newer one is parked (email_normalized ' conflict:<id>', which no
-- address normalises to) and listed here for an operator to resolve. A
-- parked account keeps its data, image and sessions.

CREATE TABLE email_conflicts (
	user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	email      TEXT NOT NULL,
	kept_by    TEXT NOT NULL, -- the older account that kept the address
	created_at TIMESTAMPTZ NOT NULL
);
