package io.capstan.cli;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A kind the server serves, as {@code GET /apis/capstan/v1/kinds} lists it.
 *
 * @param kind       such as {@code Job}
 * @param apiVersion such as {@code capstan.io/v1}
 * @param plural     the path segment, such as {@code jobs}
 * @param shortNames other names a user may type, such as {@code job}
 */
record ResourceType(String kind, String apiVersion, String plural, List<String> shortNames) {
    ResourceType {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(apiVersion, "apiVersion");
        Objects.requireNonNull(plural, "plural");
        shortNames = List.copyOf(shortNames);
    }

    /** The API group, such as {@code capstan.io}; empty for a core-style {@code v1}. */
    String group() {
        int slash = apiVersion.indexOf('/');
        return slash < 0 ? "" : apiVersion.substring(0, slash);
    }

    /** The kubectl-style name used in messages, such as {@code job.capstan.io}. */
    String qualifiedName() {
        var lower = kind.toLowerCase(Locale.ROOT);
        return group().isEmpty() ? lower : lower + "." + group();
    }

    /** Whether a user-typed name (kind, plural or short name, optionally with {@code .group}) means this type. */
    boolean matches(String typed) {
        var name = typed.toLowerCase(Locale.ROOT);
        var suffix = "." + group().toLowerCase(Locale.ROOT);
        if (!group().isEmpty() && name.endsWith(suffix)) name = name.substring(0, name.length() - suffix.length());
        if (name.equals(kind.toLowerCase(Locale.ROOT)) || name.equals(plural.toLowerCase(Locale.ROOT))) return true;
        for (var shortName : shortNames) {
            if (name.equals(shortName.toLowerCase(Locale.ROOT))) return true;
        }
        return false;
    }

    boolean isJob() {
        return kind.equals("Job") && group().equals("capstan.io");
    }
}
