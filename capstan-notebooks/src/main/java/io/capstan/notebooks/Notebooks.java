package io.capstan.notebooks;

import io.capstan.backend.Backend;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKind;
import io.capstan.core.TransientException;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.WorkloadCredentials;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.websocket.WsRouting;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Kubeflow's {@code Notebook} ({@code kubeflow.org/v1}): its kind, the controller that keeps its server running (or
 * stopped, or culled when idle), and the {@code /notebook/<namespace>/<name>/} proxy for HTTP and WebSockets.
 *
 * <p>Wired by hand: {@link #reconciler()} goes to the controller runtime, {@link #proxy} to the HTTP routing (behind
 * the authentication filter), and {@link #webSockets} to the web server's WebSocket routing.
 */
public final class Notebooks {
    public static final String KIND = "Notebook";
    /** Set (to the time) to stop a notebook's server, removed to start it: Kubeflow's annotation. */
    public static final String STOPPED_ANNOTATION = "kubeflow-resource-stopped";
    public static final String LAST_ACTIVITY_ANNOTATION = "notebooks.kubeflow.org/last-activity";
    public static final String SERVER_TYPE_ANNOTATION = ServerType.ANNOTATION;
    public static final ResourceKind RESOURCE_KIND = new ResourceKind("kubeflow.org", List.of("v1", "v1beta1", "v1alpha1"), KIND,
            "notebooks", List.of("notebook", "nb"), NotebookSpec::validate);

    private final ResourceStore store;
    private final HttpClient http;
    private final NotebookController reconciler;

    /**
     * @param root      where workspaces ({@code volumes/<namespace>/<claim>}), server tokens and Jupyter's runtime files live
     * @param serverUrl this server's base URL, which a notebook finds in {@code CAPSTAN_SERVER}
     */
    public Notebooks(ResourceStore store, Backend backend, Path root, Clock clock, WorkloadCredentials credentials,
                     Supplier<String> serverUrl, NotebookSettings settings) {
        this(store, backend, root, clock, credentials, serverUrl, settings, Optional.empty());
    }

    /**
     * As the other constructor; with {@code cluster} (Kubernetes mode) each notebook is a StatefulSet and a Service
     * there instead of a workload of {@code backend}.
     */
    public Notebooks(ResourceStore store, Backend backend, Path root, Clock clock, WorkloadCredentials credentials,
                     Supplier<String> serverUrl, NotebookSettings settings, Optional<NotebookCluster> cluster) {
        this.store = Objects.requireNonNull(store, "store");
        // HTTP/1.1: Jupyter speaks nothing newer, and an h2c upgrade attempt on every request only costs.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        var tokens = new ServerTokens(root.resolve("tokens"));
        var launch = new NotebookLaunch(root, settings, credentials, serverUrl, tokens);
        this.reconciler = cluster.isPresent()
                ? new ClusterNotebookReconciler(store, cluster.get(), new ServerProbes(http), settings, credentials, clock)
                : new NotebookReconciler(store, backend, launch, new ServerProbes(http), tokens, settings, clock);
    }

    public static List<ResourceKind> kinds() {
        return List.of(RESOURCE_KIND);
    }

    public Reconciler reconciler() {
        return reconciler;
    }

    /** The HTTP side of {@code /notebook/}, for callers who may edit the notebook's namespace. */
    public HttpService proxy(AccessPolicy policy) {
        return new NotebookProxy(this, policy, http);
    }

    /**
     * The access check of {@code /notebook/} for plain requests and WebSocket upgrades alike: 403 for a caller who may
     * not edit the namespace. Goes after the authentication filter.
     */
    public io.helidon.webserver.http.Filter accessFilter(AccessPolicy policy) {
        return new NotebookAccessFilter(policy);
    }

    /**
     * The WebSocket side of {@code /notebook/}: {@code authenticate} turns a bearer token into its caller, since
     * WebSocket upgrades do not pass the HTTP filters.
     */
    public WsRouting.Builder webSockets(Function<String, Optional<Caller>> authenticate, AccessPolicy policy) {
        return webSockets(authenticate, cookie -> Optional.empty(), policy);
    }

    /** As {@link #webSockets(Function, AccessPolicy)}, also taking the token of a browser's session cookie ({@code Cookie} header to token). */
    public WsRouting.Builder webSockets(Function<String, Optional<Caller>> authenticate, Function<String, Optional<String>> sessionToken,
                                        AccessPolicy policy) {
        return WsRouting.builder().endpoint("/notebook/*", () -> new NotebookSocket(this, authenticate, sessionToken, policy, http));
    }

    /**
     * The Notebook whose server {@code workloadId} is, for the backend's on-finish hook; looks at the first
     * {@value io.capstan.store.ListQuery#MAX_LIMIT} notebooks only, since the periodic resync finds the others.
     */
    public Optional<ResourceKey> findNotebook(String workloadId) {
        return ownerOf(workloadId).flatMap(uid -> store.list(new io.capstan.store.ListQuery(KIND, Optional.empty(),
                        io.capstan.store.LabelSelector.EVERYTHING, io.capstan.store.ListQuery.MAX_LIMIT, Optional.empty())).items().stream()
                .filter(r -> r.metadata().uid().equals(uid)).map(io.capstan.core.Resource::key).findFirst());
    }

    /**
     * Where the server of notebook {@code namespace/name} listens.
     *
     * @throws io.capstan.core.NotFoundException when there is no such notebook
     * @throws TransientException while it has no server that answers (stopped, starting)
     */
    Upstream upstream(String namespace, String name) {
        var notebook = store.find(new ResourceKey(KIND, namespace, name)).orElseThrow(() -> NotebookProxy.notFound(namespace, name));
        if (!notebook.status().phase().equals(NotebookPhase.RUNNING.wireName())) {
            var phase = notebook.status().phase().isEmpty() ? "Pending" : notebook.status().phase();
            throw new TransientException("notebook " + namespace + "/" + name + " is " + phase
                    + (phase.equals("Stopped") ? "; 'capstan notebooks start " + name + "' starts it" : "; try again once it is Running"));
        }
        return reconciler.upstream(notebook).orElseThrow(() -> new TransientException("notebook " + namespace + "/" + name
                + " has no server yet; try again once it is Running"));
    }

    static String workloadId(String uid, int attempt) {
        return "nb_" + uid + "_" + attempt;
    }

    static Optional<String> ownerOf(String workloadId) {
        if (!workloadId.startsWith("nb_")) return Optional.empty();
        var rest = workloadId.substring(3);
        int cut = rest.lastIndexOf('_');
        return Optional.of(cut < 0 ? rest : rest.substring(0, cut));
    }
}
