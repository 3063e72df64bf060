package io.capstan.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Problems;
import io.capstan.core.Quantity;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKind;
import io.capstan.core.SpecFields;
import io.capstan.core.security.Role;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Kubeflow's tenancy kinds, accepted as Kubeflow writes them.
 * <ul>
 *   <li>{@code Profile} ({@code kubeflow.org/v1}): a namespace owned by {@code spec.owner} (a User), with
 *   {@code spec.resourceQuotaSpec}. Profiles are cluster-scoped in Kubernetes; Capstan stores each in the namespace
 *   it creates, so a Profile's {@code metadata.namespace} is always its {@code metadata.name}.</li>
 *   <li>{@code RoleBinding} ({@code rbac.authorization.k8s.io/v1}) granting one of the ClusterRoles
 *   {@code kubeflow-admin}, {@code kubeflow-edit} or {@code kubeflow-view} to Users in its namespace, as Kubeflow's
 *   access management (KFAM) writes them, annotations {@code user} and {@code role} included.</li>
 * </ul>
 */
public final class TenancyKinds {
    public static final String PROFILE = "Profile";
    public static final String ROLE_BINDING = "RoleBinding";
    static final String RBAC_GROUP = "rbac.authorization.k8s.io";
    private static final Pattern RESOURCE_NAME = Pattern.compile("([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?");
    private static final int MAX_USER = 253;

    public static final ResourceKind PROFILE_KIND = new ResourceKind("kubeflow.org", List.of("v1"), PROFILE, "profiles",
            List.of("profile"), TenancyKinds::validateProfile);
    public static final ResourceKind ROLE_BINDING_KIND = new ResourceKind(RBAC_GROUP, List.of("v1"), ROLE_BINDING,
            "rolebindings", List.of("rolebinding"), TenancyKinds::validateRoleBinding);

    private TenancyKinds() {
    }

    public static List<ResourceKind> all() {
        return List.of(PROFILE_KIND, ROLE_BINDING_KIND);
    }

    /**
     * A Profile placed in the namespace it creates, its name; other kinds unchanged. A Profile's name must be a valid
     * namespace name, and a namespace the request named explicitly must be that name.
     *
     * @param requested the namespace the request's URL named, if it named one
     */
    public static Resource placed(Resource resource, Optional<String> requested) {
        if (!resource.kind().equals(PROFILE)) return resource;
        var name = resource.metadata().name();
        Names.checkLabel(name).ifPresent(m -> {
            throw InvalidSpecException.of("metadata.name", "a Profile's name is the namespace it creates, so it must be a namespace name: " + m);
        });
        if (requested.isPresent() && !requested.get().equals(name)) {
            throw InvalidSpecException.of("metadata.namespace", "Profile '" + name + "' lives in the namespace it creates, '" + name
                    + "', not '" + requested.get() + "'; Profiles are cluster-scoped, so apply it without a namespace");
        }
        var m = resource.metadata();
        return resource.withMetadata(new ObjectMeta(m.name(), name, m.uid(), m.labels(), m.annotations(), m.creationTimestamp(),
                m.generation(), m.resourceVersion(), m.ownerReferences()));
    }

    /** The user that owns a stored Profile: {@code spec.owner.name}. */
    static String owner(Resource profile) {
        return profile.spec().path("owner").path("name").asText("");
    }

    /** The role a stored RoleBinding grants, and to whom: its User subjects. */
    record Grant(Role role, List<String> users) {
    }

    static Optional<Grant> grant(Resource binding) {
        var spec = binding.spec();
        var role = Role.ofClusterRole(spec.path("roleRef").path("name").asText(""));
        if (role.isEmpty()) return Optional.empty();
        var users = new java.util.ArrayList<String>();
        for (var s : spec.path("subjects")) {
            if (s.path("kind").asText("").equals("User")) users.add(s.path("name").asText(""));
        }
        return Optional.of(new Grant(role.get(), users));
    }

