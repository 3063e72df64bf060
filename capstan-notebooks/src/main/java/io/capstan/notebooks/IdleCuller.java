package io.capstan.notebooks;

import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import io.capstan.store.ResourceStore;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;

/**
 * Kubeflow's culler, for both ways a notebook runs (a workload here, a StatefulSet on a cluster): the last activity is
 * the server's own ({@link ServerProbe}: Jupyter's {@code /api/status}, code-server's heartbeat); once it is older than {@code CULL_IDLE_TIME} Jupyter's kernels are asked too, and
 * unless one is busy or was active since, the notebook is stopped by setting {@code kubeflow-resource-stopped} (and
 * {@code notebooks.kubeflow.org/last-activity}), with the reason in a {@code Culled} condition.
 */
final class IdleCuller {
    private final ResourceStore store;
    private final JupyterApi jupyter;
    private final NotebookSettings settings;

    IdleCuller(ResourceStore store, JupyterApi jupyter, NotebookSettings settings) {
        this.store = store;
        this.jupyter = jupyter;
        this.settings = settings;
    }

    /** The server's last activity, asking its kernels only when the server alone says it is idle. */
    Instant lastActivity(Upstream upstream, ServerProbe.Status answer, Instant now) {
        var last = answer.lastActivity();
        if (settings.culling() && idle(last, now) && answer.kernels() > 0) {
            // Listing kernels counts as activity in Jupyter, so they are asked only now: a busy one is activity.
            for (var k : jupyter.kernels(upstream)) {
                last = k.isBusy() ? now : max(last, k.lastActivity());
            }
        }
        return last;
    }

    boolean idle(Instant lastActivity, Instant now) {
        return settings.culling() && Duration.between(lastActivity, now).compareTo(settings.cullIdleTime()) > 0;
    }

    /** When to look again: the idleness check period, or sooner when the notebook would become idle before it. */
    Duration nextCheck(Instant lastActivity, Instant now) {
        if (!settings.culling()) return settings.idlenessCheckPeriod();
        var untilIdle = settings.cullIdleTime().minus(Duration.between(lastActivity, now)).plusMillis(50);
        return untilIdle.compareTo(settings.idlenessCheckPeriod()) < 0 ? untilIdle : settings.idlenessCheckPeriod();
    }

    /** Stops an idle notebook by its annotations and says why in {@code status}; the stored notebook, as written. */
    Resource cull(Resource notebook, ResourceStatus status, Instant lastActivity, Instant now) {
        var annotations = new HashMap<>(notebook.metadata().annotations());
        annotations.put(Notebooks.STOPPED_ANNOTATION, now.toString());
        annotations.put(Notebooks.LAST_ACTIVITY_ANNOTATION, lastActivity.toString());
        var updated = store.update(notebook.withMetadata(notebook.metadata().withAnnotations(annotations)));
        var idle = Duration.between(lastActivity, now).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        var culled = status.withField("lastActivity", TextNode.valueOf(lastActivity.toString()))
                .withCondition("Culled", true, "IdleCulled", "no activity since " + lastActivity + " (" + idle
                + "), more than CULL_IDLE_TIME " + settings.cullIdleTime() + "; remove the annotation " + Notebooks.STOPPED_ANNOTATION
                + " to start it again", now);
        return store.updateStatus(updated, culled);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}
