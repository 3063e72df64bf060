package io.capstan.core;

import java.util.List;
import java.util.Objects;

/**
 * A kind Capstan accepts: its API group and versions, its plural for URLs, short names for the CLI, and the
 * validator for its spec.
 *
 * @param group     API group, such as {@code kubeflow.org}; {@code capstan.io} for Capstan's own kinds
 * @param versions  accepted versions, the first being the one stored and served
 * @param kind      the kind, such as {@code Experiment}
 * @param plural    lower-case plural used in URLs, such as {@code experiments}
 * @param shortNames other names the CLI accepts
 * @param foreignApiVersions apiVersions of other groups read as this kind, such as {@code batch/v1} for Capstan's Job
 */
public record ResourceKind(String group, List<String> versions, String kind, String plural, List<String> shortNames,
                           SpecValidator validator, List<String> foreignApiVersions) {
    public ResourceKind {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(plural, "plural");
        Objects.requireNonNull(validator, "validator");
        versions = List.copyOf(versions);
        shortNames = List.copyOf(shortNames);
        foreignApiVersions = List.copyOf(foreignApiVersions);
        if (versions.isEmpty()) throw new IllegalArgumentException("kind " + kind + " needs at least one version");
    }

    public ResourceKind(String group, List<String> versions, String kind, String plural, List<String> shortNames, SpecValidator validator) {
        this(group, versions, kind, plural, shortNames, validator, List.of());
    }

    public static ResourceKind of(String group, String version, String kind, String plural, SpecValidator validator) {
        return new ResourceKind(group, List.of(version), kind, plural, List.of(), validator);
    }

    /** The preferred apiVersion, such as {@code kubeflow.org/v1beta1}. */
    public String apiVersion() {
        return group.isEmpty() ? versions.getFirst() : group + "/" + versions.getFirst();
    }

    public boolean accepts(String apiVersion) {
        return versions.stream().anyMatch(v -> apiVersion.equals(group.isEmpty() ? v : group + "/" + v)) || foreignApiVersions.contains(apiVersion);
    }

    /**
     * Whether documents of this kind carry their body at the top level rather than under {@code spec}, as Kubernetes'
     * core kinds (Secret, ConfigMap) and RBAC kinds (RoleBinding: {@code roleRef}, {@code subjects}) do.
     */
    public boolean hasTopLevelBody() {
        return group.isEmpty() || group.equals("rbac.authorization.k8s.io");
    }

    public boolean isNamed(String name) {
        var n = name.toLowerCase(java.util.Locale.ROOT);
        return n.equals(kind.toLowerCase(java.util.Locale.ROOT)) || n.equals(plural) || shortNames.contains(n);
    }
}
