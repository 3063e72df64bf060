package io.capstan.kubernetes;

import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The Kubernetes objects that run one workload: what {@link KubernetesBackend} creates and what {@code capstan render}
 * prints, built by this one class so that the two never differ. Deterministic: the same spec and placement always
 * give the same objects, field for field.
 */
public final class WorkloadObjects {
    static final String GPU_RESOURCE = "nvidia.com/gpu";

    private WorkloadObjects() {
    }

    /**
     * The Pod or Job that runs {@code spec}, then its headless Service if the placement asks for one.
     *
     * @param namespace    the namespace to use where the placement names none
     * @param defaultImage the image for workloads that name none (the local backend runs them without one)
     * @throws InvalidSpecException naming the field, if there is no image or a field does not fit Kubernetes
     */
    public static List<HasMetadata> of(WorkloadSpec spec, Placement placement, String namespace, Optional<String> defaultImage) {
        var ns = placement.namespace().orElse(namespace);
        var name = objectName(spec, placement);
        var labels = labels(spec, placement);
        var annotations = new TreeMap<String, String>();
        spec.gang().ifPresent(g -> annotations.put(CapstanLabels.GANG_SIZE_ANNOTATION, Integer.toString(g.size())));
        var out = new ArrayList<HasMetadata>();
        if (placement.shape() instanceof Placement.Shape.Indexed indexed) {
            if (!indexed.members().contains(spec.id())) {
                throw InvalidSpecException.of("members", "workload '" + Names.printable(spec.id()) + "' is not one of the Indexed Job's " + indexed.members());
            }
            annotations.put(CapstanLabels.WORKLOAD_IDS_ANNOTATION, String.join(",", indexed.members()));
            var podLabels = new TreeMap<>(labels);
            podLabels.put(CapstanLabels.INDEXED_JOB, name);
            var template = podTemplate(spec, placement, defaultImage, podLabels, annotations);
            template.getSpec().setSubdomain(placement.headlessService().orElse(null));
            int n = indexed.members().size();
            out.add(new JobBuilder()
                    .withMetadata(meta(name, ns, labels, annotations))
                    .withNewSpec()
                    .withBackoffLimit(0)
                    .withCompletions(n)
                    .withParallelism(n)
                    .withCompletionMode("Indexed")
                    .withActiveDeadlineSeconds(spec.timeout().map(java.time.Duration::toSeconds).orElse(null))
                    .withTemplate(template)
                    .endSpec()
                    .build());
            placement.headlessService().ifPresent(svc -> {
                var service = headlessService(svc, ns, labels, indexed.members().getFirst(), placement.ports());
                service.getMetadata().getAnnotations().put(CapstanLabels.WORKLOAD_IDS_ANNOTATION, String.join(",", indexed.members()));
                out.add(service);
            });
            return out;
        }
        annotations.put(CapstanLabels.WORKLOAD_ID_ANNOTATION, spec.id());
        var template = podTemplate(spec, placement, defaultImage, labels, annotations);
        if (placement.shape() instanceof Placement.Shape.Job job) {
            template.getSpec().setSubdomain(placement.headlessService().orElse(null));
            out.add(new JobBuilder()
                    .withMetadata(meta(name, ns, labels, annotations))
                    .withNewSpec()
                    // Capstan counts attempts itself (backoffLimit of the resource), so the Job never retries.
                    .withBackoffLimit(0)
                    .withCompletions(job.completions())
                    .withParallelism(job.completions())
                    .withCompletionMode(job.indexed() ? "Indexed" : null)
                    .withActiveDeadlineSeconds(spec.timeout().map(java.time.Duration::toSeconds).orElse(null))
                    .withTemplate(template)
                    .endSpec()
                    .build());
        } else {
            template.getSpec().setActiveDeadlineSeconds(spec.timeout().map(java.time.Duration::toSeconds).orElse(null));
            out.add(new PodBuilder()
                    .withMetadata(meta(name, ns, template.getMetadata().getLabels(), template.getMetadata().getAnnotations()))
                    .withSpec(template.getSpec())
                    .build());
        }
        placement.headlessService().ifPresent(svc -> out.add(headlessService(svc, ns, labels, spec.id(), placement.ports())));
        return out;
    }

    /** The name of the workload's Pod or Job. */
    public static String objectName(WorkloadSpec spec, Placement placement) {
        return placement.name().orElseGet(() -> CapstanLabels.objectName(spec.id()));
    }

    /** Capstan's labels for the workload, then the placement's. */
    static Map<String, String> labels(WorkloadSpec spec, Placement placement) {
        var labels = new TreeMap<String, String>();
        labels.put(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE);
        // The members of an Indexed Job share one pod template, labelled with the first of them.
        var id = placement.shape() instanceof Placement.Shape.Indexed ix ? ix.members().getFirst() : spec.id();
        labels.put(CapstanLabels.WORKLOAD_ID, CapstanLabels.label(id));
        spec.gang().ifPresent(g -> labels.put(CapstanLabels.GANG, CapstanLabels.label(g.name())));
        placement.labels().forEach((k, v) -> labels.put(k, CapstanLabels.label(v)));
        return labels;
    }

    /** A Service without a cluster IP that gives the workload's pods a stable DNS name. */
    public static Service headlessService(String name, String namespace, Map<String, String> labels, String workloadId,
                                          List<Placement.Port> ports) {
        var servicePorts = new ArrayList<ServicePort>();
        for (var p : ports) servicePorts.add(new ServicePortBuilder().withName(p.name()).withPort(p.port()).build());
        return new ServiceBuilder()
                .withMetadata(meta(name, namespace, labels, Map.of(CapstanLabels.WORKLOAD_ID_ANNOTATION, workloadId)))
                .withNewSpec()
                .withClusterIP("None")
                .withPublishNotReadyAddresses(true)
                .withSelector(Map.of(CapstanLabels.WORKLOAD_ID, CapstanLabels.label(workloadId)))
                .withPorts(servicePorts)
                .endSpec()
                .build();
    }

