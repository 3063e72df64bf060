package io.capstan.backend;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Test data: a workload spec with valid defaults, so each test states only what matters. */
final class WorkloadBuilder {
    private final String id;
    private List<String> command = List.of("true");
    private final Map<String, String> env = new HashMap<>();
    private Optional<Path> workingDir = Optional.empty();
    private ResourceRequest requests = ResourceRequest.NONE;
    private Optional<Duration> timeout = Optional.empty();
    private int priority;
    private Optional<String> namespace = Optional.empty();
    private Optional<WorkloadSpec.Gang> gang = Optional.empty();

    private WorkloadBuilder(String id) {
        this.id = id;
    }

    static WorkloadBuilder aWorkload(String id) {
        return new WorkloadBuilder(id);
    }

    /** Runs {@code script} with /bin/sh -c. */
    WorkloadBuilder shell(String script) {
        this.command = List.of("sh", "-c", script);
        return this;
    }

    WorkloadBuilder command(String... argv) {
        this.command = List.of(argv);
        return this;
    }

    WorkloadBuilder env(String name, String value) {
        env.put(name, value);
        return this;
    }

    WorkloadBuilder workingDir(Path dir) {
        this.workingDir = Optional.of(dir);
        return this;
    }

    WorkloadBuilder requests(double cpus, long memoryBytes, int gpus) {
        this.requests = new ResourceRequest(cpus, memoryBytes, gpus);
        return this;
    }

    WorkloadBuilder timeout(Duration t) {
        this.timeout = Optional.of(t);
        return this;
    }

    WorkloadBuilder priority(int p) {
        this.priority = p;
        return this;
    }

    WorkloadBuilder namespace(String ns) {
        this.namespace = Optional.of(ns);
        return this;
    }

    WorkloadBuilder gang(String name, int size) {
        this.gang = Optional.of(new WorkloadSpec.Gang(name, size));
        return this;
    }

    WorkloadSpec build() {
        return new WorkloadSpec(id, command, env, workingDir, requests, timeout, priority, Optional.empty(), namespace, gang);
    }
}
