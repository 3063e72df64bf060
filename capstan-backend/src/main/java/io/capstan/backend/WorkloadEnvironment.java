package io.capstan.backend;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a workload inherits of the server's environment: the variables a program needs to find its tools and speak
 * the user's language ({@code PATH}, {@code HOME}, {@code USER}, {@code LOGNAME}, {@code SHELL}, {@code TMPDIR},
 * {@code TERM}, {@code LANG}, {@code LC_*}, {@code TZ}) and the proxy settings, nothing else. The server's own
 * credentials ({@code CAPSTAN_DB_PASSWORD}, the S3 secret key, cloud tokens) must not leak into user code; what a
 * workload needs comes through its own {@code env}, which Capstan sets on purpose.
 */
final class WorkloadEnvironment {
    private static final Set<String> NAMES = Set.of("PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TERM", "LANG", "LANGUAGE", "TZ");
    private static final Set<String> PROXIES = Set.of("http_proxy", "https_proxy", "no_proxy", "all_proxy");

    private WorkloadEnvironment() {
    }

    /** The allowed part of {@code host}. */
    static Map<String, String> inherited(Map<String, String> host) {
        var out = new TreeMap<String, String>();
        host.forEach((name, value) -> {
            if (allowed(name)) out.put(name, value);
        });
        return Map.copyOf(out);
    }

    static boolean allowed(String name) {
        return NAMES.contains(name) || name.startsWith("LC_") || PROXIES.contains(name.toLowerCase(Locale.ROOT));
    }
}
