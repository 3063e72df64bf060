package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every TrainJob, (Cluster)TrainingRuntime and v1 job in Kubeflow's trainer and training-operator corpora is accepted
 * and validated; what each would do here is listed in {@code conformance/training.tsv} (runs, needs-image, refused,
 * with the reason), and the examples that can run offline are run.
 */
class ConformanceTest {
    static final Path CORPUS = Path.of(System.getProperty("capstan.conformance.dir", "../../shared/conformance")).toAbsolutePath().normalize();
    static final List<String> FOLDERS = List.of("trainer", "training-operator-v1");

    @TempDir
    Path dir;

    record Row(String file, String kind, String name, String outcome, String reason) {
        String id() {
            return file + "\t" + kind + "\t" + name + "\t" + outcome;
        }
    }

    static List<Path> yamlFiles() throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(CORPUS) || "true".equalsIgnoreCase(System.getenv("CI")),
                "conformance corpus not found at " + CORPUS);
        var files = new ArrayList<Path>();
        for (var folder : FOLDERS) {
            try (Stream<Path> walk = Files.walk(CORPUS.resolve(folder))) {
                walk.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    /** The training documents of a file; other kinds (CRDs, volumes, etcd) are not ours and are left out. */
    static List<JsonNode> trainingDocuments(Path file) throws IOException {
        var docs = new ArrayList<JsonNode>();
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
        try (var parser = mapper.createParser(Files.readString(file, StandardCharsets.UTF_8))) {
            var it = mapper.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                var doc = it.next();
                if (doc == null || !doc.isObject()) continue;
                var kind = doc.path("kind").asText();
                var group = doc.path("apiVersion").asText();
                if ((group.startsWith("kubeflow.org/") || group.startsWith("trainer.kubeflow.org/"))
                        && TrainingKinds.all().stream().anyMatch(k -> k.kind().equals(kind))) {
                    docs.add(doc);
                }
            }
        }
        return docs;
    }

    @Test
    void everyTrainingExampleIsAcceptedAndItsOutcomeIsListed() throws Exception {
        var parser = new ResourceParser(ResourceKinds.of(TrainingKinds.all()));
        var runtimes = new LinkedHashMap<String, Resource>();
        var jobs = new ArrayList<Map.Entry<String, Resource>>();
        int files = 0;
        for (var file : yamlFiles()) {
            var relative = CORPUS.relativize(file).toString();
            for (var doc : trainingDocuments(file)) {
                var resource = parser.parse(relative, Json.json().writeValueAsString(doc)).getFirst();
                if (resource.kind().endsWith("TrainingRuntime")) runtimes.put(resource.metadata().name(), resource);
                jobs.add(Map.entry(relative, resource));
            }
            files++;
        }
        var computed = new ArrayList<Row>();
        for (var entry : jobs) computed.add(classify(entry.getKey(), entry.getValue(), runtimes));
        var listed = listed();
        System.out.printf("training conformance: %d files read, %d training documents accepted; %d run, %d need their image, %d refused%n",
                files, computed.size(), count(computed, "runs"), count(computed, "needs-image"), count(computed, "refused"));
        computed.forEach(r -> System.out.println("  " + r.id()));
        assertThat(computed).extracting(Row::id).containsExactlyInAnyOrderElementsOf(listed.stream().map(Row::id).toList());
        assertThat(listed).filteredOn(r -> !r.outcome().equals("runs")).allSatisfy(r -> assertThat(r.reason()).isNotBlank());
        assertThat(computed.size()).isGreaterThanOrEqualTo(30);
    }

    /**
     * The examples listed as runs, run here: each runs to Succeeded, or, where its gang asks for more CPUs than this
     * machine has, waits with the Unschedulable condition and starts nothing (gang admission).
     */
    @Test
    void theExamplesThatCanRunOfflineRun() throws Exception {
        var python = TorchPython.require();
        var runnable = listed().stream().filter(r -> r.outcome().equals("runs")).toList();
        assertThat(runnable).isNotEmpty();
        try (var bed = Testbed.h2(dir)) {
            for (var row : runnable) {
                var file = CORPUS.resolve(row.file());
                for (var doc : trainingDocuments(file)) {
                    if (doc.path("kind").asText().endsWith("TrainingRuntime")) {
                        bed.store.create(bed.parser.parse(row.file(), Json.json().writeValueAsString(doc)).getFirst());
                        continue;
                    }
                    var key = bed.store.create(bed.parser.parse(row.file(), Json.json().writeValueAsString(offline(doc, python))).getFirst()).key();
                    var job = bed.runUntil(key, Testbed.JOB_TIMEOUT, row.file() + " to finish or wait", j -> j.status().phase().equals("Succeeded")
                            || j.status().phase().equals("Failed") || j.status().phase().equals("Suspended")
                            || j.status().condition("Running").map(c -> c.reason().equals("Unschedulable")).orElse(false));
                    if (job.status().phase().equals("Suspended")) {
                        // Written for Kueue, which lifts spec.suspend once the queue admits it: nothing runs until then.
                        assertThat(TrainingWorkloads.members(job)).isEmpty();
                        System.out.println("conformance: " + row.file() + " is suspended until spec.suspend is lifted");
                    } else if (job.status().phase().isEmpty() || job.status().phase().equals("Created")) {
                        assertThat(job.status().condition("Running").orElseThrow().message()).contains("CPUs");
                        assertThat(TrainingWorkloads.members(job)).isEmpty();
                        System.out.println("conformance: " + row.file() + " waits: " + job.status().condition("Running").orElseThrow().message());
                    } else {
                        assertThat(job.status().phase()).as(row.file() + "\n" + bed.logs(job)).isEqualTo("Succeeded");
                        System.out.println("conformance: " + row.file() + " ran to Succeeded");
                    }
                    bed.store.delete(key);
                }
            }
        }
    }

    /**
     * The examples run "python3" and "torchrun --no-python python3": point them at the interpreter that has torch
     * (python3 on PATH may be a shim), and adapt them to Debian's torch 1.13: its torchrun spells --no-python as
     * --no_python, and on Python 3.11 it crashes with its default --redirects/--tee of 0.
     */
    private static JsonNode offline(JsonNode doc, String python) {
        var copy = doc.deepCopy();
        var trainer = (com.fasterxml.jackson.databind.node.ObjectNode) copy.path("spec").path("trainer");
        var command = (com.fasterxml.jackson.databind.node.ArrayNode) trainer.get("command");
        var nodes = Json.json().getNodeFactory();
        for (int i = 0; i < command.size(); i++) {
            if (command.get(i).asText().equals("python3")) command.set(i, nodes.textNode(python));
            if (command.get(i).asText().equals("torchrun")) command.set(i, nodes.textNode(Path.of(python).resolveSibling("torchrun").toString()));
            if (command.get(i).asText().equals("--no-python")) command.set(i, nodes.textNode("--no_python"));
        }
        var env = trainer.has("env") ? (com.fasterxml.jackson.databind.node.ArrayNode) trainer.get("env") : trainer.putArray("env");
        env.addObject().put("name", "PET_REDIRECTS").put("value", "2");
        env.addObject().put("name", "PET_TEE").put("value", "1");
        return copy;
    }

    private static long count(List<Row> rows, String outcome) {
        return rows.stream().filter(r -> r.outcome().equals(outcome)).count();
    }

    static Row classify(String file, Resource r, Map<String, Resource> corpusRuntimes) {
        if (r.kind().endsWith("TrainingRuntime")) {
            return new Row(file, r.kind(), r.metadata().name(), "accepted", "a runtime: TrainJobs that name it run on it");
        }
        var problems = new Problems();
        JobPlan plan;
        if (r.kind().equals("TrainJob")) {
            var ref = TrainJobs.runtimeRef(r.spec(), problems).orElseThrow();
            var runtime = Optional.ofNullable(corpusRuntimes.get(ref.name())).or(() -> BuiltInRuntimes.find(ref.name()));
            assertThat(runtime).as(file + ": runtime " + ref.name()).isPresent();
            plan = TrainJobs.plan(r.spec(), runtime.get().spec(), problems);
        } else {
            plan = V1Jobs.plan(V1Jobs.Kind.of(r.kind()).orElseThrow(), r.spec(), problems);
        }
        assertThat(problems.errors()).as(file).isEmpty();
        if (plan.refusal().isPresent()) return new Row(file, r.kind(), r.metadata().name(), "refused", plan.refusal().get());
        for (var group : plan.groups()) {
            var c = group.container();
            if (c.command().isEmpty()) {
                return new Row(file, r.kind(), r.metadata().name(), "needs-image", "runs the entrypoint of image " + c.image().orElse("?"));
            }
            for (var token : c.commandLine()) {
                boolean script = token.endsWith(".py") || token.endsWith(".sh");
                if ((token.startsWith("/") || script) && !token.contains("\n") && !token.contains(" ") && !Files.exists(Path.of(token))) {
                    return new Row(file, r.kind(), r.metadata().name(), "needs-image", token + " exists only inside image " + c.image().orElse("?"));
                }
            }
        }
        return new Row(file, r.kind(), r.metadata().name(), "runs", "");
    }

    static List<Row> listed() throws IOException {
        try (var in = ConformanceTest.class.getResourceAsStream("/conformance/training.tsv")) {
            assertThat(in).as("conformance/training.tsv").isNotNull();
            var rows = new ArrayList<Row>();
            for (var line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) continue;
                var cells = line.split("\t", -1);
                rows.add(new Row(cells[0], cells[1], cells[2], cells[3], cells.length > 4 ? cells[4] : ""));
            }
            return rows;
        }
    }
}
