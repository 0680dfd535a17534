-- The audit log's Merkle tree (version 2): every complete subtree's hash, leaves (level 0)
-- included, and the tree's frontier beside the chain's head. Both are written in the
-- transaction that appends an event. A database migrated from version 1 has events and no
-- tree yet: the gateway builds it when it starts (or `hotline-gateway migrate` does), under
-- the head's lock, before anything else writes.
CREATE TABLE audit_tree (
    level       smallint    NOT NULL,
    idx         bigint      NOT NULL,
    hash        bytea       NOT NULL,
    PRIMARY KEY (level, idx)
);
ALTER TABLE audit_head ADD COLUMN tree text NOT NULL DEFAULT '{"size":0,"frontier":[]}';
