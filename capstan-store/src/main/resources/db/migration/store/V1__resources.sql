-- Resources, their change feed and the leader lease. Shared by H2 (MODE=PostgreSQL) and PostgreSQL, so: no
-- RETURNING, no ON CONFLICT, no jsonb (JSON is stored as text).

-- One row: the global resourceVersion counter. Every write transaction increments it first, which takes the row
-- lock and so serialises writers: commit order equals version order and the feed never shows a gap that fills in
-- later. compacted_through is the highest version whose events were dropped; older watch positions must re-list.
CREATE TABLE store_version (
    id                INTEGER PRIMARY KEY,
    v                 BIGINT  NOT NULL,
    compacted_through BIGINT  NOT NULL
);
INSERT INTO store_version (id, v, compacted_through) VALUES (1, 0, 0);

CREATE TABLE resources (
    kind             VARCHAR(253) NOT NULL,
    namespace        VARCHAR(253) NOT NULL,
    name             VARCHAR(253) NOT NULL,
    uid              VARCHAR(64)  NOT NULL,
    resource_version BIGINT       NOT NULL,
    generation       BIGINT       NOT NULL,
    labels           TEXT         NOT NULL,
    body             TEXT         NOT NULL,
    created_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (kind, namespace, name)
);
CREATE UNIQUE INDEX resources_uid ON resources (uid);

CREATE TABLE resource_events (
    version     BIGINT       NOT NULL PRIMARY KEY,
    event_type  VARCHAR(16)  NOT NULL,
    kind        VARCHAR(253) NOT NULL,
    namespace   VARCHAR(253) NOT NULL,
    name        VARCHAR(253) NOT NULL,
    labels      TEXT         NOT NULL,
    body        TEXT         NOT NULL,
    recorded_at TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX resource_events_kind ON resource_events (kind, version);

CREATE TABLE leader_lease (
    name        VARCHAR(253) NOT NULL PRIMARY KEY,
    holder      VARCHAR(253) NOT NULL,
    acquired_at TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
