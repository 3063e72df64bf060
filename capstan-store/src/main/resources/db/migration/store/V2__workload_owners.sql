-- Several Capstan replicas on one database, each with its own local workloads. A replica's heartbeat says it is
-- alive; each local workload names the replica that launched it, so that a new leader elsewhere can tell a workload
-- it cannot see from one that was never launched. Shared by H2 (MODE=PostgreSQL) and PostgreSQL.

CREATE TABLE replicas (
    id          VARCHAR(253)  NOT NULL PRIMARY KEY,
    description VARCHAR(1000) NOT NULL,
    seen_at     TIMESTAMP WITH TIME ZONE NOT NULL
);

-- released_at: the owner stopped the workload, or saw it end, after another replica took the lead.
-- lost_at: when some replica found the workload lost (its owner released it or stopped beating); set once.
CREATE TABLE workload_owners (
    workload_id VARCHAR(253) NOT NULL PRIMARY KEY,
    replica     VARCHAR(253) NOT NULL,
    launched_at TIMESTAMP WITH TIME ZONE NOT NULL,
    released_at TIMESTAMP WITH TIME ZONE,
    lost_at     TIMESTAMP WITH TIME ZONE
);
CREATE INDEX workload_owners_replica ON workload_owners (replica);
