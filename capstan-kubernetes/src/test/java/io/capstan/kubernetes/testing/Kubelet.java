package io.capstan.kubernetes.testing;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetStatus;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The kubelet and the Job, StatefulSet and Deployment controllers, played by a test in one namespace of a
 * {@link MockCluster}: it makes the pods a Job controller would, moves pods through their phases with status
 * patches, serves their logs through the mock's expectations, and sets the controllers' status.
 */
public final class Kubelet {
    /** When every served log starts; line i is stamped i ms after it. */
    private static final Instant LOG_START = Instant.parse("2026-01-02T03:04:05.000000001Z");

    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final String namespace;

    /** Acts through {@code client} (the test's own, not the one under test) on {@code server}, in {@code namespace}. */
    public Kubelet(KubernetesMockServer server, KubernetesClient client, String namespace) {
        this.server = Objects.requireNonNull(server, "server");
        this.client = Objects.requireNonNull(client, "client");
        this.namespace = Objects.requireNonNull(namespace, "namespace");
    }

    /** A pod's move to Running, for {@link #setPod}. */
    public static Consumer<Pod> running() {
        return p -> {
            p.getStatus().setPhase("Running");
            p.getStatus().setStartTime("2026-01-02T03:04:00Z");
        };
    }

    /** Patches the pod's status with {@code change}, as the kubelet reports it. */
    public void setPod(String pod, Consumer<Pod> change) {
        client.pods().inNamespace(namespace).withName(pod).editStatus(p -> {
            if (p.getStatus() == null) p.setStatus(new PodStatus());
            change.accept(p);
            return p;
        });
    }

    /** Ends the pod: Succeeded for exit code 0, else Failed, its container {@code main} terminated with {@code exitCode}. */
    public void finishPod(String pod, int exitCode) {
        setPod(pod, p -> {
            p.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
            p.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder().withName("main")
                    .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(exitCode).endTerminated().build()).build()));
        });
    }

    /** Runs the pod: serves {@code lines} as container {@code main}'s log, Running, then ends it with {@code exitCode}. */
    public void runPod(String pod, int exitCode, String... lines) {
        serveLogs(pod, lines);
        setPod(pod, running());
        // The backend must have the lines before the pod ends, as a real followed stream would deliver them.
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        finishPod(pod, exitCode);
    }

    /** {@link #serveContainerLogs} for container {@code main}. */
    public void serveLogs(String pod, String... lines) {
        serveContainerLogs(pod, "main", lines);
    }

    /**
     * Serves the container's log as a kubelet does with {@code follow=true}, except that the mock ends each stream at
     * once: all lines from the start, and from the last line's {@code sinceTime} that line.
     */
    public void serveContainerLogs(String pod, String container, String... lines) {
        var body = new StringBuilder();
        for (int i = 0; i < lines.length; i++) body.append(LOG_START.plusMillis(i)).append(' ').append(lines[i]).append('\n');
        var base = "/api/v1/namespaces/" + namespace + "/pods/" + pod + "/log?pretty=false&container=" + container;
        server.expect().get().withPath(base + "&timestamps=true&follow=true").andReturn(200, body.toString()).always();
        if (lines.length == 0) return;
        var last = LOG_START.plusMillis(lines.length - 1);
        server.expect().get().withPath(base + "&sinceTime=" + last + "&timestamps=true&follow=true")
                .andReturn(200, last + " " + lines[lines.length - 1] + "\n").always();
    }

    /** Creates the Job's pod from its template, as the Job controller would; returns its name. */
    public String jobPod(Job job) {
        var jobName = job.getMetadata().getName();
        var name = jobName + "-x7k2p";
        var labels = new HashMap<>(job.getSpec().getTemplate().getMetadata().getLabels());
        labels.put("job-name", jobName);
        client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(name).withLabels(labels).withAnnotations(job.getSpec().getTemplate().getMetadata().getAnnotations())
                .addNewOwnerReference().withKind("Job").withApiVersion("batch/v1").withName(jobName).withUid("u-" + jobName).endOwnerReference()
                .endMetadata().withSpec(job.getSpec().getTemplate().getSpec()).build()).create();
        return name;
    }

    /**
     * Creates the pod an Indexed Job's controller makes for completion index {@code index}: the template's metadata
     * plus the index label and annotation, hostname {@code <job>-<index>}; returns its name.
     */
    public String indexedJobPod(Job job, int index) {
        var jobName = job.getMetadata().getName();
        var name = jobName + "-" + index + "-q" + index + "zx";
        var labels = new HashMap<>(job.getSpec().getTemplate().getMetadata().getLabels());
        labels.put("job-name", jobName);
        labels.put("batch.kubernetes.io/job-completion-index", Integer.toString(index));
        var annotations = new HashMap<>(job.getSpec().getTemplate().getMetadata().getAnnotations());
        annotations.put("batch.kubernetes.io/job-completion-index", Integer.toString(index));
        var spec = job.getSpec().getTemplate().getSpec();
        spec.setHostname(jobName + "-" + index);
        client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(name).withLabels(labels).withAnnotations(annotations)
                .addNewOwnerReference().withKind("Job").withApiVersion("batch/v1").withName(jobName).withUid("u-" + jobName).endOwnerReference()
                .endMetadata().withSpec(spec).build()).create();
        return name;
    }

    /** Marks the Job Complete with {@code succeeded} pods succeeded, as the Job controller does. */
    public void completeJob(String job, int succeeded) {
        client.batch().v1().jobs().inNamespace(namespace).withName(job).editStatus(j -> {
            if (j.getStatus() == null) j.setStatus(new JobStatus());
            j.getStatus().setSucceeded(succeeded);
            j.getStatus().setConditions(List.of(new JobConditionBuilder().withType("Complete").withStatus("True").build()));
            return j;
        });
    }

    /** Marks the Job Failed as the Job controller does once a pod of a Job with backoffLimit 0 fails. */
    public void failJob(String job) {
        client.batch().v1().jobs().inNamespace(namespace).withName(job).editStatus(j -> {
            if (j.getStatus() == null) j.setStatus(new JobStatus());
            j.getStatus().setFailed(1);
            j.getStatus().setConditions(List.of(new JobConditionBuilder().withType("Failed").withStatus("True").withReason("BackoffLimitExceeded")
                    .withMessage("Job has reached the specified backoff limit").build()));
            return j;
        });
    }

    /** Reports {@code ready} of the StatefulSet's replicas there and ready, as its controller does. */
    public void setReadyReplicas(String statefulSet, int ready) {
        client.apps().statefulSets().inNamespace(namespace).withName(statefulSet).editStatus(s -> {
            if (s.getStatus() == null) s.setStatus(new StatefulSetStatus());
            s.getStatus().setReplicas(ready);
            s.getStatus().setReadyReplicas(ready);
            return s;
        });
    }

    /** Reports all {@code replicas} of the Deployment ready and available, as its controller does once they pass their readiness probe. */
    public void deploymentAvailable(String deployment, int replicas) {
        client.apps().deployments().inNamespace(namespace).withName(deployment).editStatus(d -> {
            d.setStatus(new DeploymentStatusBuilder().withReplicas(replicas).withReadyReplicas(replicas).withAvailableReplicas(replicas)
                    .withObservedGeneration(1L).build());
            return d;
        });
    }

    /** A container's environment as plain values; those from {@code valueFrom} are left out. */
    public static Map<String, String> env(List<EnvVar> env) {
        return env == null ? Map.of() : env.stream().filter(e -> e.getValue() != null).collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    }
}
