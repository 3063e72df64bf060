package io.capstan.notebooks;

import io.capstan.backend.ContainerOptions;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Resource;
import io.capstan.core.TransientException;
import io.capstan.core.security.WorkloadCredentials;
import io.capstan.core.security.WorkloadScope;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Turns a Notebook into the workload that serves it.
 *
 * <ul>
 *   <li>On the host (the default): Debian's Jupyter Notebook ({@code python3 -m notebook}) with its base URL at
 *       {@code /notebook/<namespace>/<name>/}, on a port of 127.0.0.1 chosen here, in the notebook's workspace.</li>
 *   <li>A VS Code ({@code group-one}) notebook on the host: {@code code-server} (CAPSTAN_CODE_SERVER) on that port of
 *       127.0.0.1, serving at {@code /} (the proxy rewrites the base path, as Istio does for such notebooks), opening
 *       the workspace, with its user data and extensions in the workspace's {@code .local/share/code-server} (where
 *       Kubeflow's codeserver image keeps them under {@code /home/jovyan}), so they survive a stop. It runs with
 *       {@code --auth none}, as that image does behind Istio: code-server has no token a proxy could send, only a login
 *       page; it is reached through Capstan's authenticated proxy.</li>
 *   <li>With {@code capstan.io/execution: container}, or with the server's {@code CAPSTAN_EXECUTION=container} and no
 *       {@code capstan.io/execution: host}: the image through the container runner (on the host's network), running
 *       {@code jupyter lab} with the same base URL and port unless the container names its own command (which then
 *       finds the port in {@code PORT} and the base URL in {@code NB_PREFIX}), and with each PersistentVolumeClaim's
 *       folder at its mount path.</li>
 * </ul>
 * The workspace is the folder of the claim mounted at {@code /home/jovyan} (else of the first claim mounted; else of
 * {@code <name>-workspace}, the claim Kubeflow's web app makes): {@code <root>/volumes/<namespace>/<claim>}. Like a
 * PVC it outlives the server, a stop, and the Notebook itself.
 */
final class NotebookLaunch {
    static final String HOME = "/home/jovyan";
    private final Path root;
    private final NotebookSettings settings;
    private final WorkloadCredentials credentials;
    private final Supplier<String> serverUrl;
    private final ServerTokens tokens;

    NotebookLaunch(Path root, NotebookSettings settings, WorkloadCredentials credentials, Supplier<String> serverUrl, ServerTokens tokens) {
        this.root = root;
        this.settings = settings;
        this.credentials = credentials;
        this.serverUrl = serverUrl;
        this.tokens = tokens;
    }

    static String basePath(String namespace, String name) {
        return "/notebook/" + namespace + "/" + name + "/";
    }

    Path claimDir(String namespace, String claim) {
        return root.resolve("volumes").resolve(namespace).resolve(claim);
    }

    Path workspace(Resource notebook, NotebookSpec spec) {
        var ns = notebook.metadata().namespace();
        return spec.workspaceClaim().map(c -> claimDir(ns, c.claimName()))
                .orElseGet(() -> claimDir(ns, notebook.metadata().name() + "-workspace"));
    }

    /** {@code capstan.io/execution} on the Notebook, else the server's {@code CAPSTAN_EXECUTION} when that is {@code container}. */
    boolean inContainer(Resource notebook) {
        var execution = ContainerOptions.Execution.parse(notebook.metadata().annotations().get(ContainerOptions.EXECUTION_ANNOTATION),
                "metadata.annotations[" + ContainerOptions.EXECUTION_ANNOTATION + "]");
        if (execution == ContainerOptions.Execution.AUTO) execution = settings.execution();
        return execution == ContainerOptions.Execution.CONTAINER;
    }

    /**
     * Why this notebook cannot run here, naming what to change; empty when it can.
     *
     * @throws InvalidSpecException for a bad execution annotation
     */
    Optional<String> unsupported(Resource notebook, NotebookSpec spec, ServerType type) {
        if (inContainer(notebook)) return Optional.empty();
        var inImage = "; set the annotation " + ContainerOptions.EXECUTION_ANNOTATION + ": container (or CAPSTAN_EXECUTION=container on the "
                + "server) on a machine with Podman or Docker to run its image";
        return switch (type) {
            case JUPYTER -> Optional.empty();
            // Never Jupyter in its place: the user asked for VS Code.
            case VSCODE -> !spec.command().isEmpty() || onPath(settings.codeServer()).isPresent() ? Optional.empty()
                    : Optional.of("a group-one (VS Code) notebook on the host needs code-server, and '" + settings.codeServer()
                    + "' is not on PATH (CAPSTAN_CODE_SERVER names another; README's notebooks section says how to install it)" + inImage);
            case RSTUDIO -> Optional.of("a group-two (RStudio) notebook runs only in its image here" + inImage);
        };
    }

    /** Where {@code program} is: itself if it names a path, else found on PATH. */
    static Optional<Path> onPath(String program) {
        if (program.contains("/")) return Optional.of(Path.of(program)).filter(Files::isExecutable);
        for (var dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (dir.isEmpty()) continue;
            var p = Path.of(dir, program);
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** A free port of 127.0.0.1, recorded in status before the server is launched on it. */
    static int freePort() {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new TransientException("no free port on 127.0.0.1 for a notebook server: " + e.getMessage(), e);
        }
    }

    WorkloadSpec workload(Resource notebook, NotebookSpec spec, String workloadId, int port) {
        var ns = notebook.metadata().namespace();
        var name = notebook.metadata().name();
        var base = basePath(ns, name);
        var workspace = createDir(workspace(notebook, spec));
        boolean container = inContainer(notebook);
        var type = ServerType.of(notebook.metadata().annotations());
        var token = tokens.tokenOf(notebook.metadata().uid());
        var env = new HashMap<>(spec.env());
        env.put("NB_PREFIX", base.substring(0, base.length() - 1));
        env.put("JUPYTER_TOKEN", token);
        env.put("CAPSTAN_SERVER", serverUrl.get());
        env.put("CAPSTAN_NAMESPACE", ns);
        env.put("CAPSTAN_NOTEBOOK", name);
        var capstanToken = credentials.tokenFor(new WorkloadScope(ns, WorkloadScope.NOTEBOOK, name));
        if (!capstanToken.isEmpty()) env.put(WorkloadCredentials.ENV, capstanToken);
        var command = new ArrayList<String>();
        ContainerOptions options;
        if (container) {
            if (spec.command().isEmpty()) {
                command.addAll(List.of("jupyter", "lab", "--ServerApp.base_url=" + base, "--ServerApp.ip=127.0.0.1",
                        "--ServerApp.port=" + port, "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",
                        "--ServerApp.open_browser=False", "--ServerApp.root_dir=" + HOME));
            } else {
                command.addAll(spec.command());
                // On the host's network, 8888 may be taken: a container that names its own command listens on PORT.
                env.put("PORT", Integer.toString(port));
            }
            command.addAll(spec.args());
            var mounts = new ArrayList<ContainerOptions.Mount>();
            for (var m : spec.mounts()) {
                var dir = switch (spec.volumes().get(m.volume())) {
                    case NotebookSpec.Claim c -> claimDir(ns, c.claimName());
                    case NotebookSpec.EmptyDir e -> root.resolve("empty").resolve(notebook.metadata().uid()).resolve(m.volume());
                };
                mounts.add(new ContainerOptions.Mount(createDir(dir), m.mountPath(), m.readOnly()));
            }
            if (spec.mounts().stream().noneMatch(m -> m.mountPath().equals(HOME))) mounts.add(new ContainerOptions.Mount(workspace, HOME, false));
            options = new ContainerOptions(ContainerOptions.Execution.CONTAINER, Optional.empty(), mounts,
                    Optional.of(spec.workingDir().orElse(HOME)));
        } else {
            if (spec.command().isEmpty() && type == ServerType.VSCODE) {
                // Made here, not left to code-server, which makes it only after it has begun to answer.
                var userData = createDir(workspace.resolve(".local/share/code-server"));
                command.addAll(List.of(onPath(settings.codeServer()).map(Path::toString).orElse(settings.codeServer()),
                        "--bind-addr", "127.0.0.1:" + port, "--auth", "none", "--disable-telemetry", "--disable-update-check",
                        "--user-data-dir", userData.toString(), "--extensions-dir", userData.resolve("extensions").toString(),
                        // Its config file (which it writes on first start) stays with this server, not in ~/.config.
                        "--config", createDir(root.resolve("runtime").resolve(notebook.metadata().uid())).resolve("code-server.yaml").toString()));
                command.addAll(spec.args());
                command.add(workspace.toString());
            } else if (spec.command().isEmpty()) {
                // Jupyter's own files (cookie secret, kernel connection files) stay with this server, not in ~/.local.
                env.put("JUPYTER_RUNTIME_DIR", createDir(root.resolve("runtime").resolve(notebook.metadata().uid())).toString());
                command.addAll(List.of(settings.python(), "-m", "notebook", "--NotebookApp.base_url=" + base,
                        "--NotebookApp.ip=127.0.0.1", "--NotebookApp.port=" + port, "--NotebookApp.port_retries=0",
                        "--NotebookApp.open_browser=False", "--NotebookApp.allow_root=True",
                        "--NotebookApp.notebook_dir=" + workspace));
                command.addAll(spec.args());
            } else {
                command.addAll(spec.command());
                command.addAll(spec.args());
                env.put("PORT", Integer.toString(port));
            }
            options = new ContainerOptions(ContainerOptions.Execution.HOST, Optional.empty(), List.of());
        }
        return new WorkloadSpec(workloadId, command, env, Optional.of(workspace), spec.resources(), Optional.empty(), 0,
                container ? Optional.of(spec.image()) : Optional.empty(), options).withNamespace(ns);
    }

    private static Path createDir(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new TransientException("cannot create the notebook's folder " + dir + ": " + e.getMessage(), e);
        }
    }
}
