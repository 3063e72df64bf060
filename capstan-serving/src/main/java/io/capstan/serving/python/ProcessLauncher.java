package io.capstan.serving.python;

import java.io.IOException;

/**
 * Starts a model-server process. The seam between serving and what runs the server: {@link HostProcessLauncher}
 * runs the command on this machine; a container runner implements the same interface to run {@link ProcessSpec#image()}
 * with the model folder mounted at {@code /mnt/models} and the port published on 127.0.0.1. Capstan supervises,
 * probes, proxies and stops whatever process is returned (stopping it must stop the server).
 */
public interface ProcessLauncher {

    /**
     * @throws IOException when the process cannot start, with a sentence for the InferenceService status
     */
    Process launch(ProcessSpec spec) throws IOException;
}
