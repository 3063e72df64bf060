package io.capstan.kubernetes;

import static io.capstan.kubernetes.testing.Kubelet.running;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.backend.LogLine;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.kubernetes.testing.Eventually;
import io.capstan.kubernetes.testing.Kubelet;
import io.capstan.kubernetes.testing.MockCluster;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend against fabric8's mock API server in CRUD mode, where this test plays the kubelet and the Job
 * controller: it moves pods through their phases with status patches and serves their logs through expectations.
 * With {@code -Dcapstan.test.kube=real} the same tests run against the cluster of $KUBECONFIG, where a real kubelet
 * runs busybox and the test only watches (see README, "Running on Kubernetes").
 */
class KubernetesBackendTest {
    static final boolean REAL = "real".equals(System.getProperty("capstan.test.kube"));
    static final String IMAGE = "busybox:1.36";

    @TempDir
    Path stateDir;

    KubernetesMockServer server;
    KubernetesClient client;
    String namespace;
    /** The kubelet and Job controller this test plays on the mock; none against a real cluster. */
    Kubelet kubelet;
    final List<KubernetesBackend> backends = new ArrayList<>();

    @BeforeEach
    void start() {
        if (REAL) {
            client = new KubernetesClientBuilder().build();
            namespace = "default";
        } else {
            server = MockCluster.start();
            client = server.createClient();
            namespace = "test";
            kubelet = new Kubelet(server, client, namespace);
        }
    }

    @AfterEach
    void stop() {
        // Cancelling and removing deletes every object a test made, so that a real cluster is left as it was.
        for (var b : backends) {
            for (var w : b.list()) {
                if (!w.phase().isTerminal()) b.cancel(w.id());
                b.remove(w.id());
            }
            b.close();
        }
        client.close();
        if (server != null) server.destroy();
    }

    KubernetesBackend backend(Path dir) {
        var b = new KubernetesBackend(KubernetesBackend.Options.of(client, dir, namespace).withLogRetry(Duration.ofMillis(100)));
        backends.add(b);
        return b;
    }

    static String newId() {
        return "job_" + UUID.randomUUID().toString().substring(0, 8) + "_1";
    }

    static WorkloadSpec spec(String id, String script) {
        return new WorkloadSpec(id, List.of("sh", "-c", script), Map.of("GREETING", "hi"), Optional.empty(),
                new ResourceRequest(0.5, 64L << 20, 0), Optional.empty(), 0, Optional.of(IMAGE));
    }

    @Test
    void aPodRunsAndSucceedsWithItsLogs() {
        var backend = backend(stateDir);
        var id = newId();
        var state = backend.launch(spec(id, "echo one; echo two"));
        assertThat(state.phase()).isIn(WorkloadPhase.QUEUED, WorkloadPhase.RUNNING);

        var pod = client.pods().inNamespace(namespace).withName(CapstanLabels.objectName(id)).get();
        assertThat(pod.getMetadata().getLabels())
                .containsEntry(CapstanLabels.MANAGED_BY, "capstan")
                .containsEntry(CapstanLabels.WORKLOAD_ID, id);
        assertThat(pod.getMetadata().getAnnotations()).containsEntry(CapstanLabels.WORKLOAD_ID_ANNOTATION, id);
        var container = pod.getSpec().getContainers().getFirst();
        assertThat(container.getImage()).isEqualTo(IMAGE);
        assertThat(container.getCommand()).containsExactly("sh", "-c", "echo one; echo two");
        assertThat(container.getResources().getRequests().get("cpu").toString()).isEqualTo("500m");
        assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");

        kubelet(pod.getMetadata().getName(), 0, "one", "two");
        var done = await(backend, id, WorkloadPhase.SUCCEEDED);
        assertThat(done.exitCode()).contains(0);
        assertThat(done.startedAt()).isPresent();
        assertThat(done.finishedAt()).isPresent();
        eventually(() -> texts(backend.tail(id, 10)), List.of("one", "two"));
    }

