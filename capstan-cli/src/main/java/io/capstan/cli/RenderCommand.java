package io.capstan.cli;

import io.capstan.backend.WorkloadSpec;
import io.capstan.core.DocumentReader;
import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.LocatedDocument;
import io.capstan.core.ResourceParser;
import io.capstan.kubernetes.Renderer;
import io.capstan.kubernetes.WorkloadObjects;
import io.capstan.server.CapstanServer;
import io.capstan.server.jobs.JobSpec;
import io.capstan.training.BuiltInRuntimes;
import io.fabric8.kubernetes.api.model.HasMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "render", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Print, as YAML, the Kubernetes objects that applying the resources would create on the Kubernetes backend; needs no cluster or server.")
final class RenderCommand implements Callable<Integer> {
    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE",
            description = "A YAML or JSON file, a folder of them, or - for standard input; repeat for several.")
    private List<String> files;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Option(names = "--backend", paramLabel = "BACKEND", defaultValue = "kubernetes",
            description = "The backend whose objects to print; only kubernetes has any (default: ${DEFAULT-VALUE}).")
    private String backend;

    @Option(names = "--image", paramLabel = "IMAGE",
            description = "The container image of workloads that name none (a capstan.io/v1 Job without spec.image).")
    private String image;

    @Option(names = "--model-server-image", paramLabel = "IMAGE", defaultValue = io.capstan.kubernetes.Renderer.DEFAULT_MODEL_SERVER_IMAGE,
            description = "Capstan's own image, which serves an InferenceService's ONNX, XGBoost and LightGBM models and runs built-in pipeline components (default: ${DEFAULT-VALUE}).")
    private String modelServerImage;

    @Override
    public Integer call() {
        if (!backend.equals("kubernetes")) {
            throw new UsageException("--backend " + io.capstan.core.Names.printable(backend) + ": only kubernetes creates objects to render; the local backend runs processes");
        }
        var parser = new ResourceParser(CapstanServer.kinds());
        var objects = new ArrayList<HasMetadata>();
        var errors = new ArrayList<FieldError>();
        for (var source : sources()) {
            var text = new String(source.body(), StandardCharsets.UTF_8);
            for (var doc : DocumentReader.read(source.name(), text)) {
                try {
                    objects.addAll(render(doc, parser));
                } catch (InvalidSpecException e) {
                    e.errors().forEach(err -> errors.add(doc.locate(err)));
                }
            }
        }
        if (!errors.isEmpty()) throw new InvalidSpecException(errors);
        var out = spec.commandLine().getOut();
        out.print(WorkloadObjects.yaml(objects));
        out.flush();
        return ExitCodes.OK;
    }

    private List<HasMetadata> render(LocatedDocument doc, ResourceParser parser) {
        var root = doc.root();
        var ns = namespaceOptions.namespace();
        // batch/v1 Job is what a Katib trial template holds, not a kind Capstan stores; it needs no validation of its own.
        // So is a compiled KFP pipeline, which renders as a run of its defaults.
        if (root.path("apiVersion").asText("").equals("batch/v1") || Renderer.isPipelineIr(root)) {
            return Renderer.render(root, ns, RenderCommand::runtimeImage, modelServerImage);
        }
        String json;
        try {
            json = Json.json().writeValueAsString(root);
        } catch (IOException e) {
            throw new InvalidSpecException("cannot read document " + doc.index() + " of " + doc.source() + ": " + e.getMessage());
        }
        var resource = parser.parseOne(doc.source(), json, ns);
        var name = resource.metadata().name();
        var namespace = resource.metadata().namespace();
        if (resource.kind().equals(io.capstan.server.jobs.Jobs.KIND) && resource.apiVersion().startsWith("capstan.io/")) {
            var job = JobSpec.of(resource.spec());
            var env = new HashMap<>(job.env());
            env.put("CAPSTAN_JOB_NAME", name);
            env.put("CAPSTAN_JOB_NAMESPACE", namespace);
            var jobImage = Optional.ofNullable(resource.spec().get("image")).filter(n -> n.isTextual() && !n.asText().isBlank())
                    .map(n -> n.asText()).or(() -> Optional.ofNullable(image));
            if (jobImage.isEmpty()) {
                throw InvalidSpecException.of("spec.image", "required on Kubernetes: the container image that has the command; or pass --image");
            }
            var workload = new WorkloadSpec(name, job.command(), env, Optional.empty(), job.resources(), job.timeout(), job.priority(), jobImage);
            return Renderer.capstanJob(workload, name, namespace);
        }
        var placed = ((com.fasterxml.jackson.databind.node.ObjectNode) root.deepCopy());
        placed.withObject("/metadata").put("namespace", namespace);
        return Renderer.render(placed, ns, RenderCommand::runtimeImage, modelServerImage);
    }

    /** The image of a built-in training runtime, as its single node container names it. */
    static Optional<String> runtimeImage(String runtime) {
        return BuiltInRuntimes.find(runtime).map(r -> r.spec().at("/template/spec/replicatedJobs/0/template/spec/template/spec/containers/0/image"))
                .filter(n -> n.isTextual()).map(n -> n.asText());
    }

    private List<ApplyCommand.Source> sources() {
        var sources = new ArrayList<ApplyCommand.Source>();
        for (var file : files) {
            if (file.equals(ApplyCommand.STDIN)) {
                try {
                    sources.add(new ApplyCommand.Source("<stdin>", root.stdin().readAllBytes(), "application/yaml"));
                } catch (IOException e) {
                    throw new CommandFailedException("cannot read standard input: " + e.getMessage(), e);
                }
            } else {
                sources.addAll(ApplyCommand.readPath(Path.of(file), file));
            }
        }
        return sources;
    }
}
