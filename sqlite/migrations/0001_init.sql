-- Users and the images waiting to be deleted from the bucket.
-- Times are TEXT in UTC, fixed width with microseconds
-- (2006-01-02T15:04:05.000000Z), so that they sort as they compare.

CREATE TABLE users (
	id               TEXT NOT NULL PRIMARY KEY,
	first_name       TEXT NOT NULL,
	last_name        TEXT NOT NULL,
	email            TEXT NOT NULL,
	email_normalized TEXT NOT NULL UNIQUE,
	phone_number     TEXT NOT NULL,
	password_hash    TEXT NOT NULL,
	token_version    INTEGER NOT NULL DEFAULT 0,
	image_key        TEXT, -- NULL when the user has no image
	created_at       TEXT NOT NULL,
	updated_at       TEXT NOT NULL
) STRICT;

CREATE INDEX users_image_key_idx ON users (image_key);

CREATE TABLE pending_deletions (
	key        TEXT NOT NULL PRIMARY KEY,
	created_at TEXT NOT NULL
) STRICT;

CREATE INDEX pending_deletions_created_at_idx ON pending_deletions (created_at, key);
