package io.capstan.notebooks;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.core.security.WorkloadCredentials;
import io.capstan.core.security.WorkloadScope;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Optional;

/**
 * Kubernetes mode's Notebook controller: each Notebook is a StatefulSet and a Service on the cluster
 * ({@link NotebookCluster}), written again when the spec or the {@code kubeflow-resource-stopped} annotation changes
 * (which scales the StatefulSet to 0 or 1, as upstream's controller does), and deleted with the Notebook. Status
 * mirrors the StatefulSet's {@code readyReplicas}; the notebook is Running once a replica is ready and its server
 * answers at the Service's address, where the {@code /notebook/} proxy then forwards.
 *
 * <p>Idle notebooks are culled as locally ({@link IdleCuller}), through the Service's address.
 *
 * <p>The server takes no Jupyter token there: upstream's images start with {@code --ServerApp.token=''} and rely on
 * the mesh, so only Capstan's proxy (behind its authentication and namespace check) should reach the Service; a
 * NetworkPolicy that admits only the Capstan server's pods enforces that on the cluster.
 */
final class ClusterNotebookReconciler implements NotebookController {
    static final Duration POLL = Duration.ofSeconds(1);
    /** A running notebook's token is replaced this often, well inside {@link WorkloadCredentials#TTL}. */
    static final Duration TOKEN_REFRESH = WorkloadCredentials.TTL.dividedBy(4);
    static final String TOKEN_ISSUED_AT = "tokenIssuedAt";

    private final ResourceStore store;
    private final NotebookCluster cluster;
    private final ServerProbes probes;
    private final IdleCuller culler;
    private final WorkloadCredentials credentials;
    private final Clock clock;

    ClusterNotebookReconciler(ResourceStore store, NotebookCluster cluster, ServerProbes probes, NotebookSettings settings,
                              WorkloadCredentials credentials, Clock clock) {
        this.store = store;
        this.cluster = cluster;
        this.probes = probes;
        this.culler = new IdleCuller(store, probes.jupyter(), settings);
        this.credentials = credentials;
        this.clock = clock;
    }