    static void validateProfile(ObjectNode spec, Problems problems) {
        SpecFields.requiredObject(spec.get("owner"), "spec.owner", problems).ifPresent(owner -> {
            SpecFields.string(owner.get("kind"), "spec.owner.kind", 64, problems).ifPresentOrElse(kind -> {
                if (!kind.equals("User")) {
                    problems.add("spec.owner.kind", "a Profile's owner is a User, got '" + Names.printable(kind) + "'");
                }
            }, () -> {
                if (!SpecFields.present(owner.get("kind"))) problems.add("spec.owner.kind", "required: set kind: User");
            });
            user(owner.get("name"), "spec.owner.name", problems);
            apiGroup(owner.get("apiGroup"), "spec.owner.apiGroup", problems);
        });
        SpecFields.object(spec.get("resourceQuotaSpec"), "spec.resourceQuotaSpec", problems)
                .flatMap(q -> SpecFields.object(q.get("hard"), "spec.resourceQuotaSpec.hard", problems))
                .ifPresent(hard -> hard.properties().forEach(e -> {
                    var path = "spec.resourceQuotaSpec.hard." + Names.printable(e.getKey());
                    if (!RESOURCE_NAME.matcher(e.getKey()).matches() || e.getKey().length() > 253) {
                        problems.add(path, "is not a resource name such as cpu, memory, pods or requests.nvidia.com/gpu");
                        return;
                    }
                    JsonNode v = e.getValue();
                    if (!v.isTextual() && !v.isNumber()) {
                        problems.add(path, "expected a quantity such as \"2\", \"500m\" or \"4Gi\", got " + SpecFields.describe(v));
                        return;
                    }
                    try {
                        Quantity.parse(path, v.asText());
                    } catch (InvalidSpecException ex) {
                        problems.add(path, "'" + Names.printable(v.asText())
                                + "' is not a quantity; write a number with an optional suffix such as 500m, 2, 512Mi or 1Gi");
                    }
                }));
    }

    static void validateRoleBinding(ObjectNode spec, Problems problems) {
        SpecFields.requiredObject(spec.get("roleRef"), "roleRef", problems).ifPresent(ref -> {
            var group = SpecFields.string(ref.get("apiGroup"), "roleRef.apiGroup", 253, problems);
            if (group.isPresent() && !group.get().equals(RBAC_GROUP)) {
                problems.add("roleRef.apiGroup", "must be " + RBAC_GROUP + ", got '" + Names.printable(group.get()) + "'");
            }
            var kind = SpecFields.string(ref.get("kind"), "roleRef.kind", 64, problems);
            if (kind.isEmpty()) {
                if (!SpecFields.present(ref.get("kind"))) problems.add("roleRef.kind", "required: set kind: ClusterRole");
            } else if (!kind.get().equals("ClusterRole")) {
                problems.add("roleRef.kind", "Capstan grants Kubeflow's ClusterRoles only; set kind: ClusterRole, got '"
                        + Names.printable(kind.get()) + "'");
            }
            var name = SpecFields.string(ref.get("name"), "roleRef.name", 253, problems);
            if (name.isEmpty()) {
                if (!SpecFields.present(ref.get("name"))) problems.add("roleRef.name", "required: kubeflow-admin, kubeflow-edit or kubeflow-view");
            } else if (Role.ofClusterRole(name.get()).isEmpty()) {
                problems.add("roleRef.name", "'" + Names.printable(name.get())
                        + "' is not one of Kubeflow's roles; use kubeflow-admin, kubeflow-edit or kubeflow-view");
            }
        });
        var subjects = spec.get("subjects");
        if (!SpecFields.present(subjects)) {
            problems.add("subjects", "required: a list of subjects such as {kind: User, name: alice@example.com}");
            return;
        }
        if (!subjects.isArray() || subjects.isEmpty()) {
            problems.add("subjects", "expected a non-empty list of subjects, got " + (subjects.isArray() ? "an empty list" : SpecFields.describe(subjects)));
            return;
        }
        for (int i = 0; i < subjects.size(); i++) {
            var path = "subjects[" + i + "]";
            var s = subjects.get(i);
            if (!s.isObject()) {
                problems.add(path, "expected an object with kind and name, got " + SpecFields.describe(s));
                continue;
            }
            var kind = SpecFields.string(s.get("kind"), path + ".kind", 64, problems);
            if (kind.isEmpty()) {
                if (!SpecFields.present(s.get("kind"))) problems.add(path + ".kind", "required: set kind: User");
            } else if (!kind.get().equals("User")) {
                problems.add(path + ".kind", "Capstan grants access to Users only, got '" + Names.printable(kind.get())
                        + "'; a workload gets its own scoped token instead of a ServiceAccount");
            }
            user(s.get("name"), path + ".name", problems);
            apiGroup(s.get("apiGroup"), path + ".apiGroup", problems);
        }
    }

    private static void user(JsonNode node, String path, Problems problems) {
        if (!SpecFields.present(node)) {
            problems.add(path, "required: the user's name, as their token names them (an e-mail address)");
            return;
        }
        SpecFields.string(node, path, MAX_USER, problems).ifPresent(n -> {
            if (n.isBlank()) problems.add(path, "must not be empty");
        });
    }

    private static void apiGroup(JsonNode node, String path, Problems problems) {
        SpecFields.string(node, path, 253, problems).ifPresent(g -> {
            if (!g.isEmpty() && !g.equals(RBAC_GROUP)) problems.add(path, "must be " + RBAC_GROUP + " for a User, got '" + Names.printable(g) + "'");
        });
    }
}
