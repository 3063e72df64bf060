package io.capstan.backend;

import io.capstan.core.InvalidSpecException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How a workload with an image runs locally: in a container or on the host, which image pull policy applies, and
 * which host folders it sees besides its working directory (the working directory is always mounted at its own path).
 *
 * @param execution  the resource's choice ({@code capstan.io/execution} annotation); {@link Execution#AUTO} follows
 *                   the server's {@code CAPSTAN_EXECUTION}
 * @param pullPolicy Kubernetes {@code imagePullPolicy}; empty means Kubernetes' default ({@code Always} for
 *                   {@code :latest} or no tag, else {@code IfNotPresent})
 * @param mounts     host folders the container sees, for example the run's artifacts and PVC folders
 * @param workingDir the container's own working directory (a folder of the image, as a Pod's {@code workingDir});
 *                   empty means the workload's host working directory, mounted at its own path
 */
public record ContainerOptions(Execution execution, Optional<PullPolicy> pullPolicy, List<Mount> mounts, Optional<String> workingDir) {
    /** The annotation a resource uses to force where its workloads run. */
    public static final String EXECUTION_ANNOTATION = "capstan.io/execution";
    public static final ContainerOptions DEFAULT = new ContainerOptions(Execution.AUTO, Optional.empty(), List.of());

    public ContainerOptions {
        Objects.requireNonNull(execution, "execution");
        Objects.requireNonNull(pullPolicy, "pullPolicy");
        mounts = List.copyOf(mounts);
        Objects.requireNonNull(workingDir, "workingDir");
        if (workingDir.isPresent() && !workingDir.get().startsWith("/")) {
            throw InvalidSpecException.of("workingDir", "a container's workingDir '" + io.capstan.core.Names.printable(workingDir.get()) + "' must be absolute");
        }
    }

    public ContainerOptions(Execution execution, Optional<PullPolicy> pullPolicy, List<Mount> mounts) {
        this(execution, pullPolicy, mounts, Optional.empty());
    }

    public ContainerOptions withWorkingDir(Optional<String> dir) {
        return new ContainerOptions(execution, pullPolicy, mounts, dir);
    }

    public ContainerOptions withMounts(List<Mount> more) {
        var all = new java.util.ArrayList<>(mounts);
        all.addAll(more);
        return new ContainerOptions(execution, pullPolicy, all, workingDir);
    }

    /** Where a workload with an image runs. */
    public enum Execution {
        AUTO, CONTAINER, HOST;

        /**
         * {@code auto}, {@code container} or {@code host}, any case; blank is {@link #AUTO}.
         *
         * @throws InvalidSpecException naming {@code field} otherwise
         */
        public static Execution parse(String value, String field) {
            if (value == null || value.isBlank()) return AUTO;
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "auto" -> AUTO;
                case "container" -> CONTAINER;
                case "host" -> HOST;
                default -> throw InvalidSpecException.of(field, field + " must be auto, container or host, got '"
                        + io.capstan.core.Names.printable(value) + "'");
            };
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Kubernetes' {@code imagePullPolicy}. */
    public enum PullPolicy {
        ALWAYS("Always"), IF_NOT_PRESENT("IfNotPresent"), NEVER("Never");

        private final String kubernetesName;

        PullPolicy(String kubernetesName) {
            this.kubernetesName = kubernetesName;
        }

        public String kubernetesName() {
            return kubernetesName;
        }

        /**
         * {@code Always}, {@code IfNotPresent} or {@code Never} as Kubernetes spells them; blank is empty.
         *
         * @throws InvalidSpecException naming {@code field} otherwise
         */
        public static Optional<PullPolicy> parse(String value, String field) {
            if (value == null || value.isBlank()) return Optional.empty();
            for (var p : values()) {
                if (p.kubernetesName.equals(value)) return Optional.of(p);
            }
            throw InvalidSpecException.of(field, field + " must be Always, IfNotPresent or Never, got '" + io.capstan.core.Names.printable(value) + "'");
        }

        /** What Kubernetes does when no policy is given: {@code Always} for {@code :latest} or an untagged image. */
        public static PullPolicy defaultFor(String image) {
            if (image.contains("@")) return IF_NOT_PRESENT;
            int slash = image.lastIndexOf('/');
            int colon = image.lastIndexOf(':');
            if (colon <= slash || image.endsWith(":latest")) return ALWAYS;
            return IF_NOT_PRESENT;
        }
    }

    /** A host folder seen at {@code containerPath} inside the container. */
    public record Mount(Path hostPath, String containerPath, boolean readOnly) {
        public Mount {
            Objects.requireNonNull(hostPath, "hostPath");
            Objects.requireNonNull(containerPath, "containerPath");
            if (!containerPath.startsWith("/")) throw InvalidSpecException.of("mountPath", "mount path '" + io.capstan.core.Names.printable(containerPath) + "' must be absolute");
        }

        /** The host folder at the same path inside the container, as the workload's rewritten command names it. */
        public static Mount samePath(Path hostPath) {
            var abs = hostPath.toAbsolutePath().normalize();
            return new Mount(abs, abs.toString(), false);
        }
    }
}
