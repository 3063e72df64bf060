package io.capstan.serving.python;

import io.capstan.backend.ContainerOptions;
import io.capstan.serving.runtime.ModelLoadException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Starts model-server processes for revisions: each replica gets its own process on a free port of 127.0.0.1, its
 * log file under the work folder, and Capstan's Python sources on its {@code PYTHONPATH} (so {@code import kserve}
 * finds the shim without pip).
 */
public final class ModelProcesses {
    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private final ProcessLauncher launcher;
    private final Path workDir;
    private final Duration startTimeout;
    /**
     * Made on first use by {@link #client()}: building a client sets up TLS and reads the CA certificates (~200 classes),
     * which at server start-up was on the critical path though most servers never start a model process.
     */
    private volatile HttpClient client;
    private final java.util.concurrent.locks.Lock clientLock = new java.util.concurrent.locks.ReentrantLock();
    private volatile Path pythonPath;

    /**
     * @param workDir holds the Python sources and the processes' logs
     * @param startTimeout how long a process may take to become ready
     */
    public ModelProcesses(ProcessLauncher launcher, Path workDir, Duration startTimeout) {
        this.launcher = launcher;
        this.workDir = workDir;
        this.startTimeout = startTimeout;
    }

    private HttpClient client() {
        var made = client;
        if (made != null) return made;
        clientLock.lock();
        try {
            if (client == null) {
                client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                        .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()).build();
            }
            return client;
        } finally {
            clientLock.unlock();
        }
    }

    /** Capstan's Python sources, installed on first use. */
    public Path pythonPath() {
        var path = pythonPath;
        if (path == null) {
            path = PythonFiles.install(workDir.resolve("python"));
            pythonPath = path;
        }
        return path;
    }

    /**
     * A process to start.
     *
     * @param name e.g. "default/iris-1"
     * @param command the command; {@code {port}} in an argument is replaced by the process's port
     * @param env the process's own variables (PORT, MODEL_NAME and PYTHONPATH are added)
     * @param container how an image runs in a container, see {@link ProcessSpec#container()}
     * @param entrypoint whether {@code command} holds only the arguments to the image's entrypoint
     */
    public record Launch(String name, String image, List<String> command, Map<String, String> env, Path modelDir,
                         String modelName, Path workingDir, ContainerOptions container, boolean entrypoint) {
        public Launch(String name, String image, List<String> command, Map<String, String> env, Path modelDir, String modelName,
                      Path workingDir) {
            this(name, image, command, env, modelDir, modelName, workingDir, ContainerOptions.DEFAULT, false);
        }
    }

    public ProcessLauncher launcher() {
        return launcher;
    }

    /**
     * Whether the launcher would run {@code image} in a container (its own entrypoint) under {@code options}: in auto
     * mode, whether an engine is installed and the image is in its store or can be pulled.
     */
    public boolean runsInContainer(String image, ContainerOptions options) {
        var probe = new ProcessSpec("image " + image, image, List.of(), Map.of(), null, 0,
                workDir.resolve("logs").resolve("image-probe.log"), null, options, true);
        return launcher.inContainer(probe);
    }

    /** Starts the process, waits until it is ready, and returns the model it serves. */
    public ProcessModel start(Launch launch, String platform, Duration callTimeout) throws ModelLoadException {
        int port = freePort();
        var command = new ArrayList<String>();
        for (var part : launch.command()) command.add(part.replace("{port}", Integer.toString(port)));
        var env = new HashMap<>(launch.env());
        env.put("PORT", Integer.toString(port));
        env.putIfAbsent("MODEL_NAME", launch.modelName());
        env.put("PYTHONUNBUFFERED", "1");
        var log = workDir.resolve("logs").resolve(launch.name().replace('/', '_') + "-" + SEQUENCE.incrementAndGet() + ".log");
        var spec = new ProcessSpec(launch.name(), launch.image(), command, env, launch.modelDir(), port, log, launch.workingDir(),
                launch.container(), launch.entrypoint());
        if (!launcher.inContainer(spec)) {
            // a host process gets Capstan's Python sources; an image brings its own kserve
            var inherited = System.getenv("PYTHONPATH");
            env.put("PYTHONPATH", pythonPath() + (inherited == null || inherited.isEmpty() ? "" : java.io.File.pathSeparator + inherited)
                    + (launch.env().containsKey("PYTHONPATH") ? java.io.File.pathSeparator + launch.env().get("PYTHONPATH") : ""));
            // the kserve shim exits when this process is gone, so that a Capstan killed with -9 leaves no server behind
            env.put("CAPSTAN_PARENT_PID", Long.toString(ProcessHandle.current().pid()));
            spec = new ProcessSpec(launch.name(), launch.image(), command, env, launch.modelDir(), port, log, launch.workingDir(),
                    launch.container(), launch.entrypoint());
        }
        var server = new SupervisedServer(launcher, spec, startTimeout, client());
        server.start();
        return new ProcessModel(server, launch.modelName(), platform, callTimeout);
    }

    private static int freePort() throws ModelLoadException {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new ModelLoadException("no free port on 127.0.0.1 for a model server process: " + e.getMessage(), e);
        }
    }
}
