package io.capstan.training;

import io.capstan.backend.ResourceRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a training job runs, whatever kind it was written as: replica groups of nodes, how many processes each node
 * runs, the framework whose launch contract applies, and the run policy. Built by {@link V1Jobs} and
 * {@link TrainJobs}; turned into workloads by {@link Gang}.
 *
 * @param refusal  why Capstan cannot run this job locally, in a sentence; empty when it can
 * @param warnings fields accepted but not honoured locally, each as "path: why"
 */
record JobPlan(Framework framework, List<ReplicaGroup> groups, int procsPerNode, RunPolicy runPolicy,
               Optional<String> refusal, List<String> warnings, List<Initializer> fetches) {
    JobPlan(Framework framework, List<ReplicaGroup> groups, int procsPerNode, RunPolicy runPolicy, Optional<String> refusal, List<String> warnings) {
        this(framework, groups, procsPerNode, runPolicy, refusal, warnings, List.of());
    }

    JobPlan {
        fetches = List.copyOf(fetches);
        Objects.requireNonNull(framework, "framework");
        groups = List.copyOf(groups);
        Objects.requireNonNull(runPolicy, "runPolicy");
        Objects.requireNonNull(refusal, "refusal");
        warnings = List.copyOf(warnings);
        if (procsPerNode < 1) throw new IllegalArgumentException("procsPerNode must be >= 1, got " + procsPerNode);
    }

    /** Nodes across every group. */
    int nodes() {
        return groups.stream().mapToInt(ReplicaGroup::replicas).sum();
    }

    boolean hasMaster() {
        return groups.stream().anyMatch(g -> g.type().equals(ReplicaGroup.MASTER) && g.replicas() > 0);
    }

    JobPlan refused(String reason) {
        return new JobPlan(framework, groups, procsPerNode, runPolicy, Optional.of(reason), warnings, fetches);
    }

    /** The plan with each group's container replaced by {@code change}'s result. */
    JobPlan withContainers(java.util.function.UnaryOperator<Container> change) {
        var changed = groups.stream().map(g -> new ReplicaGroup(g.type(), g.replicas(), change.apply(g.container()))).toList();
        return new JobPlan(framework, changed, procsPerNode, runPolicy, refusal, warnings, fetches);
    }

    /** Initializers whose data must be copied from the artifact store into the job's folder before launch. */
    JobPlan withFetches(List<Initializer> toFetch) {
        return new JobPlan(framework, groups, procsPerNode, runPolicy, refusal, warnings, toFetch);
    }

    enum Framework {
        /** torch.distributed: PET_* for torchrun, or WORLD_SIZE/RANK/... when Capstan starts every process. */
        TORCH,
        /** XGBoost's collective: DMLC_* with a tracker that Capstan runs as a workload. */
        XGBOOST,
        /** Accepted and validated, but refused at run time with {@link JobPlan#refusal()}. */
        OTHER
    }

    /** One replica type (Master, Worker, node): {@code replicas} nodes running {@code container}. */
    record ReplicaGroup(String type, int replicas, Container container) {
        static final String MASTER = "Master";
        static final String WORKER = "Worker";

        ReplicaGroup {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(container, "container");
        }
    }

    /**
     * The parts of a Kubernetes container that a local process honours. {@code configRefs} holds the container's
     * references to Secrets and ConfigMaps ({@code env} entries with {@code valueFrom}, and {@code envFrom}) as a
     * container node; they are read when the job starts, so no secret value is kept in the plan. {@code mounts}
     * (hostPath volumes) and {@code pullPolicy} matter when it runs in a container.
     */
    record Container(Optional<String> image, List<String> command, List<String> args, Map<String, String> env,
                     ResourceRequest resources, Optional<String> workingDir, com.fasterxml.jackson.databind.node.ObjectNode configRefs,
                     List<io.capstan.backend.ContainerOptions.Mount> mounts, Optional<io.capstan.backend.ContainerOptions.PullPolicy> pullPolicy) {
        Container(Optional<String> image, List<String> command, List<String> args, Map<String, String> env,
                  ResourceRequest resources, Optional<String> workingDir) {
            this(image, command, args, env, resources, workingDir, com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
        }

        Container(Optional<String> image, List<String> command, List<String> args, Map<String, String> env,
                  ResourceRequest resources, Optional<String> workingDir, com.fasterxml.jackson.databind.node.ObjectNode configRefs) {
            this(image, command, args, env, resources, workingDir, configRefs, List.of(), Optional.empty());
        }

        Container {
            configRefs = configRefs.deepCopy();
            mounts = List.copyOf(mounts);
            Objects.requireNonNull(pullPolicy, "pullPolicy");
            Objects.requireNonNull(image, "image");
            command = List.copyOf(command);
            args = List.copyOf(args);
            env = Map.copyOf(env);
            Objects.requireNonNull(resources, "resources");
            Objects.requireNonNull(workingDir, "workingDir");
        }

        Container withConfigRefs(com.fasterxml.jackson.databind.node.ObjectNode refs) {
            return new Container(image, command, args, env, resources, workingDir, refs, mounts, pullPolicy);
        }

        /**
         * The container with {@code resolved} variables under its own ({@code env} wins, as in Kubernetes), and its
         * mount paths rewritten to their local folders in the command, arguments and environment.
         */
        Container withConfig(Map<String, String> resolved, io.capstan.core.ConfigResolver.PathRewrite rewrite) {
            var all = new java.util.LinkedHashMap<>(resolved);
            all.putAll(env);
            return new Container(image, command.stream().map(rewrite::apply).toList(), args.stream().map(rewrite::apply).toList(),
                    rewrite.applyToEnv(all), resources, workingDir, configRefs, mounts, pullPolicy);
        }

        List<String> commandLine() {
            var all = new java.util.ArrayList<>(command);
            all.addAll(args);
            return all;
        }

        boolean usesTorchrun() {
            if (command.isEmpty()) return false;
            var program = command.getFirst();
            var base = program.substring(program.lastIndexOf('/') + 1);
            if (base.equals("torchrun")) return true;
            // python -m torch.distributed.run / torch.distributed.launch
            int m = command.indexOf("-m");
            return base.startsWith("python") && m >= 0 && m + 1 < command.size()
                    && (command.get(m + 1).equals("torch.distributed.run") || command.get(m + 1).equals("torch.distributed.launch"));
        }
    }

    /** Kubeflow's runPolicy; {@code backoffLimit} counts whole-job restarts. */
    record RunPolicy(CleanPodPolicy cleanPodPolicy, int backoffLimit, Optional<Duration> activeDeadline,
                     Optional<Duration> ttlAfterFinished, boolean suspend) {
        RunPolicy {
            Objects.requireNonNull(cleanPodPolicy, "cleanPodPolicy");
            Objects.requireNonNull(activeDeadline, "activeDeadline");
            Objects.requireNonNull(ttlAfterFinished, "ttlAfterFinished");
        }
    }

    /** Which processes are stopped when the job ends: Kubeflow's names. */
    enum CleanPodPolicy {
        None, Running, All;

        static Optional<CleanPodPolicy> of(String name) {
            for (var p : values()) if (p.name().equals(name)) return Optional.of(p);
            return Optional.empty();
        }
    }
}
