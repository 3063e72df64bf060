package io.capstan.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The environment a container sees: exactly the workload's own variables (already resolved by whoever built the
 * spec, secrets included) plus {@code CAPSTAN_WORKLOAD_ID}, never the server's. Each one is passed as {@code -e NAME}
 * without a value, so the engine copies it from the client's environment and no value (a token, a password) shows
 * on a command line that {@code ps} can read.
 */
public final class ContainerEnv {
    private ContainerEnv() {
    }

    /** The {@code -e NAME} flags for {@code workloadEnv}, in name order. */
    public static List<String> flags(Map<String, String> workloadEnv) {
        var flags = new ArrayList<String>();
        for (var name : new TreeMap<>(workloadEnv).keySet()) {
            if (name.isEmpty() || name.indexOf('=') >= 0) continue;
            flags.add("-e");
            flags.add(name);
        }
        return flags;
    }
}
