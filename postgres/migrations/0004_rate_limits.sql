-- Rate limits shared by every node: one row per (limiter, key), keyed by
-- the SHA-256 of both so that no email or client address is stored. tat is
-- the "theoretical arrival time" of the generic cell rate algorithm: the
-- key's allowance is full when tat <= now(), and such rows may be deleted.

CREATE TABLE rate_limits (
	key TEXT PRIMARY KEY,
	tat TIMESTAMPTZ NOT NULL
);

CREATE INDEX rate_limits_tat_idx ON rate_limits (tat);