    @Test
    void aFinishedPodIsReportedFinishedOnceItsLogIsCopied() {
        if (REAL) return; // The mock delays the log stream.
        var backend = backend(stateDir);
        var id = newId();
        backend.launch(spec(id, "echo accuracy=0.9"));
        var pod = CapstanLabels.objectName(id);
        // The kubelet is slow to serve the log, and the pod ends before the backend has read a line of it.
        var t = Instant.parse("2026-01-02T03:04:05.000000001Z");
        var base = "/api/v1/namespaces/" + namespace + "/pods/" + pod + "/log?pretty=false&container=main";
        server.expect().get().delay(1500, java.util.concurrent.TimeUnit.MILLISECONDS).withPath(base + "&timestamps=true&follow=true")
                .andReturn(200, t + " epoch 1\n" + t.plusMillis(1) + " accuracy=0.9\n").always();
        server.expect().get().withPath(base + "&sinceTime=" + t.plusMillis(1) + "&timestamps=true&follow=true")
                .andReturn(200, t.plusMillis(1) + " accuracy=0.9\n").always();
        kubelet.setPod(pod, running());
        finishPod(pod, 0);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (backend.find(id).orElseThrow().phase() != WorkloadPhase.SUCCEEDED && System.nanoTime() < deadline) sleep(20);
        // Whoever reads the log on seeing it finished (a trial's metrics on stdout) finds all of it.
        assertThat(texts(backend.tail(id, 10))).containsExactly("epoch 1", "accuracy=0.9");
        assertThat(backend.list()).filteredOn(w -> w.id().equals(id)).extracting(WorkloadState::phase).containsExactly(WorkloadPhase.SUCCEEDED);
    }

    @Test
    void aFailingPodReportsItsExitCode() {
        var backend = backend(stateDir);
        var id = newId();
        backend.launch(spec(id, "echo broken >&2; exit 3"));
        kubelet(CapstanLabels.objectName(id), 3, "broken");
        var done = await(backend, id, WorkloadPhase.FAILED);
        assertThat(done.exitCode()).contains(3);
        assertThat(done.message()).isEqualTo("exited with code 3");
        eventually(() -> texts(backend.tail(id, 10)), List.of("broken"));
    }

    @Test
    void aPendingPodSaysWhyAndADeadlineIsATimeout() {
        if (REAL) return; // Needs a pod that cannot be scheduled and one killed by its deadline, which the mock plays.
        var backend = backend(stateDir);
        var id = newId();
        backend.launch(spec(id, "sleep 600"));
        var name = CapstanLabels.objectName(id);
        kubelet.setPod(name, p -> {
            p.getStatus().setPhase("Pending");
            p.getStatus().setConditions(List.of(new io.fabric8.kubernetes.api.model.PodConditionBuilder().withType("PodScheduled")
                    .withStatus("False").withReason("Unschedulable").withMessage("0/3 nodes are available: 3 Insufficient cpu.").build()));
        });
        eventually(() -> backend.find(id).orElseThrow().message(), "not scheduled: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.");
        assertThat(backend.find(id).orElseThrow().phase()).isEqualTo(WorkloadPhase.QUEUED);

        kubelet.setPod(name, p -> {
            p.getStatus().setPhase("Failed");
            p.getStatus().setReason("DeadlineExceeded");
            p.getStatus().setMessage("Pod was active on the node longer than the specified deadline");
        });
        var done = await(backend, id, WorkloadPhase.FAILED);
        assertThat(done.message()).isEqualTo("killed after its timeout (activeDeadlineSeconds)");
        assertThat(done.exitCode()).isEmpty();
    }

    @Test
    void aJobShapedWorkloadFollowsItsJob() {
        var backend = backend(stateDir);
        var id = newId();
        backend.launch(spec(id, "echo from-job; exit 2"), Placement.defaults().withShape(Placement.Shape.job()).named("train-step"));
        var job = client.batch().v1().jobs().inNamespace(namespace).withName("train-step").get();
        assertThat(job.getSpec().getBackoffLimit()).isZero();
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels()).containsEntry(CapstanLabels.WORKLOAD_ID, id);
        if (!REAL) assertThat(client.pods().inNamespace(namespace).list().getItems()).isEmpty();

