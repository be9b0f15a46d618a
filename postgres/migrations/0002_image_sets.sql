-- Image sets, the upload fence, and the readiness probe.
--
-- A user's image is now an image set: every object one upload wrote, under
-- one key prefix. Images stored before are sets of one, named by their key.
-- An upload is recorded in upload_intents before it writes its objects;
-- its commit consumes the record, and a sweep deletes unreferenced objects
-- only after removing their set's record, so the two can never race.

ALTER TABLE users ADD COLUMN image_set TEXT; -- NULL when the user has no image
UPDATE users SET image_set = image_key;
DROP INDEX users_image_key_idx;
CREATE INDEX users_image_set_idx ON users (image_set);

CREATE TABLE upload_intents (
	image_set  TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX upload_intents_created_at_idx ON upload_intents (created_at, image_set);

-- One row, written by every readiness probe to prove that writes succeed.
CREATE TABLE readiness_probe (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	checked_at TIMESTAMPTZ
);

INSERT INTO readiness_probe (id, checked_at) VALUES (1, NULL);
