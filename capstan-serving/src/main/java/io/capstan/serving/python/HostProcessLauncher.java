package io.capstan.serving.python;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;

/**
 * Runs a model server as a child process of Capstan. A host process has no mount namespace, and a symbolic link at
 * {@code /mnt/models} would need root and could serve only one model at a time, so {@code /mnt/models} is rewritten
 * to the model's local folder in the command's arguments and environment values instead.
 */
public final class HostProcessLauncher implements ProcessLauncher {

    @Override
    public Process launch(ProcessSpec spec) throws IOException {
        if (spec.entrypoint()) {
            throw new EntrypointRefusedException("image " + spec.image() + " gives no command: Capstan runs this container as a process on this "
                    + "machine and cannot run the image's entrypoint without a container engine; install Podman, or give the "
                    + "command that starts the model server, such as [python3, -m, model], with its code on this machine (the kserve "
                    + "package is provided)");
        }
        var command = new ArrayList<String>();
        for (var part : spec.command()) command.add(mounted(part, spec.modelDir()));
        var executable = command.getFirst();
        if (executable.equals("python") || executable.equals("python3")) {
            // the image's Python is the host's: the one with numpy and scikit-learn, and the kserve shim on its path
            command.set(0, PythonInterpreter.command());
        } else if (!executable.contains("/") && !onPath(executable)) {
            throw new IOException("the command '" + executable + "' does not exist on this machine, and Capstan runs "
                    + (spec.image() == null ? "custom containers" : "image " + spec.image()) + " as host processes");
        } else if (executable.contains("/") && !Files.isExecutable(Path.of(executable))) {
            throw new IOException("the command " + executable + " does not exist or is not executable on this machine");
        }
        var builder = new ProcessBuilder(command);
        var env = new HashMap<String, String>();
        spec.env().forEach((k, v) -> env.put(k, mounted(v, spec.modelDir())));
        builder.environment().putAll(env);
        builder.redirectErrorStream(true);
        Files.createDirectories(spec.log().getParent());
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(spec.log().toFile()));
        if (spec.workingDir() != null) builder.directory(spec.workingDir().toFile());
        return builder.start();
    }

    private static String mounted(String value, Path modelDir) {
        if (modelDir == null || !value.contains(ProcessSpec.MODEL_MOUNT)) return value;
        return value.replace(ProcessSpec.MODEL_MOUNT, modelDir.toAbsolutePath().toString());
    }

    private static boolean onPath(String executable) {
        var path = System.getenv("PATH");
        if (path == null) return false;
        for (var dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, executable))) return true;
        }
        return false;
    }
}
