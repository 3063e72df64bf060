package io.capstan.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpecBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * An InferenceService as KServe's raw deployment mode makes it: a Deployment and a Service {@code <isvc>-predictor}
 * (port 80 to the container's 8080) and an {@code autoscaling/v2} HorizontalPodAutoscaler from {@code minReplicas},
 * {@code maxReplicas}, {@code scaleMetric} (cpu or memory) and {@code scaleTarget} (80 by default), labelled as
 * KServe labels them. ONNX, XGBoost and LightGBM models run on Capstan's model server image ({@code capstan
 * model-server}, probed at {@code /v2/health/ready} and {@code /live}); custom containers run as given. The model comes from {@code storageUri}: {@code pvc://claim/path} is mounted read-only at
 * {@code /mnt/models}, other remote URIs are copied there by KServe's storage-initializer init container; a local
 * path is refused, as the cluster cannot see Capstan's disk.
 *
 * <p>Raw mode has no traffic split: with {@code canaryTrafficPercent} the Deployment is the new revision and carries
 * the percentage as the annotation {@value #CANARY_ANNOTATION}; the split between it and the previous revision is
 * Capstan's router's, not the Service's (a Service cannot weight its endpoints). Scale to zero does not exist on an
 * HPA: {@code minReplicas: 0} renders as 1. Transformers and explainers are not rendered yet.
 */
final class InferenceServiceRender {
    static final String CONTAINER = "kserve-container";
    static final int PORT = 8080;
    static final String MODEL_DIR = "/mnt/models";
    static final String STORAGE_INITIALIZER_IMAGE = "kserve/storage-initializer:v0.15.2";
    static final String CANARY_ANNOTATION = "serving.capstan.io/canary-traffic-percent";
    private static final List<String> CAPSTAN_FORMATS = List.of("onnx", "xgboost", "lightgbm");

    private InferenceServiceRender() {
    }

    /** The label that tells a revision's predictor objects apart on the server (capstan render gives one revision). */
    static final String REVISION_LABEL = "serving.capstan.io/revision";

    static List<HasMetadata> render(String isvc, String ns, JsonNode spec, String modelServerImage) {
        return render(isvc, isvc, isvc + "-predictor", ns, spec, modelServerImage, Map.of());
    }

    /**
     * @param modelName the name the model is served under (the InferenceService's)
     * @param owner the InferenceService as the objects' labels name it (prefixed where namespaces are folded into one)
     * @param name the objects' name, {@code <isvc>-predictor}
     * @param extraLabels more labels, on the objects, their pods and the selector
     */
    static List<HasMetadata> render(String modelName, String owner, String name, String ns, JsonNode spec, String modelServerImage,
                                    Map<String, String> extraLabels) {
        String isvc = owner;
        for (var unsupported : List.of("transformer", "explainer")) {
            if (spec.has(unsupported)) {
                throw InvalidSpecException.of("spec." + unsupported, "capstan render renders the predictor only; a " + unsupported + " is not rendered yet");
            }
        }
        var predictor = spec.path("predictor");
        if (!predictor.isObject()) throw InvalidSpecException.of("spec.predictor", "required");
        var selector = new TreeMap<String, String>(extraLabels);
        selector.put("app", "isvc." + name);
        var labels = new TreeMap<String, String>(selector);
        labels.put("component", "predictor");
        labels.put("serving.kserve.io/inferenceservice", isvc);
        labels.put(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE);
        labels.put(CapstanLabels.OWNER_KIND, "InferenceService");
        labels.put(CapstanLabels.OWNER_NAME, isvc);

        var pod = new PodSpec();
        var volumes = new ArrayList<Volume>();
        Container container;
        if (predictor.has("containers")) {
            var containers = predictor.get("containers");
            if (!containers.isArray() || containers.isEmpty()) throw InvalidSpecException.of("spec.predictor.containers", "required: at least one container");
            var all = new ArrayList<Container>();
            for (var c : containers) all.add(Serialization.unmarshal(c.toString(), Container.class));
            container = all.getFirst();
            if (container.getName() == null) container.setName(CONTAINER);
            if (container.getImage() == null || container.getImage().isBlank()) throw InvalidSpecException.of("spec.predictor.containers[0].image", "required");
            pod.setContainers(all);
        } else {
            var model = model(predictor);
            container = new Container();
            container.setName(CONTAINER);
            container.setImage(modelServerImage);
            container.setArgs(List.of("model-server", "--model-name=" + modelName, "--model-dir=" + MODEL_DIR, "--port=" + PORT,
                    "--format=" + model.format()));
            // ready once the model is loaded: the Deployment's availableReplicas counts only such pods
            container.setReadinessProbe(new io.fabric8.kubernetes.api.model.ProbeBuilder().withNewHttpGet().withPath("/v2/health/ready")
                    .withPort(new IntOrString(PORT)).endHttpGet().withPeriodSeconds(2).withFailureThreshold(3).build());
            container.setLivenessProbe(new io.fabric8.kubernetes.api.model.ProbeBuilder().withNewHttpGet().withPath("/v2/health/live")
                    .withPort(new IntOrString(PORT)).endHttpGet().withPeriodSeconds(10).withFailureThreshold(3).build());
            if (model.resources() != null) container.setResources(model.resources());
            pod.setContainers(List.of(container));
            storage(model.storageUri(), model.field(), pod, container, volumes);
        }
        if (container.getPorts() == null || container.getPorts().isEmpty()) {
            var port = new ContainerPort();
            port.setContainerPort(PORT);
            port.setName("http1");
            port.setProtocol("TCP");
            container.setPorts(List.of(port));
        }
        int targetPort = container.getPorts().getFirst().getContainerPort();
        if (!volumes.isEmpty()) pod.setVolumes(volumes);
        if (predictor.hasNonNull("serviceAccountName")) pod.setServiceAccountName(predictor.get("serviceAccountName").asText());

        int min = count(predictor, "minReplicas", 1);
        int max = count(predictor, "maxReplicas", 0);
        int replicas = Math.max(1, min);
        if (max < replicas) max = replicas;
        var metric = predictor.path("scaleMetric").asText("cpu");
        if (!metric.equals("cpu") && !metric.equals("memory")) {
            throw InvalidSpecException.of("spec.predictor.scaleMetric", "an HPA scales on cpu or memory, got '" + Names.printable(metric) + "'");
        }
        int target = count(predictor, "scaleTarget", 80);
        var annotations = new TreeMap<String, String>();
        if (predictor.has("canaryTrafficPercent")) annotations.put(CANARY_ANNOTATION, Integer.toString(count(predictor, "canaryTrafficPercent", 100)));

        var deployment = new DeploymentBuilder()
                .withMetadata(meta(name, ns, labels, annotations))
                .withNewSpec()
                .withReplicas(replicas)
                .withNewSelector().withMatchLabels(selector).endSelector()
                .withNewTemplate().withMetadata(new ObjectMetaBuilder().withLabels(labels).withAnnotations(annotations.isEmpty() ? null : annotations).build())
                .withSpec(pod).endTemplate()
                .endSpec().build();
        var service = new ServiceBuilder()
                .withMetadata(meta(name, ns, labels, Map.of()))
                .withNewSpec().withSelector(selector)
                .addNewPort().withName("http").withProtocol("TCP").withPort(80).withTargetPort(new IntOrString(targetPort)).endPort()
                .endSpec().build();
        var hpa = new HorizontalPodAutoscalerBuilder()
                .withMetadata(meta(name, ns, labels, Map.of()))
                .withNewSpec()
                .withMinReplicas(replicas).withMaxReplicas(max)
                .withNewScaleTargetRef().withApiVersion("apps/v1").withKind("Deployment").withName(name).endScaleTargetRef()
                .withMetrics(new MetricSpecBuilder().withType("Resource").withNewResource().withName(metric)
                        .withNewTarget().withType("Utilization").withAverageUtilization(target).endTarget().endResource().build())
                .endSpec().build();
        return List.of(deployment, service, hpa);
    }

    private record Model(String format, String storageUri, String field, ResourceRequirements resources) {
    }

    /** {@code predictor.model{modelFormat.name, storageUri}} or the older {@code predictor.<format>{storageUri}}. */
    private static Model model(JsonNode predictor) {
        JsonNode node;
        String format;
        String field;
        if (predictor.has("model")) {
            node = predictor.get("model");
            field = "spec.predictor.model";
            format = node.path("modelFormat").path("name").asText("").toLowerCase(Locale.ROOT);
            if (format.isEmpty()) throw InvalidSpecException.of(field + ".modelFormat.name", "required");
        } else {
            format = CAPSTAN_FORMATS.stream().filter(predictor::has).findFirst().orElseThrow(() -> InvalidSpecException.of("spec.predictor",
                    "needs model, containers, or one of " + CAPSTAN_FORMATS + " for capstan render"));
            node = predictor.get(format);
            field = "spec.predictor." + format;
        }
        if (!CAPSTAN_FORMATS.contains(format)) {
            throw InvalidSpecException.of(field + (predictor.has("model") ? ".modelFormat.name" : ""), "Capstan's model server serves " + CAPSTAN_FORMATS
                    + ", not '" + Names.printable(format) + "'; give predictor.containers to run another server");
        }
        var uri = node.path("storageUri").asText("");
        if (uri.isEmpty()) throw InvalidSpecException.of(field + ".storageUri", "required: where the model is");
        var resources = node.has("resources") ? Serialization.unmarshal(node.get("resources").toString(), ResourceRequirements.class) : null;
        return new Model(format, uri, field + ".storageUri", resources);
    }

    private static void storage(String uri, String field, PodSpec pod, Container container, List<Volume> volumes) {
        if (uri.startsWith("pvc://")) {
            var rest = uri.substring("pvc://".length());
            int slash = rest.indexOf('/');
            var claim = slash < 0 ? rest : rest.substring(0, slash);
            var sub = slash < 0 ? "" : rest.substring(slash + 1);
            if (!CapstanLabels.isDnsLabel(claim)) throw InvalidSpecException.of(field, "'" + Names.printable(claim) + "' is not a PersistentVolumeClaim name");
            volumes.add(new VolumeBuilder().withName("kserve-pvc-source").withNewPersistentVolumeClaim().withClaimName(claim).withReadOnly(true)
                    .endPersistentVolumeClaim().build());
            container.setVolumeMounts(List.of(mount("kserve-pvc-source", sub.isEmpty() ? null : sub)));
            return;
        }
        if (uri.startsWith("capstan:")) {
            throw InvalidSpecException.of(field, "'" + Names.printable(uri) + "' is in Capstan's artifact store, which a pod cannot read; use s3://, gs://, https:// or pvc://");
        }
        if (uri.startsWith("/") || uri.startsWith("file:")) {
            throw InvalidSpecException.of(field, "'" + Names.printable(uri) + "' is a path on Capstan's machine, which the cluster cannot see; use s3://, gs://, https:// or pvc://");
        }
        volumes.add(new VolumeBuilder().withName("kserve-provision-location").withNewEmptyDir().endEmptyDir().build());
        var init = new Container();
        init.setName("storage-initializer");
        init.setImage(STORAGE_INITIALIZER_IMAGE);
        init.setArgs(List.of(uri, MODEL_DIR));
        init.setVolumeMounts(List.of(new VolumeMountBuilder().withName("kserve-provision-location").withMountPath(MODEL_DIR).build()));
        pod.setInitContainers(List.of(init));
        container.setVolumeMounts(List.of(mount("kserve-provision-location", null)));
    }

    private static VolumeMount mount(String volume, String subPath) {
        return new VolumeMountBuilder().withName(volume).withMountPath(MODEL_DIR).withReadOnly(true).withSubPath(subPath).build();
    }

    private static int count(JsonNode predictor, String field, int absent) {
        var n = predictor.get(field);
        if (n == null || n.isNull()) return absent;
        if (!n.canConvertToInt() || n.asInt() < 0 || n.asInt() > 10_000) throw InvalidSpecException.of("spec.predictor." + field, "expected 0-10000, got " + n);
        return n.asInt();
    }

    private static ObjectMeta meta(String name, String ns, Map<String, String> labels, Map<String, String> annotations) {
        return new ObjectMetaBuilder().withName(name).withNamespace(ns).withLabels(new TreeMap<>(labels))
                .withAnnotations(annotations.isEmpty() ? null : new TreeMap<>(annotations)).build();
    }
}
