-- Users and the images waiting to be deleted from the bucket.

CREATE TABLE users (
	id               TEXT PRIMARY KEY,
	first_name       TEXT NOT NULL,
	last_name        TEXT NOT NULL,
	email            TEXT NOT NULL,
	email_normalized TEXT NOT NULL CONSTRAINT users_email_normalized_key UNIQUE,
	phone_number     TEXT NOT NULL,
	password_hash    TEXT NOT NULL,
	token_version    BIGINT NOT NULL DEFAULT 0,
	image_key        TEXT, -- NULL when the user has no image
	created_at       TIMESTAMPTZ NOT NULL,
	updated_at       TIMESTAMPTZ NOT NULL
);

CREATE INDEX users_image_key_idx ON users (image_key);

CREATE TABLE pending_deletions (
	key        TEXT PRIMARY KEY,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX pending_deletions_created_at_idx ON pending_deletions (created_at, key);
