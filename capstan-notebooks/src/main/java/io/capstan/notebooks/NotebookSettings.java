package io.capstan.notebooks;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The notebook controller's settings, read from the variables Kubeflow's controller reads: {@code ENABLE_CULLING},
 * {@code CULL_IDLE_TIME} and {@code IDLENESS_CHECK_PERIOD}, in minutes as there, or with a unit ({@code 30s},
 * {@code 2h}).
 *
 * @param python      the interpreter that runs Debian's Jupyter Notebook on the host
 * @param codeServer  the {@code code-server} program for VS Code notebooks on the host
 * @param execution   the server's {@code CAPSTAN_EXECUTION}: {@code container} runs every notebook in its image, unless
 *                    its {@code capstan.io/execution} says {@code host}; otherwise only those that say
 *                    {@code container} do (the default image, Kubeflow's, is rarely in a laptop's image store)
 */
public record NotebookSettings(boolean culling, Duration cullIdleTime, Duration idlenessCheckPeriod, String python, String codeServer,
                               io.capstan.backend.ContainerOptions.Execution execution) {
    /** Kubeflow's defaults: a day idle, checked every minute; culling is on here, since idle servers leak. */
    public static final NotebookSettings DEFAULTS = new NotebookSettings(true, Duration.ofMinutes(1440), Duration.ofMinutes(1),
            "/usr/bin/python3", "code-server", io.capstan.backend.ContainerOptions.Execution.AUTO);
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})\\s*(ms|s|m|h)?");

    public NotebookSettings {
        Objects.requireNonNull(cullIdleTime, "cullIdleTime");
        Objects.requireNonNull(idlenessCheckPeriod, "idlenessCheckPeriod");
        Objects.requireNonNull(python, "python");
        Objects.requireNonNull(codeServer, "codeServer");
        Objects.requireNonNull(execution, "execution");
        if (!cullIdleTime.isPositive()) throw new IllegalArgumentException("CULL_IDLE_TIME must be > 0, got " + cullIdleTime);
        if (!idlenessCheckPeriod.isPositive()) throw new IllegalArgumentException("IDLENESS_CHECK_PERIOD must be > 0, got " + idlenessCheckPeriod);
    }

    /** @throws IllegalArgumentException naming the variable whose value is not a duration */
    public static NotebookSettings fromEnvironment(Map<String, String> env) {
        return new NotebookSettings(
                !"false".equalsIgnoreCase(env.getOrDefault("ENABLE_CULLING", "true").strip()),
                duration(env, "CULL_IDLE_TIME", DEFAULTS.cullIdleTime),
                duration(env, "IDLENESS_CHECK_PERIOD", DEFAULTS.idlenessCheckPeriod),
                env.getOrDefault("CAPSTAN_NOTEBOOK_PYTHON", DEFAULTS.python),
                env.getOrDefault("CAPSTAN_CODE_SERVER", DEFAULTS.codeServer),
                io.capstan.backend.ContainerOptions.Execution.parse(env.get("CAPSTAN_EXECUTION"), "CAPSTAN_EXECUTION"));
    }

    public NotebookSettings withCulling(Duration idleTime, Duration checkPeriod) {
        return new NotebookSettings(true, idleTime, checkPeriod, python, codeServer, execution);
    }

    static Duration duration(Map<String, String> env, String name, Duration fallback) {
        var value = env.get(name);
        if (value == null || value.isBlank()) return fallback;
        var m = DURATION.matcher(value.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(name + "='" + io.capstan.core.Names.printable(value)
                    + "' is not a duration; give minutes (30) or a number with a unit (90s, 2h)");
        }
        long n = Long.parseLong(m.group(1));
        var unit = m.group(2) == null ? "m" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofMinutes(n);
        };
    }
}
