package io.capstan.kfpruntime;

import java.io.File;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Turns the container command of a KFP lightweight Python component into one that runs offline on this machine's
 * {@code python3}, with Capstan's own {@code kfp} runtime instead of the one pip would install.
 *
 * <p>The KFP compiler writes such a step as {@code sh -c "<pip preamble> && \"$0\" \"$@\"" sh -ec "<program>"
 * "<component source>"} with args {@code --executor_input {{$}} --function_to_execute <fn>}. The preamble installs
 * {@code kfp} and the component's {@code packages_to_install}; the program writes the source to a file and runs
 * {@code python3 -m kfp.dsl.executor_main}.
 */
public final class LightweightSteps {
    private static final Pattern PREAMBLE_END = Pattern.compile("&&\\s*\"\\$0\"\\s+\"\\$@\"\\s*$");
    private static final String EXECUTOR_MAIN = "kfp.dsl.executor_main";
    private static final String FAIL_SCRIPT = "printf '%s\\n' \"$0\" >&2; exit 1";

    private LightweightSteps() {
    }

    /**
     * A step's command after {@link #rewrite}.
     *
     * @param command what to run; the input command unchanged for a step that is not a KFP lightweight step
     * @param args its arguments
     * @param env variables to add to the inherited environment: {@code PYTHONPATH} (the runtime folder, before the
     *     {@code PYTHONPATH} this JVM inherited) and {@code PYTHONUNBUFFERED=1}; empty for other steps
     * @param missingPackages packages the step asked pip for that this machine's Python cannot import
     */
    public record Rewritten(List<String> command, List<String> args, Map<String, String> env,
                            List<String> missingPackages) {
        public Rewritten {
            command = List.copyOf(command);
            args = List.copyOf(args);
            env = Map.copyOf(env);
            missingPackages = List.copyOf(missingPackages);
        }

        /** True when the step was recognised as a KFP lightweight Python step (and {@link #env()} is not empty). */
        public boolean isLightweight() {
            return !env.isEmpty();
        }

        /**
         * Why the step cannot run here: one {@link #missingPackageMessage} line per missing package; empty when
         * nothing is missing. When present, {@link #command()} only prints this message to stderr and exits 1.
         */
        public Optional<String> failure() {
            if (missingPackages.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(String.join("\n", missingPackages.stream().map(LightweightSteps::missingPackageMessage).toList()));
        }
    }

    /**
     * Rewrites one container step. A step is a KFP lightweight step when its command starts with the pip preamble
     * ({@code sh -c <script>} whose script runs {@code pip install} and ends with {@code && "$0" "$@"}) or when a
     * word of it runs {@code kfp.dsl.executor_main}.
     *
     * <p>The preamble is dropped, so the rest of the command runs directly. The requirements it would install are
     * checked with {@code isImportable}, which receives each requirement's project name as written (for example
     * {@code scikit-learn}); {@code kfp} itself is not checked, since Capstan provides it, and nor is a requirement
     * whose environment marker excludes every Python the runtime supports (such as KFP's own
     * {@code typing-extensions; python_version<"3.9"}). A requirement without a project name (a URL or a path) is
     * reported as missing. When any is missing, the command becomes one that prints {@link Rewritten#failure()} and
     * exits 1, so that running it anyway fails with the same message.
     *
     * <p>Any other command comes back unchanged, with an empty {@code env}. Does not block beyond what
     * {@code isImportable} does.
     *
     * @param command the container's command
     * @param args the container's args
     * @param runtimeDir the folder {@link KfpRuntime#install(Path)} returned
     * @param isImportable whether this machine's Python can import a package, for example
     *     {@code PythonImports.create()::isImportable}
     */
    public static Rewritten rewrite(List<String> command, List<String> args, Path runtimeDir,
                                    Predicate<String> isImportable) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(args, "args");
        Objects.requireNonNull(runtimeDir, "runtimeDir");
        Objects.requireNonNull(isImportable, "isImportable");
        boolean preamble = hasPipPreamble(command);
        if (!preamble && !runsExecutorMain(command) && !runsExecutorMain(args)) {
            return new Rewritten(command, args, Map.of(), List.of());
        }
        var env = new LinkedHashMap<String, String>();
        var inherited = System.getenv("PYTHONPATH");
        env.put("PYTHONPATH", runtimeDir.toAbsolutePath() + (inherited == null || inherited.isEmpty()
                ? "" : File.pathSeparator + inherited));
        env.put("PYTHONUNBUFFERED", "1");
        if (!preamble) {
            return new Rewritten(command, args, env, List.of());
        }
        var missing = new LinkedHashSet<String>();
        for (var requirement : PipInstallScript.requirements(command.get(2))) {
            if (requirement.isKfp() || !requirement.appliesToSupportedPython()) {
                continue;
            }
            var name = requirement.name();
            if (name.isEmpty() || !isImportable.test(name.get())) {
                missing.add(requirement.displayName());
            }
        }
        if (!missing.isEmpty()) {
            var message = String.join("\n", missing.stream().map(LightweightSteps::missingPackageMessage).toList());
            return new Rewritten(List.of("sh", "-c", FAIL_SCRIPT, message), List.of(), env, List.copyOf(missing));
        }
        return new Rewritten(command.subList(3, command.size()), args, env, List.of());
    }

    /**
     * The failure message for a package that is not installed:
     * {@code package X is not installed and cannot be fetched (no network); install it on this machine (e.g.
     * apt-get install python3-X) or remove it from packages_to_install}.
     */
    public static String missingPackageMessage(String packageName) {
        Objects.requireNonNull(packageName, "packageName");
        return "package " + packageName + " is not installed and cannot be fetched (no network); install it on this "
                + "machine (e.g. apt-get install python3-" + packageName + ") or remove it from packages_to_install";
    }

    private static boolean hasPipPreamble(List<String> command) {
        if (command.size() < 4 || !command.get(1).equals("-c")) {
            return false;
        }
        var shell = command.get(0).substring(command.get(0).lastIndexOf('/') + 1);
        if (!shell.equals("sh") && !shell.equals("bash")) {
            return false;
        }
        var script = command.get(2);
        return script.contains("pip") && script.contains("install") && PREAMBLE_END.matcher(script).find();
    }

    private static boolean runsExecutorMain(List<String> words) {
        for (var word : words) {
            if (word.contains(EXECUTOR_MAIN)) {
                return true;
            }
        }
        return false;
    }
}
