package io.capstan.serving.python;

import java.io.IOException;

/**
 * Starts a model-server process. The seam between serving and what runs the server: {@link HostProcessLauncher}
 * runs the command on this machine; {@link ContainerProcessLauncher} runs {@link ProcessSpec#image()} in Podman or Docker
 * with the model folder mounted at {@code /mnt/models} on the host's network. Capstan supervises,
 * probes, proxies and stops whatever process is returned (stopping it must stop the server).
 */
public interface ProcessLauncher {

    /**
     * @throws IOException when the process cannot start, with a sentence for the InferenceService status
     */
    Process launch(ProcessSpec spec) throws IOException;

    /** Whether {@link #launch} would run {@code spec} in a container rather than as a host command. */
    default boolean inContainer(ProcessSpec spec) {
        return false;
    }
}