    private static PodTemplateSpec podTemplate(WorkloadSpec spec, Placement placement, Optional<String> defaultImage,
                                               Map<String, String> labels, Map<String, String> annotations) {
        PodTemplateSpec template = placement.template()
                .map(t -> Serialization.unmarshal(Serialization.asJson(t), PodTemplateSpec.class))
                .orElseGet(PodTemplateSpec::new);
        var meta = template.getMetadata() == null ? new ObjectMeta() : template.getMetadata();
        var allLabels = new TreeMap<String, String>();
        if (meta.getLabels() != null) allLabels.putAll(meta.getLabels());
        allLabels.putAll(labels);
        var allAnnotations = new TreeMap<String, String>();
        if (meta.getAnnotations() != null) allAnnotations.putAll(meta.getAnnotations());
        allAnnotations.putAll(annotations);
        template.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withLabels(allLabels).withAnnotations(allAnnotations).build());

        PodSpec pod = template.getSpec() == null ? new PodSpec() : template.getSpec();
        template.setSpec(pod);
        // Capstan retries whole attempts itself; a kubelet restart would hide a failure from it.
        pod.setRestartPolicy("Never");
        var containers = pod.getContainers() == null ? new ArrayList<Container>() : new ArrayList<>(pod.getContainers());
        var container = containers.stream().filter(c -> placement.container().equals(c.getName())).findFirst()
                .or(() -> placement.template().isPresent() ? containers.stream().findFirst() : Optional.empty())
                .orElseGet(() -> {
                    var c = new Container();
                    c.setName(placement.container());
                    containers.add(c);
                    return c;
                });
        pod.setContainers(containers);

        var image = spec.image().or(() -> Optional.ofNullable(container.getImage())).or(() -> defaultImage);
        if (image.isEmpty() || image.get().isBlank()) {
            throw InvalidSpecException.of("image", "workload '" + Names.printable(spec.id())
                    + "' names no container image, which Kubernetes needs; give the resource an image or start the server with a default image");
        }
        container.setImage(image.get());
        container.setCommand(spec.command());
        container.setArgs(null);
        container.setEnv(env(container.getEnv(), spec.env()));
        container.setResources(resources(container.getResources(), spec.requests()));
        placement.imagePullPolicy().ifPresent(container::setImagePullPolicy);
        placement.workingDir().ifPresent(container::setWorkingDir);
        if (!placement.ports().isEmpty()) {
            var ports = container.getPorts() == null ? new ArrayList<ContainerPort>() : new ArrayList<>(container.getPorts());
            for (var p : placement.ports()) {
                if (ports.stream().noneMatch(cp -> p.name().equals(cp.getName()))) {
                    var cp = new ContainerPort();
                    cp.setName(p.name());
                    cp.setContainerPort(p.port());
                    ports.add(cp);
                }
            }
            container.setPorts(ports);
        }
        return template;
    }

    /** The template's variables (those of {@code extra} replace them in place), then {@code extra}'s by name. */
    private static List<EnvVar> env(List<EnvVar> base, Map<String, String> extra) {
        var out = new LinkedHashMap<String, EnvVar>();
        if (base != null) for (var e : base) out.put(e.getName(), e);
        new TreeMap<>(extra).forEach((k, v) -> out.put(k, new EnvVar(k, v, null)));
        return out.isEmpty() ? null : new ArrayList<>(out.values());
    }

    private static ResourceRequirements resources(ResourceRequirements base, ResourceRequest request) {
        var requests = new TreeMap<String, Quantity>();
        var limits = new TreeMap<String, Quantity>();
        if (base != null && base.getRequests() != null) requests.putAll(base.getRequests());
        if (base != null && base.getLimits() != null) limits.putAll(base.getLimits());
        if (request.cpus() > 0) requests.put("cpu", cpu(request.cpus()));
        if (request.memoryBytes() > 0) requests.put("memory", new Quantity(Long.toString(request.memoryBytes())));
        if (request.gpuCount() > 0) {
            // Extended resources are requested through limits (a request, if given, must equal the limit).
            limits.put(GPU_RESOURCE, new Quantity(Integer.toString(request.gpuCount())));
        }
        if (requests.isEmpty() && limits.isEmpty()) return null;
        var r = new ResourceRequirements();
        if (!requests.isEmpty()) r.setRequests(requests);
        if (!limits.isEmpty()) r.setLimits(limits);
        return r;
    }

    static Quantity cpu(double cpus) {
        if (cpus == Math.rint(cpus)) return new Quantity(Long.toString((long) cpus));
        return new Quantity(BigDecimal.valueOf(cpus).movePointRight(3).setScale(0, java.math.RoundingMode.CEILING).toPlainString() + "m");
    }

    private static ObjectMeta meta(String name, String namespace, Map<String, String> labels, Map<String, String> annotations) {
        return new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withName(name)
                .withNamespace(namespace)
                .withLabels(new TreeMap<>(labels))
                .withAnnotations(new TreeMap<>(annotations))
                .build();
    }

    /** Objects as YAML documents separated by {@code ---}, as {@code kubectl get -o yaml} of several would print. */
    public static String yaml(List<? extends HasMetadata> objects) {
        var sb = new StringBuilder();
        for (var o : objects) {
            var doc = Serialization.asYaml(o);
            if (!doc.startsWith("---")) sb.append("---\n");
            sb.append(doc);
            if (!doc.endsWith("\n")) sb.append('\n');
        }
        return sb.toString();
    }
}
