package io.capstan.serving.python;

import io.capstan.backend.ContainerOptions;
import io.capstan.serving.runtime.LoadedModel;
import io.capstan.serving.runtime.ModelLoadException;
import io.capstan.serving.runtime.ModelRuntime;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.runtime.SupportedFormat;
import io.capstan.serving.spec.ContainerSpec;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A ServingRuntime's container: each model it serves runs that command (or, in a container, the image's entrypoint
 * with the container's args) as a model-server process,
 * with KServe's substitutions ({@code {{.Name}}} is the model's name) and contract (the model at {@code /mnt/models},
 * {@code PORT}/{@code --http_port}, {@code MODEL_NAME}).
 */
public final class ContainerModelRuntime implements ModelRuntime {
    private final String name;
    private final List<SupportedFormat> formats;
    private final ContainerSpec container;
    private final ModelProcesses processes;
    private final Duration callTimeout;
    private final ContainerOptions options;

    public ContainerModelRuntime(String name, List<SupportedFormat> formats, ContainerSpec container, ModelProcesses processes,
                                 Duration callTimeout) {
        this(name, formats, container, processes, callTimeout, ContainerOptions.DEFAULT);
    }

    /**
     * @param options how the image runs in a container; a container without a command runs the image's entrypoint with
     *                its args, which only a container can
     */
    public ContainerModelRuntime(String name, List<SupportedFormat> formats, ContainerSpec container, ModelProcesses processes,
                                 Duration callTimeout, ContainerOptions options) {
        this.options = options;
        this.name = name;
        this.formats = List.copyOf(formats);
        this.container = container;
        this.processes = processes;
        this.callTimeout = callTimeout;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<SupportedFormat> supportedFormats() {
        return formats;
    }

    @Override
    public LoadedModel load(ModelSource source) throws ModelLoadException {
        boolean entrypoint = container.command().isEmpty();
        var command = new ArrayList<String>();
        // with the image's entrypoint the list holds only its arguments: a placeholder stands for the entrypoint
        if (entrypoint) command.add("");
        for (var part : container.command()) command.add(part.replace("{{.Name}}", source.modelName()));
        for (var part : container.args()) command.add(part.replace("{{.Name}}", source.modelName()));
        setPort(command);
        if (entrypoint) command.removeFirst();
        var modelDir = Files.isDirectory(source.path()) ? source.path() : source.path().getParent();
        var workingDir = container.workingDir() == null ? null : java.nio.file.Path.of(container.workingDir());
        var launch = new ModelProcesses.Launch(source.modelName() + "-" + name, container.image(), command, container.env(), modelDir,
                source.modelName(), workingDir, options, entrypoint);
        return processes.start(launch, name, callTimeout);
    }

    /** The process's port replaces the one {@code --http_port} names (KServe's runtimes say 8080). */
    private static void setPort(List<String> command) {
        for (int i = 1; i < command.size(); i++) {
            if (command.get(i).equals("--http_port") && i + 1 < command.size()) command.set(i + 1, "{port}");
            else if (command.get(i).startsWith("--http_port=")) command.set(i, "--http_port={port}");
        }
    }
}