    @Override
    public String kind() {
        return Notebooks.KIND;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            cluster.delete(key.namespace(), key.name());
            reapOrphans(key.namespace());
            return Result.done();
        }
        var notebook = found.get();
        try {
            NotebookSpec.of(notebook.spec());
            var type = ServerType.of(notebook.metadata().annotations());
            Upstream.target(notebook.metadata().annotations(), type, NotebookLaunch.basePath(key.namespace(), key.name()));
        } catch (InvalidSpecException e) {
            return fail(notebook, "InvalidSpec", e.getMessage());
        }
        boolean stopped = notebook.metadata().annotations().containsKey(Notebooks.STOPPED_ANNOTATION);
        var observed = cluster.observe(key.namespace(), key.name());
        long generation = notebook.metadata().generation();
        boolean applied = notebook.status().field("appliedGeneration").map(n -> n.asLong()).orElse(-1L) == generation
                && notebook.status().field("appliedStopped").map(n -> n.asBoolean()).orElse(!stopped) == stopped;
        var capstanUrl = cluster.capstanUrl();
        var issued = notebook.status().field(TOKEN_ISSUED_AT).filter(n -> !n.asText().isEmpty()).map(n -> java.time.Instant.parse(n.asText()));
        boolean tokenDue = capstanUrl.isPresent() && !stopped && issued.map(t -> !clock.instant().isBefore(t.plus(TOKEN_REFRESH))).orElse(true);
        if (!applied || observed.isEmpty() || observed.get().replicas() != (stopped ? 0 : 1) || tokenDue) {
            // A notebook that starts gets a new token; a running one gets the next before its token expires.
            boolean mint = capstanUrl.isPresent() && !stopped;
            Optional<String> newToken = mint
                    ? Optional.of(credentials.tokenFor(new WorkloadScope(key.namespace(), WorkloadScope.NOTEBOOK, key.name()))).filter(t -> !t.isEmpty())
                    : Optional.empty();
            try {
                cluster.apply(notebook, newToken);
            } catch (InvalidSpecException e) {
                return fail(notebook, "InvalidSpec", e.getMessage());
            }
            var restarted = notebook.status();
            if (mint) restarted = restarted.withField(TOKEN_ISSUED_AT, TextNode.valueOf(clock.instant().toString()));
            restarted = capstanUrl.isPresent()
                    ? restarted.withCondition("CapstanAccess", true, "TokenMounted", "CAPSTAN_SERVER is " + capstanUrl.get()
                            + "; the notebook's token is the file CAPSTAN_TOKEN_FILE, replaced every " + TOKEN_REFRESH.toHours() + " hours", clock.instant())
                    : restarted.withCondition("CapstanAccess", false, "NoClusterUrl", "the server has no in-cluster URL (--cluster-url, "
                            + "CAPSTAN_CLUSTER_URL, the chart's clusterUrl), so the notebook gets no CAPSTAN_SERVER or token", clock.instant());
            if (!stopped && !restarted.field("appliedStopped").map(n -> !n.asBoolean()).orElse(false)) {
                // Scaled up now: the pod cannot have been idle for longer than since then.
                restarted = restarted.withField("scaledUpAt", TextNode.valueOf(clock.instant().toString()));
            }
            if (!stopped && restarted.condition("Culled").filter(c -> c.status() == io.capstan.core.Condition.Status.True).isPresent()) {
                restarted = restarted.withCondition("Culled", false, "Started", "started again after it was culled", clock.instant());
            }
            notebook = store.updateStatus(notebook, restarted
                    .withField("appliedGeneration", LongNode.valueOf(generation))
                    .withField("appliedStopped", com.fasterxml.jackson.databind.node.BooleanNode.valueOf(stopped))
                    .withField("url", TextNode.valueOf(NotebookLaunch.basePath(key.namespace(), key.name()))));
            observed = cluster.observe(key.namespace(), key.name());
        }
        int ready = observed.map(NotebookCluster.Observed::readyReplicas).orElse(0);
        var now = clock.instant();
        var status = notebook.status().withObservedGeneration(generation).withField("readyReplicas", IntNode.valueOf(ready));
        if (stopped) {
            if (ready > 0) {
                write(notebook, status.withPhase(NotebookPhase.PENDING.wireName())
                        .withCondition("Ready", false, "Stopping", "the StatefulSet was scaled to 0 and its pod is going", now));
                return Result.requeueAfter(POLL);
            }
            write(notebook, status.withPhase(NotebookPhase.STOPPED.wireName())
                    .withCondition("Ready", false, "Stopped", "stopped by the annotation " + Notebooks.STOPPED_ANNOTATION, now));
            return Result.done();
        }
        if (ready == 0) {
            write(notebook, status.withPhase(NotebookPhase.PENDING.wireName())
                    .withCondition("Ready", false, "Starting", "waiting for the StatefulSet's pod to be ready", now));
            return Result.requeueAfter(POLL);
        }
        var upstream = upstream(notebook);
        var answer = upstream.flatMap(probes::status);
        if (answer.isEmpty()) {
            var tolerated = MissedProbes.tolerated(status);
            if (tolerated.isPresent()) {
                write(notebook, tolerated.get());
                return Result.requeueAfter(POLL);
            }
            write(notebook, MissedProbes.answered(status).withPhase(NotebookPhase.PENDING.wireName())
                    .withCondition("Ready", false, "Starting", "the pod is ready but the notebook server does not answer at "
                            + cluster.address(key.namespace(), key.name()) + " yet", now));
            return Result.requeueAfter(POLL);
        }
        var lastActivity = culler.lastActivity(upstream.get(), answer.get(), now);
        var scaledUp = notebook.status().field("scaledUpAt").map(n -> java.time.Instant.parse(n.asText()));
        if (scaledUp.isPresent() && scaledUp.get().isAfter(lastActivity)) lastActivity = scaledUp.get();
        status = MissedProbes.answered(status).withPhase(NotebookPhase.RUNNING.wireName()).withField("lastActivity", TextNode.valueOf(lastActivity.toString()))
                .withCondition("Ready", true, "Running", "the notebook server answers", now);
        if (status.field("readyTime").filter(n -> !n.asText().isEmpty()).isEmpty()) status = status.withField("readyTime", TextNode.valueOf(now.toString()));
        if (culler.idle(lastActivity, now)) {
            // The annotation it sets scales the StatefulSet to 0 on the next pass, as a user's stop does.
            culler.cull(notebook, status, lastActivity, now);
            return Result.requeueAfter(POLL);
        }
        write(notebook, status);
        var next = culler.nextCheck(lastActivity, now);
        var refresh = status.field(TOKEN_ISSUED_AT).filter(n -> capstanUrl.isPresent() && !n.asText().isEmpty())
                .map(n -> Duration.between(now, java.time.Instant.parse(n.asText()).plus(TOKEN_REFRESH)));
        if (refresh.isPresent() && refresh.get().compareTo(next) < 0) next = refresh.get().isNegative() ? POLL : refresh.get();
        return Result.requeueAfter(next);
    }

    /** The Service, at the notebook's base path (or its rewrite), without a token. */
    @Override
    public Optional<Upstream> upstream(Resource notebook) {
        var ns = notebook.metadata().namespace();
        var name = notebook.metadata().name();
        var address = cluster.address(ns, name);
        int port = address.getPort() < 0 ? 80 : address.getPort();
        var type = ServerType.of(notebook.metadata().annotations());
        var base = NotebookLaunch.basePath(ns, name);
        return Optional.of(new Upstream(address.getHost(), port, base, Upstream.target(notebook.metadata().annotations(), type, base), "", type));
    }

    /** Deletes the objects of notebooks deleted while no replica led. */
    @Override
    public void sweep() {
        reapOrphans("default");
    }

    private void reapOrphans(String namespace) {
        var live = new HashSet<String>();
        var namespaces = new HashSet<String>();
        namespaces.add(namespace);
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(Notebooks.KIND, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            for (var r : page.items()) {
                live.add(r.metadata().namespace() + "/" + r.metadata().name());
                namespaces.add(r.metadata().namespace());
            }
            token = page.continueToken();
        } while (token.isPresent());
        cluster.reap(namespaces, live);
    }

    private Result fail(Resource notebook, String reason, String message) {
        var status = notebook.status().withObservedGeneration(notebook.metadata().generation())
                .withPhase(NotebookPhase.FAILED.wireName()).withField("readyReplicas", IntNode.valueOf(0))
                .withCondition("Ready", false, reason, message, clock.instant());
        write(notebook, status);
        return Result.done();
    }

    private void write(Resource notebook, ResourceStatus status) {
        if (!status.equals(notebook.status())) store.updateStatus(notebook, status);
    }
}
