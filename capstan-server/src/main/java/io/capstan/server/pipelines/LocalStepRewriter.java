package io.capstan.server.pipelines;

import io.capstan.kfpruntime.KfpRuntime;
import io.capstan.kfpruntime.LightweightSteps;
import io.capstan.kfpruntime.PythonImports;
import io.capstan.pipelines.run.StepCommand;
import io.capstan.pipelines.run.StepCommandRewriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;

/**
 * Makes pipeline steps runnable on this machine without a network:
 * <ul>
 *   <li>a KFP lightweight Python step loses its {@code pip install} preamble and runs on the bundled offline
 *       {@code kfp} runtime; a package it names that is not importable fails the step with a sentence saying so;</li>
 *   <li>a step whose program is {@code capstan-component} runs Capstan's built-in Java component of that name in a
 *       JVM on Capstan's own class path.</li>
 * </ul>
 * Every other command is left as it is.
 */
public final class LocalStepRewriter implements StepCommandRewriter {
    public static final String BUILTIN_PROGRAM = "capstan-component";
    static final String BUILTIN_MAIN = "io.capstan.components.BuiltinMain";

    private final Path pythonRuntime;
    private final PythonImports imports;
    private final List<String> javaPrefix;

    LocalStepRewriter(Path pythonRuntime, PythonImports imports, List<String> javaPrefix) {
        this.pythonRuntime = Objects.requireNonNull(pythonRuntime, "pythonRuntime");
        this.imports = Objects.requireNonNull(imports, "imports");
        this.javaPrefix = List.copyOf(javaPrefix);
    }

    /** Installs the offline Python runtime under {@code runtimeRoot}; built-ins run on this JVM's own class path. */
    public static LocalStepRewriter install(Path runtimeRoot) {
        var java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        var prefix = List.of(java, "-Xss2m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-cp", io.capstan.backend.ChildJvm.absoluteClassPath(), BUILTIN_MAIN);
        return new LocalStepRewriter(KfpRuntime.install(runtimeRoot), PythonImports.create(), prefix);
    }

    @Override
    public StepCommand rewrite(StepCommand step) {
        if (!step.command().isEmpty() && step.command().getFirst().equals(BUILTIN_PROGRAM)) {
            var command = new ArrayList<>(javaPrefix);
            command.addAll(step.command().subList(1, step.command().size()));
            return new StepCommand(command, step.args(), step.env());
        }
        var rewritten = LightweightSteps.rewrite(step.command(), step.args(), pythonRuntime, imports::isImportable);
        if (!rewritten.isLightweight()) return step;
        var env = new HashMap<>(step.env());
        env.putAll(rewritten.env());
        return new StepCommand(rewritten.command(), rewritten.args(), env);
    }
}
