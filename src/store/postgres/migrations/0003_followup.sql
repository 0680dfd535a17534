-- Version 3: the follow-up of notices.

-- Items whose notice follow-up (a notice again, an escalation) is due at due_at.
CREATE TABLE follow_ups (
    item_id     text        PRIMARY KEY,
    due_at      timestamptz NOT NULL
);
CREATE INDEX follow_ups_due_at ON follow_ups (due_at);

-- The e-mail of a notice waiting to be sent to a provider outside the network (one per item:
-- a later notice replaces it).
CREATE TABLE outbox (
    item_id     text        PRIMARY KEY,
    job         text        NOT NULL,
    retry_at    timestamptz NOT NULL
);
CREATE INDEX outbox_retry_at ON outbox (retry_at);

-- Confirmation links' tokens, by their SHA-256 only.
CREATE TABLE notice_tokens (
    hash        bytea       PRIMARY KEY,
    token       text        NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX notice_tokens_expires_at ON notice_tokens (expires_at);
