-- The lineage walk: one recursive CTE over md_event. A row is a node (kind 0 = artifact, 1 = execution) reached
-- after some number of hops; each step follows one event. SELECT DISTINCT keeps each hop's frontier a set (H2, unlike
-- PostgreSQL, does not deduplicate a recursive UNION's working table), so a node is expanded at most once per
-- distance and the walk ends after :maxHops steps even on cyclic graphs.
-- :up follows artifact -> producing execution (output events) and execution -> its inputs;
-- :down follows artifact -> consuming execution (input events) and execution -> its outputs; both set = any event.
-- Each LEFT JOIN only matches rows of its kind, so every step is an index lookup on
-- md_event (artifact_id, type, execution_id) or (execution_id, type, artifact_id). The seeds CAST the ids because
-- H2 loses the element type of an array parameter in a UNION otherwise.
WITH RECURSIVE walk (kind, id, hops) AS (
    SELECT 0, CAST(a.id AS BIGINT), 0 FROM UNNEST(:artifactIds) AS a(id)
    UNION
    SELECT 1, CAST(x.id AS BIGINT), 0 FROM UNNEST(:executionIds) AS x(id)
    UNION
    SELECT DISTINCT 1 - w.kind, COALESCE(from_artifact.execution_id, from_execution.artifact_id), w.hops + 1
    FROM walk w
    LEFT JOIN md_event from_artifact
           ON w.kind = 0 AND from_artifact.artifact_id = w.id
          AND ((:up AND from_artifact.type IN ('OUTPUT', 'DECLARED_OUTPUT', 'INTERNAL_OUTPUT', 'PENDING_OUTPUT'))
            OR (:down AND from_artifact.type IN ('INPUT', 'DECLARED_INPUT', 'INTERNAL_INPUT')))
    LEFT JOIN md_event from_execution
           ON w.kind = 1 AND from_execution.execution_id = w.id
          AND ((:up AND from_execution.type IN ('INPUT', 'DECLARED_INPUT', 'INTERNAL_INPUT'))
            OR (:down AND from_execution.type IN ('OUTPUT', 'DECLARED_OUTPUT', 'INTERNAL_OUTPUT', 'PENDING_OUTPUT')))
    WHERE w.hops < :maxHops
      AND (from_artifact.execution_id IS NOT NULL OR from_execution.artifact_id IS NOT NULL)
)
SELECT kind, id, MIN(hops) AS hops
FROM walk
GROUP BY kind, id
ORDER BY hops, kind, id
FETCH FIRST :limit ROWS ONLY
