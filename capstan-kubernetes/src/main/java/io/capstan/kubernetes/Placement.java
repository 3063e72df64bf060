package io.capstan.kubernetes;

import io.capstan.core.InvalidSpecException;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What Kubernetes needs to know about a workload beyond its {@link io.capstan.backend.WorkloadSpec}: where it runs,
 * how it is labelled and what shape it takes. Passed alongside the spec to {@link KubernetesBackend#launch(
 * io.capstan.backend.WorkloadSpec, Placement)}; plain {@code launch(spec)} uses {@link #defaults()}.
 *
 * @param namespace       where the objects go; empty means the backend's default namespace
 * @param name            the Pod's or Job's name; empty means one derived from the workload id
 * @param shape           a bare Pod, or a batch/v1 Job (optionally Indexed) whose pods run the workload
 * @param labels          extra labels, such as {@link CapstanLabels#OWNER_KIND} or run/task/attempt of a pipeline step
 * @param template        a user's pod template to start from (a PyTorchJob replica's, a trial template's); its
 *                        container named {@code container} (or its first) runs the workload
 * @param container       the name of the container that runs the workload
 * @param imagePullPolicy Always, IfNotPresent or Never; empty leaves the cluster's default
 * @param ports           container ports, by name
 * @param headlessService also create a headless Service of this name selecting this workload's pods (a stable DNS
 *                        name for rendezvous); a Job's pods get it as their subdomain
 * @param workingDir      the container's working folder, a folder of its image; empty leaves the image's
 */
public record Placement(Optional<String> namespace, Optional<String> name, Shape shape, Map<String, String> labels,
                        Optional<PodTemplateSpec> template, String container, Optional<String> imagePullPolicy,
                        List<Port> ports, Optional<String> headlessService, Optional<String> workingDir) {
    public static final String DEFAULT_CONTAINER = "main";
    private static final List<String> PULL_POLICIES = List.of("Always", "IfNotPresent", "Never");

    public Placement {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        labels = Map.copyOf(labels);
        Objects.requireNonNull(template, "template");
        Objects.requireNonNull(container, "container");
        Objects.requireNonNull(imagePullPolicy, "imagePullPolicy");
        ports = List.copyOf(ports);
        Objects.requireNonNull(headlessService, "headlessService");
        Objects.requireNonNull(workingDir, "workingDir");
        workingDir.ifPresent(w -> {
            if (!w.startsWith("/")) throw InvalidSpecException.of("workingDir", "must be an absolute folder of the image, got '" + io.capstan.core.Names.printable(w) + "'");
        });
        headlessService.ifPresent(n -> {
            if (!CapstanLabels.isDnsLabel(n)) throw InvalidSpecException.of("service", "'" + io.capstan.core.Names.printable(n) + "' is not a DNS-1123 label");
        });
        namespace.ifPresent(ns -> {
            if (!CapstanLabels.isDnsLabel(ns)) throw InvalidSpecException.of("namespace", "'" + io.capstan.core.Names.printable(ns) + "' is not a DNS-1123 label");
        });
        name.ifPresent(n -> {
            if (!CapstanLabels.isDnsLabel(n)) throw InvalidSpecException.of("name", "'" + io.capstan.core.Names.printable(n) + "' is not a DNS-1123 label");
        });
        imagePullPolicy.ifPresent(p -> {
            if (!PULL_POLICIES.contains(p)) throw InvalidSpecException.of("imagePullPolicy", "must be one of " + PULL_POLICIES + ", got '" + io.capstan.core.Names.printable(p) + "'");
        });
    }

    /** A bare Pod in the backend's default namespace, named after the workload id. */
    public static Placement defaults() {
        return new Placement(Optional.empty(), Optional.empty(), Shape.POD, Map.of(), Optional.empty(), DEFAULT_CONTAINER,
                Optional.empty(), List.of(), Optional.empty(), Optional.empty());
    }

    public Placement inNamespace(String ns) {
        return new Placement(Optional.of(ns), name, shape, labels, template, container, imagePullPolicy, ports, headlessService, workingDir);
    }

    public Placement named(String n) {
        return new Placement(namespace, Optional.of(n), shape, labels, template, container, imagePullPolicy, ports, headlessService, workingDir);
    }

    public Placement withShape(Shape s) {
        return new Placement(namespace, name, s, labels, template, container, imagePullPolicy, ports, headlessService, workingDir);
    }

    public Placement withLabels(Map<String, String> more) {
        var all = new java.util.HashMap<>(labels);
        all.putAll(more);
        return new Placement(namespace, name, shape, all, template, container, imagePullPolicy, ports, headlessService, workingDir);
    }

    public Placement withTemplate(PodTemplateSpec t, String containerName) {
        return new Placement(namespace, name, shape, labels, Optional.of(t), containerName, imagePullPolicy, ports, headlessService, workingDir);
    }

    public Placement withPorts(List<Port> p) {
        return new Placement(namespace, name, shape, labels, template, container, imagePullPolicy, p, headlessService, workingDir);
    }

    public Placement withHeadlessService(String serviceName) {
        return new Placement(namespace, name, shape, labels, template, container, imagePullPolicy, ports, Optional.of(serviceName), workingDir);
    }

    public Placement withImagePullPolicy(String policy) {
        return new Placement(namespace, name, shape, labels, template, container, Optional.of(policy), ports, headlessService, workingDir);
    }

    /** The container's working folder: {@code dir} where it is absolute (a folder of the image), else the image's own. */
    public Placement withImageWorkingDir(Optional<String> dir) {
        return new Placement(namespace, name, shape, labels, template, container, imagePullPolicy, ports, headlessService,
                dir.filter(d -> d.startsWith("/")));
    }

    /** A Pod, or a Job of {@code completions} pods (Indexed when more than one: each pod learns its index). */
    public sealed interface Shape {
        Shape POD = new Pod();

        record Pod() implements Shape {
        }

        record Job(int completions, boolean indexed) implements Shape {
            public Job {
                if (completions < 1) throw InvalidSpecException.of("completions", "must be at least 1, got " + completions);
            }
        }

        /**
         * An Indexed Job of one pod per member workload, in order: the pod of completion index i runs
         * {@code members.get(i)}. Each member is launched on its own with the same spec (what differs between them
         * comes from the completion index); the first launch creates the Job and the others join it.
         */
        record Indexed(List<String> members) implements Shape {
            public Indexed {
                members = List.copyOf(members);
                if (members.isEmpty() || members.size() > 256) throw InvalidSpecException.of("completions", "must be 1-256, got " + members.size());
                for (var m : members) {
                    if (m.isBlank() || m.contains(",")) throw InvalidSpecException.of("members", "'" + io.capstan.core.Names.printable(m) + "' cannot be listed in an annotation");
                }
                if (new java.util.HashSet<>(members).size() != members.size()) throw InvalidSpecException.of("members", "are not distinct: " + members);
            }
        }

        static Shape job() {
            return new Job(1, false);
        }
    }

    public record Port(String name, int port) {
        public Port {
            Objects.requireNonNull(name, "name");
            if (port < 1 || port > 65535) throw InvalidSpecException.of("port", "must be 1-65535, got " + port);
        }
    }
}
