package io.capstan.serving.python;

import io.capstan.backend.ContainerOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A model-server process to run: KServe's container contract, as a host process or a container would get it.
 *
 * @param name names the process in logs, e.g. "default/iris-predictor-1"
 * @param image the container image, or null for a host command
 * @param command the command and its arguments; {@code /mnt/models} in them means the model folder
 * @param env variables to add to the environment (PORT, MODEL_NAME, PYTHONPATH, the container's own)
 * @param modelDir the local model folder, mounted at {@code /mnt/models}; null when the model has no storage
 * @param port the port on 127.0.0.1 the server must listen on
 * @param log the file its stdout and stderr go to
 * @param workingDir the folder it starts in (a container's {@code workingDir}); null for Capstan's own
 * @param container where an image runs ({@code capstan.io/execution}), its pull policy and host folders mounted into it
 *                  (hostPath volumes); only a container runner reads them
 * @param entrypoint whether {@code command} holds only the arguments to the image's own entrypoint (a container that
 *                   gives no command), which only a container runner can run
 */
public record ProcessSpec(String name, String image, List<String> command, Map<String, String> env, Path modelDir, int port,
                          Path log, Path workingDir, ContainerOptions container, boolean entrypoint) {
    /** Where KServe's storage initializer puts the model inside a container. */
    public static final String MODEL_MOUNT = "/mnt/models";

    public ProcessSpec {
        Objects.requireNonNull(name, "name");
        command = List.copyOf(command);
        env = Map.copyOf(env);
        Objects.requireNonNull(container, "container");
        // an image without a command runs its own entrypoint
        if (command.isEmpty() && !entrypoint) throw new IllegalArgumentException("command is empty");
        if (entrypoint && image == null) throw new IllegalArgumentException("an entrypoint needs an image");
    }

    public ProcessSpec(String name, String image, List<String> command, Map<String, String> env, Path modelDir, int port,
                       Path log, Path workingDir) {
        this(name, image, command, env, modelDir, port, log, workingDir, ContainerOptions.DEFAULT, false);
    }
}