        var podName = REAL ? null : kubelet.jobPod(job);
        if (!REAL) {
            kubelet(podName, 2, "from-job");
            kubelet.failJob("train-step");
        }
        var done = await(backend, id, WorkloadPhase.FAILED);
        assertThat(done.exitCode()).contains(2);
        eventually(() -> texts(backend.tail(id, 10)), List.of("from-job"));
    }

    @Test
    void cancelDeletesThePodAndItsServiceAndKeepsCancelled() {
        var backend = backend(stateDir);
        var id = newId();
        backend.launch(spec(id, "sleep 600"), Placement.defaults().named("sleeper").withHeadlessService("sleeper")
                .withPorts(List.of(new Placement.Port("rendezvous", 29500))));
        assertThat(client.services().inNamespace(namespace).withName("sleeper").get()).isNotNull();
        if (!REAL) kubelet.setPod("sleeper", running());
        await(backend, id, WorkloadPhase.RUNNING);

        var cancelled = backend.cancel(id);
        assertThat(cancelled.phase()).isEqualTo(WorkloadPhase.CANCELLED);
        eventually(() -> client.pods().inNamespace(namespace).withName("sleeper").get() == null, true);
        assertThat(client.services().inNamespace(namespace).withName("sleeper").get()).isNull();
        // The pod's deletion event must not turn the cancel into LOST.
        assertThat(backend.find(id).orElseThrow().phase()).isEqualTo(WorkloadPhase.CANCELLED);
        backend.remove(id);
        assertThat(backend.find(id)).isEmpty();
    }

    @Test
    void aNewBackendAdoptsRunningPodsByLabelEvenWithoutTheirFolder() {
        var first = backend(stateDir.resolve("a"));
        var id = newId();
        first.launch(spec(id, "echo adopted; sleep 20"));
        var name = CapstanLabels.objectName(id);
        serveLogs(name, "adopted");
        if (!REAL) kubelet.setPod(name, running());
        await(first, id, WorkloadPhase.RUNNING);
        first.close();
        backends.remove(first);

        // Another replica, with its own (empty) state folder.
        var second = backend(stateDir.resolve("b"));
        assertThat(second.find(id)).isPresent();
        await(second, id, WorkloadPhase.RUNNING);
        finishPod(name, 0);
        var done = await(second, id, WorkloadPhase.SUCCEEDED);
        assertThat(done.exitCode()).contains(0);
        eventually(() -> texts(second.tail(id, 10)), List.of("adopted"));
        // Launching the same workload again is idempotent: no second pod, the adopted state.
        assertThat(second.launch(spec(id, "echo adopted; sleep 20")).phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
    }

    @Test
    void aWorkloadWhosePodVanishedWhileDownIsLost() {
        var first = backend(stateDir);
        var id = newId();
        first.launch(spec(id, "sleep 600"));
        var name = CapstanLabels.objectName(id);
        if (!REAL) kubelet.setPod(name, running());
        await(first, id, WorkloadPhase.RUNNING);
        first.close();
        backends.remove(first);
        client.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
        eventually(() -> client.pods().inNamespace(namespace).withName(name).get() == null, true);

        var second = backend(stateDir);
        var state = second.find(id).orElseThrow();
        assertThat(state.phase()).isEqualTo(WorkloadPhase.LOST);
        assertThat(state.message()).contains("vanished while Capstan was down");
    }

    @Test
    void logsOutliveThePodAndTheBackend() throws Exception {
        var backend = backend(stateDir);
        var id = newId();
        backend.launch(spec(id, "echo first; echo second; echo third"));
        var name = CapstanLabels.objectName(id);
        kubelet(name, 0, "first", "second", "third");
        await(backend, id, WorkloadPhase.SUCCEEDED);
        eventually(() -> texts(backend.tail(id, 10)), List.of("first", "second", "third"));

        client.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
        eventually(() -> client.pods().inNamespace(namespace).withName(name).get() == null, true);
        assertThat(texts(backend.follow(id, 1, Duration.ofMillis(100)))).containsExactly("second", "third");
        assertThat(backend.find(id).orElseThrow().phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        backend.close();
        backends.remove(backend);

        var again = backend(stateDir);
        assertThat(again.find(id).orElseThrow().phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        var lines = again.tail(id, 2);
        assertThat(texts(lines)).containsExactly("second", "third");
        assertThat(lines.get(0).number()).isEqualTo(1);
        // A finished workload's log is sealed: follow answers at once with nothing new.
        assertThat(again.follow(id, 3, Duration.ofSeconds(30))).isEmpty();
    }

    @Test
    void aBackendRestartedAfterThePodEndedCopiesTheRestOfItsLogWithoutRepeats() {
        if (REAL) return; // Needs the log to grow exactly while no backend runs, which only the mock can arrange.
        var first = backend(stateDir);
        var id = newId();
        first.launch(spec(id, "echo a; echo b; sleep 1; echo c"));
        var name = CapstanLabels.objectName(id);
        var t = Instant.parse("2026-01-02T03:04:05Z");
        var base = "/api/v1/namespaces/" + namespace + "/pods/" + name + "/log?pretty=false&container=main";
        server.expect().get().withPath(base + "&timestamps=true&follow=true").andReturn(200, t + " a\n" + t.plusSeconds(1) + " b\n").always();
        server.expect().get().withPath(base + "&sinceTime=" + t.plusSeconds(1) + "&timestamps=true&follow=true")
                .andReturn(200, t.plusSeconds(1) + " b\n").always();
        kubelet.setPod(name, running());
        eventually(() -> texts(first.tail(id, 10)), List.of("a", "b"));
        first.close();
        backends.remove(first);

        // While no backend runs, the program writes its third line and ends.
        server.clearExpectations();
        server.expect().get().withPath(base + "&timestamps=true&follow=true")
                .andReturn(200, t + " a\n" + t.plusSeconds(1) + " b\n" + t.plusSeconds(2) + " c\n").always();
        server.expect().get().withPath(base + "&sinceTime=" + t.plusSeconds(1) + "&timestamps=true&follow=true")
                .andReturn(200, t.plusSeconds(1) + " b\n" + t.plusSeconds(2) + " c\n").always();
        server.expect().get().withPath(base + "&sinceTime=" + t.plusSeconds(2) + "&timestamps=true&follow=true")
                .andReturn(200, t.plusSeconds(2) + " c\n").always();
        finishPod(name, 0);
        var second = backend(stateDir);
        await(second, id, WorkloadPhase.SUCCEEDED);
        eventually(() -> texts(second.tail(id, 10)), List.of("a", "b", "c"));
        sleep(300);
        var lines = second.tail(id, 10);
        assertThat(texts(lines)).containsExactly("a", "b", "c");
        assertThat(lines).extracting(LogLine::number).containsExactly(0L, 1L, 2L);
        assertThat(lines.get(2).at()).isEqualTo(t.plusSeconds(2));
    }

    @Test
    void refusesWhatKubernetesCannotRun() {
        var backend = backend(stateDir);
        var noImage = WorkloadSpec.of(newId(), List.of("true"));
        assertThatThrownBy(() -> backend.launch(noImage)).isInstanceOf(InvalidSpecException.class).hasMessageContaining("image");
        assertThat(backend.list()).isEmpty();

        var id = newId();
        backend.launch(spec(id, "sleep 1"), Placement.defaults().named("taken"));
        assertThatThrownBy(() -> backend.launch(spec(newId(), "sleep 1"), Placement.defaults().named("taken")))
                .isInstanceOf(ConflictException.class).hasMessageContaining("taken");
        assertThatThrownBy(() -> Placement.defaults().named("Not_A_Name")).isInstanceOf(InvalidSpecException.class);

        // A namespace this backend does not watch would leave the workload queued for ever.
        var elsewhere = newId();
        assertThatThrownBy(() -> backend.launch(spec(elsewhere, "sleep 1"), Placement.defaults().inNamespace("elsewhere")))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("watches only '" + namespace + "'");
        assertThat(backend.find(elsewhere)).isEmpty();

        // A Service of that name that is not Capstan's: the pod created before it is deleted again, nothing is recorded.
        client.services().inNamespace(namespace).resource(new io.fabric8.kubernetes.api.model.ServiceBuilder()
                .withNewMetadata().withName("someone-elses").endMetadata().withNewSpec().withClusterIP("None").endSpec().build()).create();
        var half = newId();
        assertThatThrownBy(() -> backend.launch(spec(half, "sleep 1"), Placement.defaults().named("half-made").withHeadlessService("someone-elses")))
                .isInstanceOf(ConflictException.class).hasMessageContaining("someone-elses");
        assertThat(backend.find(half)).isEmpty();
        eventually(() -> client.pods().inNamespace(namespace).withName("half-made").get() == null, true);
        assertThat(client.services().inNamespace(namespace).withName("someone-elses").get()).isNotNull();
        client.services().inNamespace(namespace).withName("someone-elses").delete();
    }

    @Test
    void aGangRunsOnlyOnceAllItsPodsAreScheduledAndGivesBackWhatItHoldsWhenTheyAreNot() {
        if (REAL) return; // Needs a pod the scheduler cannot place while its peers run, which the mock plays.
        // The test moves the backend's clock itself, so that the timeout passes when the test says and not before.
        var clock = new TestClock(Instant.parse("2026-01-02T03:00:00Z"));
        var backend = new KubernetesBackend(KubernetesBackend.Options.of(client, stateDir, namespace).withLogRetry(Duration.ofMillis(100))
                .withClock(clock).withGangTimeout(Duration.ofSeconds(60), Duration.ofSeconds(30)));
        backends.add(backend);
        var gang = "g" + UUID.randomUUID().toString().substring(0, 6);
        var ids = List.of(newId(), newId(), newId());
        var names = new ArrayList<String>();
        for (int i = 0; i < 3; i++) {
            backend.launch(spec(ids.get(i), "sleep 600").withGang(gang, 3), Placement.defaults().named(gang + "-rank-" + i));
            names.add(gang + "-rank-" + i);
        }
        var pod = client.pods().inNamespace(namespace).withName(names.get(0)).get();
        assertThat(pod.getMetadata().getLabels()).containsEntry(CapstanLabels.GANG, gang);
        assertThat(pod.getMetadata().getAnnotations()).containsEntry(CapstanLabels.GANG_SIZE_ANNOTATION, "3");

        // Two ranks are placed and start; the third cannot be: nobody runs, and all three say why.
        kubelet.setPod(names.get(0), running());
        kubelet.setPod(names.get(1), running());
        kubelet.setPod(names.get(2), p -> p.getStatus().setConditions(List.of(new io.fabric8.kubernetes.api.model.PodConditionBuilder().withType("PodScheduled")
                .withStatus("False").withReason("Unschedulable").withMessage("0/2 nodes are available: 2 Insufficient nvidia.com/gpu.").build())));
        for (var id : ids) {
            eventually(() -> backend.find(id).orElseThrow().message(), "gang " + gang + ": 2 of 3 pods scheduled; waiting for " + names.get(2)
                    + ": not scheduled: Unschedulable: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu.");
            assertThat(backend.find(id).orElseThrow().phase()).isEqualTo(WorkloadPhase.QUEUED);
        }

        // Past the timeout the gang gives back its two placed pods and waits, saying so; no state turns LOST.
        clock.advance(Duration.ofSeconds(59));
        sleep(1500);
        assertThat(client.pods().inNamespace(namespace).withName(names.get(0)).get()).isNotNull();
        clock.advance(Duration.ofSeconds(2));
        for (var n : names) eventually(() -> client.pods().inNamespace(namespace).withName(n).get() == null, true);
        // The state says so once the backend has seen the deletes, which may come a moment after the pods are gone.
        eventually(() -> backend.find(ids.get(0)).orElseThrow().message().startsWith("gang " + gang + " did not fit"), true);
        var waiting = backend.find(ids.get(0)).orElseThrow();
        assertThat(waiting.phase()).isEqualTo(WorkloadPhase.QUEUED);
        assertThat(waiting.message()).startsWith("gang " + gang + " did not fit within 60s (2 of 3 pods scheduled; " + names.get(2)
                + ": not scheduled: Unschedulable").contains("its pods were deleted");

        // Then it tries again: the same pods, created anew; this time all three are placed and the gang runs.
        sleep(1500);
        assertThat(client.pods().inNamespace(namespace).withName(names.get(0)).get()).isNull();
        clock.advance(Duration.ofSeconds(31));
        for (var n : names) eventually(() -> client.pods().inNamespace(namespace).withName(n).get() != null, true);
        assertThat(client.pods().inNamespace(namespace).withName(names.get(2)).get().getMetadata().getAnnotations())
                .containsEntry(CapstanLabels.WORKLOAD_ID_ANNOTATION, ids.get(2));
        kubelet.setPod(names.get(0), running());
        kubelet.setPod(names.get(1), running());
        assertThat(backend.find(ids.get(0)).orElseThrow().phase()).isEqualTo(WorkloadPhase.QUEUED);
        kubelet.setPod(names.get(2), running());
        for (var id : ids) await(backend, id, WorkloadPhase.RUNNING);
        // Once admitted, a rank whose pod is evicted is lost on its own: it sends the others neither back to waiting
        // nor, past the timeout, out of the cluster (their owner decides what a lost rank means).
        client.pods().inNamespace(namespace).withName(names.get(2)).withGracePeriod(0).delete();
        await(backend, ids.get(2), WorkloadPhase.LOST);
        clock.advance(Duration.ofSeconds(120));
        sleep(1500);
        assertThat(backend.find(ids.get(0)).orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);
        assertThat(client.pods().inNamespace(namespace).withName(names.get(0)).get()).isNotNull();
        for (var n : names.subList(0, 2)) finishPod(n, 0);
        for (var id : ids.subList(0, 2)) await(backend, id, WorkloadPhase.SUCCEEDED);
        // Exactly one pod per rank, ever at a time.
        assertThat(client.pods().inNamespace(namespace).list().getItems()).extracting(p -> p.getMetadata().getName())
                .containsExactlyInAnyOrderElementsOf(names.subList(0, 2));
    }

    @Test
    void withKueueAGangsPodsCarryItsPodGroupAndCapstanNeverDeletesThem() {
        if (REAL) return;
        var backend = new KubernetesBackend(KubernetesBackend.Options.of(client, stateDir, namespace).withLogRetry(Duration.ofMillis(100))
                .withGangTimeout(Duration.ofMillis(300), Duration.ofMillis(300)).withKueueQueue("team-queue"));
        backends.add(backend);
        var a = newId();
        var b = newId();
        backend.launch(spec(a, "sleep 600").withGang("kg", 2), Placement.defaults().named("kg-0"));
        backend.launch(spec(b, "sleep 600").withGang("kg", 2), Placement.defaults().named("kg-1"));
        var pod = client.pods().inNamespace(namespace).withName("kg-0").get();
        assertThat(pod.getMetadata().getLabels()).containsEntry("kueue.x-k8s.io/queue-name", "team-queue").containsEntry("kueue.x-k8s.io/pod-group-name", "kg");
        assertThat(pod.getMetadata().getAnnotations()).containsEntry("kueue.x-k8s.io/pod-group-total-count", "2");
        kubelet.setPod("kg-0", running());
        eventually(() -> backend.find(a).orElseThrow().message(), "gang kg: 1 of 2 pods scheduled; waiting for kg-1: pending");
        sleep(1000);
        // Kueue admits the group; Capstan does not release it.
        assertThat(client.pods().inNamespace(namespace).withName("kg-0").get()).isNotNull();
        assertThat(backend.find(a).orElseThrow().phase()).isEqualTo(WorkloadPhase.QUEUED);
    }

    @Test
    void aNewLeaderAdoptsTheOldLeadersWorkloadsSeesThemFinishAndCreatesNoDuplicates() {
        if (REAL) return; // The test moves pods and Jobs while no backend runs, which only the mock lets it do.
        var leader = backend(stateDir.resolve("leader"));
        var pod = newId();
        var job = newId();
        var endedWhileDown = newId();
        var rank0 = newId();
        var rank1 = newId();
        var specs = Map.of(pod, spec(pod, "echo from-pod; sleep 30"), job, spec(job, "sleep 30"), endedWhileDown, spec(endedWhileDown, "true"),
                rank0, spec(rank0, "sleep 30").withGang("ddp", 2), rank1, spec(rank1, "sleep 30").withGang("ddp", 2));
        var placements = Map.of(pod, Placement.defaults(), job, Placement.defaults().withShape(Placement.Shape.job()).named("fo-job"),
                endedWhileDown, Placement.defaults(), rank0, Placement.defaults().named("ddp-master-0").withHeadlessService("ddp-master-0")
                        .withPorts(List.of(new Placement.Port("pytorchjob-port", 23456))), rank1, Placement.defaults().named("ddp-worker-0"));
        specs.forEach((id, spec) -> leader.launch(spec, placements.get(id)));
        serveLogs(CapstanLabels.objectName(pod), "from-pod");
        kubelet.setPod(CapstanLabels.objectName(pod), running());
        var jobPod = kubelet.jobPod(client.batch().v1().jobs().inNamespace(namespace).withName("fo-job").get());
        kubelet.setPod(jobPod, running());
        kubelet.setPod(CapstanLabels.objectName(endedWhileDown), running());
        kubelet.setPod("ddp-master-0", running());
        kubelet.setPod("ddp-worker-0", running());
        await(leader, pod, WorkloadPhase.RUNNING);
        await(leader, rank0, WorkloadPhase.RUNNING);
        await(leader, rank1, WorkloadPhase.RUNNING);
        await(leader, endedWhileDown, WorkloadPhase.RUNNING);
        eventually(() -> leader.find(job).orElseThrow().phase(), WorkloadPhase.RUNNING);
        var before = objects();

        // The leader dies; while no leader runs, one workload ends.
        leader.close();
        backends.remove(leader);
        finishPod(CapstanLabels.objectName(endedWhileDown), 0);

        // The new leader, on another machine (its own empty state folder), adopts everything by label.
        var next = backend(stateDir.resolve("follower"));
        assertThat(next.list()).extracting(WorkloadState::id).containsExactlyInAnyOrder(pod, job, endedWhileDown, rank0, rank1);
        await(next, endedWhileDown, WorkloadPhase.SUCCEEDED);
        await(next, pod, WorkloadPhase.RUNNING);
        await(next, rank0, WorkloadPhase.RUNNING);
        await(next, rank1, WorkloadPhase.RUNNING);
        // Its controllers launch the same workloads again, as they do after a failover: nothing new is created.
        specs.forEach((id, spec) -> assertThat(next.launch(spec, placements.get(id)).id()).isEqualTo(id));
        assertThat(objects()).isEqualTo(before);
        assertThat(next.find(endedWhileDown).orElseThrow().phase()).isEqualTo(WorkloadPhase.SUCCEEDED);

        // It sees them finish.
        finishPod(CapstanLabels.objectName(pod), 0);
        finishPod("ddp-master-0", 0);
        finishPod("ddp-worker-0", 1);
        finishPod(jobPod, 0);
        kubelet.completeJob("fo-job", 1);
        await(next, pod, WorkloadPhase.SUCCEEDED);
        await(next, job, WorkloadPhase.SUCCEEDED);
        await(next, rank0, WorkloadPhase.SUCCEEDED);
        assertThat(await(next, rank1, WorkloadPhase.FAILED).exitCode()).contains(1);
        eventually(() -> texts(next.tail(pod, 10)), List.of("from-pod"));
        assertThat(objects()).isEqualTo(before);
    }

    /** A clock that moves only when told. */
    static final class TestClock extends java.time.Clock {
        private volatile Instant now;

        TestClock(Instant start) {
            now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** Every Pod, Job and Service in the namespace by kind and name, with the workload each belongs to. */
    Map<String, String> objects() {
        var out = new java.util.TreeMap<String, String>();
        for (var p : client.pods().inNamespace(namespace).list().getItems()) out.put("Pod/" + p.getMetadata().getName(), p.getMetadata().getUid());
        for (var j : client.batch().v1().jobs().inNamespace(namespace).list().getItems()) out.put("Job/" + j.getMetadata().getName(), j.getMetadata().getUid());
        for (var v : client.services().inNamespace(namespace).list().getItems()) out.put("Service/" + v.getMetadata().getName(), v.getMetadata().getUid());
        return out;
    }

    // ---- the kubelet and Job controller, played on the mock

    /** Runs the pod: serves {@code lines} as its log, Running, then ends with {@code exitCode}. */
    void kubelet(String pod, int exitCode, String... lines) {
        if (!REAL) kubelet.runPod(pod, exitCode, lines);
    }

    void serveLogs(String pod, String... lines) {
        if (!REAL) kubelet.serveLogs(pod, lines);
    }

    void finishPod(String pod, int exitCode) {
        if (!REAL) kubelet.finishPod(pod, exitCode);
    }

    static WorkloadState await(KubernetesBackend backend, String id, WorkloadPhase phase) {
        eventually(() -> backend.find(id).map(WorkloadState::phase).orElse(null), phase);
        return backend.find(id).orElseThrow();
    }

    static <T> void eventually(Supplier<T> actual, T expected) {
        Eventually.eventually(Duration.ofSeconds(REAL ? 180 : 20), actual, expected);
    }

    static List<String> texts(List<LogLine> lines) {
        return lines.stream().map(LogLine::text).toList();
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
