package io.capstan.deploy;

import static io.capstan.kubernetes.testing.Eventually.eventually;
import static io.capstan.kubernetes.testing.Kubelet.running;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.ConflictException;
import io.capstan.kubernetes.KubernetesBackend;
import io.capstan.kubernetes.Placement;
import io.capstan.kubernetes.testing.Kubelet;
import io.capstan.kubernetes.testing.MockCluster;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chart's RBAC against what KubernetesBackend really asks of the API server: the backend runs through every
 * path it has (launch as Pod and as Job, with a headless Service, logs, success, cancel, remove, name conflicts of
 * each kind, restart and adoption by a replica without the state folder, and InferenceService predictors' Deployments) against fabric8's mock API server, which
 * records each request. The backend's requests, told apart by its user agent from this test's own (which plays the
 * kubelet and the Job controller), must be exactly what the chart's Role grants: nothing missing, nothing more.
 */
class ChartRbacTest {
    static final String NAMESPACE = HelmChart.NAMESPACE;
    static final String USER_AGENT = "capstan-backend-under-rbac-test";
    static final String IMAGE = "busybox:1.36";

    @TempDir
    Path stateDir;

    KubernetesMockServer server;
    /** This test's own client: the kubelet and the Job controller. */
    KubernetesClient cluster;
    /** The kubelet and the controllers, acting through {@link #cluster}. */
    Kubelet kubelet;
    /** The backend's client, whose requests are recorded. */
    KubernetesClient backendClient;
    final List<KubernetesBackend> backends = new ArrayList<>();
    final List<Map<String, String>> workloadPodLabels = new ArrayList<>();

    @BeforeEach
    void start() {
        server = MockCluster.start();
        cluster = server.createClient();
        kubelet = new Kubelet(server, cluster, NAMESPACE);
        backendClient = new KubernetesClientBuilder()
                .withConfig(new ConfigBuilder(cluster.getConfiguration()).withUserAgent(USER_AGENT).build()).build();
    }

    @AfterEach
    void stop() {
        backends.forEach(KubernetesBackend::close);
        backendClient.close();
        cluster.close();
        server.destroy();
    }

    @Test
    void theRoleGrantsExactlyWhatTheBackendAsks() throws Exception {
        var chart = HelmChart.render(Map.of());
        // The server runs every workload in the namespace its --namespace-map names: the release's, where the Role is.
        var args = ChartTest.container(chart.one(Deployment.class)).getArgs();
        assertThat(args.get(args.indexOf("--namespace-map") + 1)).isEqualTo("*=" + NAMESPACE);
        assertThat(chart.one(Role.class).getMetadata().getNamespace()).isEqualTo(NAMESPACE);
        runEveryPath(false);
        var asked = recordedAccesses();
        assertThat(asked).as("the backend watching one namespace asks nothing across namespaces").noneMatch(ApiAccess::allNamespaces);

        var granted = ApiAccess.granted(chart.one(Role.class).getRules(), false);
        assertThat(granted).as("the Role grants every request the backend made").containsAll(asked);
        assertThat(asked).as("the Role grants nothing the backend does not ask (least privilege)").containsAll(granted);

        // Every kind of object the backend's code names is among those the run above touched: a kind added to the
        // backend without a path here (and so perhaps without RBAC) fails this.
        var touched = new TreeSet<String>();
        asked.forEach(a -> touched.add(a.group() + "/" + a.resource().split("/")[0]));
        assertThat(kindsTheBackendNames()).isNotEmpty().allSatisfy(kind -> assertThat(touched).contains(kind));

        // The chart's selectors never pick a workload's pod (a Deployment would adopt it, a Service route to it, the
        // budget count it).
        var deploymentSelector = chart.one(Deployment.class).getSpec().getSelector().getMatchLabels();
        var serviceSelector = chart.one(io.fabric8.kubernetes.api.model.Service.class).getSpec().getSelector();
        var budgetSelector = chart.one(PodDisruptionBudget.class).getSpec().getSelector().getMatchLabels();
        assertThat(workloadPodLabels).isNotEmpty().allSatisfy(labels -> {
            assertThat(labels.entrySet()).as("workload pod labels vs the Deployment's selector").doesNotContainAnyElementsOf(deploymentSelector.entrySet());
            assertThat(labels.entrySet()).as("workload pod labels vs the Service's selector").doesNotContainAnyElementsOf(serviceSelector.entrySet());
            assertThat(labels.entrySet()).as("workload pod labels vs the budget's selector").doesNotContainAnyElementsOf(budgetSelector.entrySet());
        });
    }

    @Test
    void theClusterRoleCoversABackendWatchingAllNamespaces() throws Exception {
        var chart = HelmChart.render(Map.of("rbac.scope", "cluster"));
        // No --namespace-map: each namespace's workloads in the namespace of the same name, watched across all.
        assertThat(ChartTest.container(chart.one(Deployment.class)).getArgs()).doesNotContain("--namespace-map");
        runEveryPath(true);
        var asked = recordedAccesses();
        assertThat(asked).as("watching all namespaces lists and watches across them").anyMatch(ApiAccess::allNamespaces);

        var granted = ApiAccess.granted(chart.one(ClusterRole.class).getRules(), true);
        var needed = new TreeSet<ApiAccess>();
        // A ClusterRole grants in every namespace and across them alike.
        asked.forEach(a -> needed.add(new ApiAccess(a.group(), a.resource(), a.verb(), true)));
        assertThat(granted).as("the ClusterRole grants every request the backend made").containsAll(needed);
        assertThat(needed).as("the ClusterRole grants nothing the backend does not ask").containsAll(granted);
    }

    // ---- the run

    void runEveryPath(boolean watchAll) throws Exception {
        var first = backend(stateDir.resolve("a"), watchAll);

        // A pod that logs and succeeds, then is removed.
        var ok = "rbac_ok_1";
        first.launch(spec(ok, "echo hello"));
        var okPod = io.capstan.kubernetes.CapstanLabels.objectName(ok);
        notePodLabels(okPod);
        kubelet.serveLogs(okPod, "hello");
        kubelet.setPod(okPod, running());
        eventually(() -> first.tail(ok, 10).stream().map(l -> l.text()).toList(), List.of("hello"));
        kubelet.finishPod(okPod, 0);
        await(first, ok, WorkloadPhase.SUCCEEDED);
        first.remove(ok);

        // A Job with a headless Service, as TrainJobs run: its pod runs, the Job completes, then it is removed.
        var job = "rbac_job_1";
        first.launch(spec(job, "echo rank"), Placement.defaults().withShape(Placement.Shape.job()).named("train")
                .withHeadlessService("train").withPorts(List.of(new Placement.Port("rendezvous", 29500))));
        var jobPod = kubelet.jobPod(cluster.batch().v1().jobs().inNamespace(NAMESPACE).withName("train").get());
        notePodLabels(jobPod);
        kubelet.serveLogs(jobPod, "rank");
        kubelet.setPod(jobPod, running());
        await(first, job, WorkloadPhase.RUNNING);
        kubelet.finishPod(jobPod, 0);
        kubelet.completeJob("train", 1);
        await(first, job, WorkloadPhase.SUCCEEDED);
        first.remove(job);

        // A running pod with a Service, cancelled; a running Job, cancelled.
        var cancelled = "rbac_cancel_1";
        first.launch(spec(cancelled, "sleep 600"), Placement.defaults().named("sleeper").withHeadlessService("sleeper")
                .withPorts(List.of(new Placement.Port("rendezvous", 29500))));
        notePodLabels("sleeper");
        kubelet.setPod("sleeper", running());
        await(first, cancelled, WorkloadPhase.RUNNING);
        first.cancel(cancelled);
        var cancelledJob = "rbac_cancel_2";
        first.launch(spec(cancelledJob, "sleep 600"), Placement.defaults().withShape(Placement.Shape.job()).named("long-job"));
        notePodLabels(kubelet.jobPod(cluster.batch().v1().jobs().inNamespace(NAMESPACE).withName("long-job").get()));
        first.cancel(cancelledJob);
        eventually(() -> cluster.pods().inNamespace(NAMESPACE).withName("sleeper").get() == null, true);

        // Names taken by objects that are not Capstan's, of each kind the backend creates: it reads them, refuses,
        // and deletes what it had made.
        cluster.pods().inNamespace(NAMESPACE).resource(new PodBuilder().withNewMetadata().withName("taken-pod").endMetadata()
                .withNewSpec().addNewContainer().withName("main").withImage(IMAGE).endContainer().endSpec().build()).create();
        assertThatThrownBy(() -> first.launch(spec("rbac_taken_1", "true"), Placement.defaults().named("taken-pod")))
                .isInstanceOf(ConflictException.class);
        cluster.batch().v1().jobs().inNamespace(NAMESPACE).resource(new JobBuilder().withNewMetadata().withName("taken-job").endMetadata()
                .withNewSpec().withNewTemplate().withNewSpec().withRestartPolicy("Never").addNewContainer().withName("main").withImage(IMAGE)
                .endContainer().endSpec().endTemplate().endSpec().build()).create();
        assertThatThrownBy(() -> first.launch(spec("rbac_taken_2", "true"), Placement.defaults().withShape(Placement.Shape.job()).named("taken-job")))
                .isInstanceOf(ConflictException.class);
        cluster.services().inNamespace(NAMESPACE).resource(new ServiceBuilder().withNewMetadata().withName("taken-svc").endMetadata()
                .withNewSpec().withClusterIP("None").endSpec().build()).create();
        assertThatThrownBy(() -> first.launch(spec("rbac_taken_3", "true"), Placement.defaults().named("half-made").withHeadlessService("taken-svc")))
                .isInstanceOf(ConflictException.class);

        // A running pod that another replica (no state folder) adopts after this one stops, and sees finish.
        var adopted = "rbac_adopted_1";
        first.launch(spec(adopted, "sleep 5"));
        var adoptedPod = io.capstan.kubernetes.CapstanLabels.objectName(adopted);
        kubelet.setPod(adoptedPod, running());
        await(first, adopted, WorkloadPhase.RUNNING);
        first.close();
        backends.remove(first);
        var second = backend(stateDir.resolve("b"), watchAll);
        await(second, adopted, WorkloadPhase.RUNNING);
        // Launching it again, as a leader whose record of the launch was lost would: the object is there and is its own.
        assertThat(second.launch(spec(adopted, "sleep 5")).phase()).isEqualTo(WorkloadPhase.RUNNING);
        kubelet.finishPod(adoptedPod, 0);
        await(second, adopted, WorkloadPhase.SUCCEEDED);
        second.remove(adopted);
        second.close();
        backends.remove(second);

        predictorPaths();
        notebookPaths();
    }

    /**
     * An InferenceService revision's predictor, as the server places it: created, found starting, found available,
     * adopted by a server that did not create it (merge patch), and deleted with its ReplicaSet (as made by the
     * Deployment controller, which this test plays).
     */
    void predictorPaths() {
        var spec = io.capstan.core.Json.json().createObjectNode();
        spec.putObject("predictor").putObject("model").put("storageUri", "s3://models/iris").putObject("modelFormat").put("name", "onnx");
        var map = io.capstan.kubernetes.ServerBackend.NamespaceMap.parse("*=" + NAMESPACE);
        var placed = new io.capstan.kubernetes.KubernetesPredictors(backendClient, map, IMAGE, io.capstan.kubernetes.KubernetesPredictors::clusterAddress);
        assertThat(placed.place(NAMESPACE, "iris", 1, spec)).isEmpty();
        assertThat(placed.place(NAMESPACE, "iris", 1, spec)).isEmpty();
        kubelet.deploymentAvailable("iris-predictor-1", 1);
        assertThat(placed.place(NAMESPACE, "iris", 1, spec)).isPresent();
        var adopting = new io.capstan.kubernetes.KubernetesPredictors(backendClient, map, IMAGE, io.capstan.kubernetes.KubernetesPredictors::clusterAddress);
        assertThat(adopting.place(NAMESPACE, "iris", 1, spec)).isPresent();
        var labels = cluster.apps().deployments().inNamespace(NAMESPACE).withName("iris-predictor-1").get().getSpec().getTemplate().getMetadata().getLabels();
        cluster.apps().replicaSets().inNamespace(NAMESPACE).resource(new io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder().withNewMetadata()
                .withName("iris-predictor-1-5d8f").withLabels(labels).endMetadata().withNewSpec().withNewSelector().withMatchLabels(labels).endSelector()
                .endSpec().build()).create();
        adopting.retain(NAMESPACE, "iris", java.util.Set.of());
        assertThat(cluster.apps().deployments().inNamespace(NAMESPACE).list().getItems()).isEmpty();
        assertThat(cluster.apps().replicaSets().inNamespace(NAMESPACE).list().getItems()).isEmpty();
        assertThat(cluster.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NAMESPACE).list().getItems()).isEmpty();
        assertThat(cluster.services().inNamespace(NAMESPACE).withName("iris-predictor-1").get()).isNull();
    }

    /**
     * A Notebook's StatefulSet, Service and token Secret, as the server's cluster notebooks make them: applied, applied
     * again (the stop annotation scales it, the token rotates), observed, reaped once the Notebook is gone, and deleted.
     */
    void notebookPaths() throws Exception {
        var doc = io.capstan.core.Json.yaml().readTree("""
                apiVersion: kubeflow.org/v1
                kind: Notebook
                metadata: {name: lab, namespace: team-a}
                spec:
                  template:
                    spec:
                      containers:
                      - {name: lab, image: kubeflownotebookswg/jupyter-scipy:v1.8.0}
                """);
        var notebooks = new io.capstan.kubernetes.NotebookObjects(backendClient, io.capstan.kubernetes.ServerBackend.NamespaceMap.parse("*=" + NAMESPACE));
        var url = "http://capstan." + NAMESPACE + ".svc:8080";
        notebooks.apply(doc, "team-a", "lab", Optional.of(new io.capstan.kubernetes.NotebookObjects.Access(url, Optional.of("first-token"))));
        ((com.fasterxml.jackson.databind.node.ObjectNode) doc.path("metadata")).putObject("annotations").put("kubeflow-resource-stopped", "2026-12-07T00:00:00Z");
        // The token's Secret is replaced as it rotates.
        notebooks.apply(doc, "team-a", "lab", Optional.of(new io.capstan.kubernetes.NotebookObjects.Access(url, Optional.of("next-token"))));
        assertThat(notebooks.observe("team-a", "lab")).isPresent();
        notebooks.reap(java.util.Set.of("team-a"), java.util.Set.of("team-a/lab"));
        notebooks.apply(doc, "team-a", "gone", Optional.of(new io.capstan.kubernetes.NotebookObjects.Access(url, Optional.of("gone-token"))));
        notebooks.reap(java.util.Set.of("team-a"), java.util.Set.of("team-a/lab"));
        assertThat(notebooks.observe("team-a", "gone")).isEmpty();
        notebooks.delete("team-a", "lab");
        assertThat(notebooks.observe("team-a", "lab")).isEmpty();
    }

    KubernetesBackend backend(Path dir, boolean watchAll) {
        var options = KubernetesBackend.Options.of(backendClient, dir, NAMESPACE).withLogRetry(Duration.ofMillis(100));
        var b = new KubernetesBackend(watchAll ? options.watchingAllNamespaces() : options);
        backends.add(b);
        return b;
    }

    /** Each kind of request the backend made, from the mock server's record. */
    TreeSet<ApiAccess> recordedAccesses() throws InterruptedException {
        var out = new TreeSet<ApiAccess>();
        int total = 0;
        for (var r = server.takeRequest(1, TimeUnit.SECONDS); r != null; r = server.takeRequest(200, TimeUnit.MILLISECONDS)) {
            var agent = r.getHeader("User-Agent");
            if (agent == null || !agent.equals(USER_AGENT)) continue;
            total++;
            ApiAccess.of(r.getMethod(), r.getPath()).ifPresent(out::add);
        }
        assertThat(total).as("requests recorded from the backend").isPositive();
        return out;
    }

    /**
     * (group/plural) of every Kubernetes kind that capstan-kubernetes' classes refer to, except those that only
     * render objects for {@code capstan render} (named *Render*), which never reach a cluster.
     */
    static TreeSet<String> kindsTheBackendNames() {
        var names = ClassScan.find(Pattern.compile("L?(io/fabric8/kubernetes/api/model/(?:[a-z0-9]+/)*[A-Z][A-Za-z0-9]*)"),
                "io/capstan/kubernetes/", name -> !name.substring(name.lastIndexOf('/') + 1).contains("Render"));
        var kinds = new TreeSet<String>();
        for (var internal : names) {
            var className = internal.replace('/', '.').replaceAll("(Builder|Fluent)$", "");
            Class<?> type;
            try {
                type = Class.forName(className, false, ChartRbacTest.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                continue;
            }
            if (!HasMetadata.class.isAssignableFrom(type) || KubernetesResourceList.class.isAssignableFrom(type)
                    || type.isInterface() || Modifier.isAbstract(type.getModifiers())) {
                continue;
            }
            @SuppressWarnings("unchecked")
            var kind = (Class<? extends HasMetadata>) type;
            kinds.add(HasMetadata.getGroup(kind) + "/" + HasMetadata.getPlural(kind));
        }
        return kinds;
    }

    // ---- the kubelet and the Job controller, played on the mock

    static WorkloadSpec spec(String id, String script) {
        return new WorkloadSpec(id, List.of("sh", "-c", script), Map.of(), Optional.empty(), new ResourceRequest(0.5, 64L << 20, 0),
                Optional.empty(), 0, Optional.of(IMAGE));
    }

    void notePodLabels(String pod) {
        workloadPodLabels.add(Map.copyOf(cluster.pods().inNamespace(NAMESPACE).withName(pod).get().getMetadata().getLabels()));
    }

    static WorkloadState await(KubernetesBackend backend, String id, WorkloadPhase phase) {
        eventually(() -> backend.find(id).map(WorkloadState::phase).orElse(null), phase);
        return backend.find(id).orElseThrow();
    }
}
