package io.capstan.cli;

import io.capstan.backend.ContainerEngine;
import picocli.CommandLine.Command;

import java.io.IOException;

/**
 * Lists the images of the container engine that the local backend uses (found as the server finds it:
 * {@code CAPSTAN_CONTAINER_ENGINE}, else podman, else docker, with {@code CAPSTAN_CONTAINER_ARGS}), so a user can see
 * which workloads will run in a container without a pull.
 */
@Command(name = "images", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "List the container images this machine's engine (Podman or Docker) holds for local workloads.")
final class ImagesCommand extends ClientCommand {
    @Override
    public Integer call() {
        var engine = ContainerEngine.detect(root.env());
        if (engine.isEmpty()) {
            err().println("error: no container engine: neither podman nor docker is on PATH, so workloads with an image run on the host;"
                    + " install Podman (apt-get install podman) to run them in containers");
            err().flush();
            return ExitCodes.FAILURE;
        }
        try {
            var images = engine.get().images();
            var table = new StringBuilder(String.format("%-60s %-14s %s%n", "IMAGE", "ID", "SIZE"));
            for (var line : images) {
                var f = line.split("\t", -1);
                table.append(String.format("%-60s %-14s %s%n", f[0], f.length > 1 ? f[1] : "", f.length > 2 ? f[2] : ""));
            }
            out().print(table);
            out().flush();
            if (images.isEmpty()) {
                err().println("note: " + engine.get().name() + " holds no images; `" + engine.get().name() + " pull IMAGE` or an image's imagePullPolicy fetches one");
                err().flush();
            }
            return ExitCodes.OK;
        } catch (IOException e) {
            err().println("error: " + e.getMessage());
            err().flush();
            return ExitCodes.FAILURE;
        }
    }
}
