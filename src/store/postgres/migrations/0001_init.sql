-- The gateway's tables (version 1). Records are the JSON the embedded store keeps too, as
-- text; what the rules look up has a column and an index of its own.

-- Every accepted report, by its submitter and id, with the exact receipt bytes first sent.
CREATE TABLE reports (
    member      text    NOT NULL,
    report_id   text    NOT NULL,
    record      text    NOT NULL,
    receipt     bytea   NOT NULL,
    PRIMARY KEY (member, report_id)
);

-- Every item, with its routing, status and history; closed_at once it is final (retention).
CREATE TABLE items (
    item_id     text        PRIMARY KEY,
    record      text        NOT NULL,
    closed_at   timestamptz
);
CREATE INDEX items_closed_at ON items (closed_at) WHERE closed_at IS NOT NULL;

-- The open item at a normalised URL hosted in a country ('' for none): the duplicate rule.
CREATE TABLE open_urls (
    url         text    NOT NULL,
    country     text    NOT NULL,
    item_id     text    NOT NULL,
    PRIMARY KEY (url, country)
);

-- The receipt bytes of each status change, by the item's history index.
CREATE TABLE status_receipts (
    item_id     text    NOT NULL,
    idx         integer NOT NULL,
    receipt     bytea   NOT NULL,
    PRIMARY KEY (item_id, idx)
);

-- Each member's inbox: its last cursor and the last one acknowledged, then the entries.
CREATE TABLE inbox_heads (
    member      text    PRIMARY KEY,
    head        bigint  NOT NULL DEFAULT 0,
    acked       bigint  NOT NULL DEFAULT 0
);
CREATE TABLE inbox (
    member      text    NOT NULL,
    cursor      bigint  NOT NULL,
    item_id     text    NOT NULL,
    entry       text    NOT NULL,
    PRIMARY KEY (member, cursor)
);
CREATE INDEX inbox_item_id ON inbox (item_id);

-- Where push delivery to each member stands, and which gateway pushes to it now.
CREATE TABLE push_state (
    member      text    PRIMARY KEY,
    state       text    NOT NULL
);
CREATE TABLE leases (
    name        text        PRIMARY KEY,
    holder      text        NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- The audit hash chain and its head (one row).
CREATE TABLE audit (
    seq         bigint  PRIMARY KEY,
    event       bytea   NOT NULL
);
CREATE TABLE audit_head (
    id          integer PRIMARY KEY CHECK (id = 1),
    seq         bigint  NOT NULL,
    hash        text    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Statistics counters, moved in the transaction of the change they count.
CREATE TABLE counters (
    name        text    PRIMARY KEY,
    n           bigint  NOT NULL
);

-- Every receipt key any gateway ever signed with.
CREATE TABLE keys (
    kid         text    PRIMARY KEY,
    jwk         text    NOT NULL
);
