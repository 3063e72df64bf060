package io.capstan.metadata;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import java.util.Collection;
import java.util.List;
import org.jdbi.v3.core.Handle;

/** Rows of md_attribution, md_association and md_parent_context. Every method runs inside the caller's transaction. */
final class LinkTable {
    private LinkTable() {
    }

    static void requireAll(Handle h, String table, String what, Collection<Long> ids) {
        var missing = NodeTable.missing(h, table, ids.stream().distinct().toList());
        if (!missing.isEmpty()) {
            throw new NotFoundException("%s %s do not exist; put them before linking them".formatted(what, missing));
        }
    }

    /** Idempotent: an existing attribution is left as it is. */
    static void attribute(Handle h, long contextId, long artifactId) {
        h.createUpdate("""
                        MERGE INTO md_attribution t
                        USING (SELECT CAST(:context AS BIGINT) AS context_id, CAST(:artifact AS BIGINT) AS artifact_id) s
                        ON t.context_id = s.context_id AND t.artifact_id = s.artifact_id
                        WHEN NOT MATCHED THEN INSERT (context_id, artifact_id) VALUES (s.context_id, s.artifact_id)""")
                .bind("context", contextId).bind("artifact", artifactId).execute();
    }

    /** Idempotent: an existing association is left as it is. */
    static void associate(Handle h, long contextId, long executionId) {
        associateAll(h, List.<long[]>of(new long[] {contextId, executionId}));
    }

    /**
     * Links executions recorded in this same transaction, which cannot have links yet: a plain insert, where
     * {@link #associateAll} has to look for each link first.
     */
    static void associateNew(Handle h, java.util.Collection<long[]> contextAndExecutionIds) {
        if (contextAndExecutionIds.isEmpty()) return;
        var batch = h.prepareBatch("INSERT INTO md_association (context_id, execution_id) VALUES (:context, :execution)");
        for (var pair : contextAndExecutionIds) batch.bind("context", pair[0]).bind("execution", pair[1]).add();
        batch.execute();
    }

    /** As {@link #associate} for many (context id, execution id) pairs, in one batch. */
    static void associateAll(Handle h, java.util.Collection<long[]> contextAndExecutionIds) {
        if (contextAndExecutionIds.isEmpty()) return;
        var batch = h.prepareBatch("""
                MERGE INTO md_association t
                USING (SELECT CAST(:context AS BIGINT) AS context_id, CAST(:execution AS BIGINT) AS execution_id) s
                ON t.context_id = s.context_id AND t.execution_id = s.execution_id
                WHEN NOT MATCHED THEN INSERT (context_id, execution_id) VALUES (s.context_id, s.execution_id)""");
        for (var pair : contextAndExecutionIds) batch.bind("context", pair[0]).bind("execution", pair[1]).add();
        batch.execute();
    }

    /** Idempotent; refuses a link that would close a cycle, naming the path's ends. */
    static void parent(Handle h, ParentContext link) {
        boolean childIsAncestorOfParent = h.createQuery("""
                        WITH RECURSIVE up (id) AS (
                            SELECT CAST(:parent AS BIGINT)
                            UNION
                            SELECT p.parent_id FROM md_parent_context p JOIN up ON p.child_id = up.id
                        )
                        SELECT COUNT(*) FROM up WHERE id = :child""")
                .bind("parent", link.parentId()).bind("child", link.childId())
                .mapTo(Long.class).one() > 0;
        if (childIsAncestorOfParent) {
            throw new InvalidSpecException(
                    "context %d cannot become a parent of context %d: %d is already an ancestor of %d, and parent links must not form a cycle"
                            .formatted(link.parentId(), link.childId(), link.childId(), link.parentId()));
        }
        h.createUpdate("""
                        MERGE INTO md_parent_context t
                        USING (SELECT CAST(:child AS BIGINT) AS child_id, CAST(:parent AS BIGINT) AS parent_id) s
                        ON t.child_id = s.child_id AND t.parent_id = s.parent_id
                        WHEN NOT MATCHED THEN INSERT (child_id, parent_id) VALUES (s.child_id, s.parent_id)""")
                .bind("child", link.childId()).bind("parent", link.parentId()).execute();
    }
}
