package io.capstan.serving.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.serving.Serving;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.Conformance;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every serving.kserve.io document of KServe's samples, runtimes and e2e graph resources (../shared/conformance/kserve),
 * applied file by file through the real parser and reconcilers of {@link Serving} (custom containers through the
 * container engine when there is one, offline): what each does here is listed in {@code conformance/kserve.tsv}, and
 * this test fails when an outcome changes. Outcomes: {@code accepted} (a runtime), {@code runs} (Ready here),
 * {@code needs-storage} (its model is on cloud or remote storage, unreachable offline), {@code needs-image} (its
 * program exists only in an image that no registry here can give), {@code refused} (with the reason), and
 * {@code not-yaml} (a template that no one could apply as it is).
 */
class KServeSampleOutcomesTest {
    static final Path ROOT = Conformance.path("kserve");
    static final List<String> FOLDERS = List.of("docs/samples", "config/runtimes", "test/e2e");
    private static final Pattern REMOTE = Pattern.compile("(gs|s3|https?|pvc|hf|oci)://|downloading ");
    private static final Pattern MISSING_IMAGE = Pattern.compile("image (\\S+) has no command.*cannot run in a container");

    record Row(String file, String kind, String name, String outcome, String reason) {
        String id() {
            return file + "\t" + kind + "\t" + name + "\t" + outcome;
        }

        String line() {
            return id() + "\t" + reason;
        }
    }

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));

    @BeforeEach
    void setUp() {
        Conformance.require(ROOT);
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), Clock.systemUTC(), new SimpleMeterRegistry(),
                "http://localhost:8080", Serving.Options.defaults());
    }

    @AfterEach
    void tearDown() {
        if (serving != null) serving.close();
        if (db != null) db.close();
    }

    @Test
    void everyKServeSampleHasItsListedOutcome() throws Exception {
        var computed = new ArrayList<Row>();
        var parsed = new java.util.LinkedHashMap<Path, List<ObjectNode>>();
        for (var file : files()) {
            try {
                parsed.put(file, documents(file));
            } catch (RuntimeException | java.io.IOException e) {
                computed.add(new Row(ROOT.relativize(file).toString(), "-", "-", "not-yaml",
                        "a template with placeholders such as {username} or {{ name }}, not YAML as written"));
            }
        }
        // as a cluster has KServe's runtimes installed before anyone applies a sample, the runtimes go first
        var namespaces = new java.util.HashMap<Path, String>();
        for (var phase : List.of(true, false)) {
            for (var entry : parsed.entrySet()) {
                var relative = ROOT.relativize(entry.getKey()).toString();
                // one namespace per folder: a sample's TrainedModels and graphs find its services in the files beside it
                var namespace = namespaces.computeIfAbsent(entry.getKey().getParent(), f -> "s" + namespaces.size());
                var applied = new ArrayList<Resource>();
                for (var document : entry.getValue()) {
                    var kind = document.path("kind").asText();
                    if (kind.endsWith("ServingRuntime") != phase) continue;
                    var name = document.path("metadata").path("name").asText("-");
                    if (document.get("metadata") instanceof ObjectNode metadata) metadata.remove("namespace");
                    try {
                        var resource = parser.parse(relative, Json.yaml().writeValueAsString(document), namespace).getFirst();
                        applied.add(store.apply(resource));
                    } catch (InvalidSpecException e) {
                        computed.add(new Row(relative, kind, name, "refused", reason(e.getMessage(), namespace)));
                    }
                }
                for (var kind : List.of(ServingKinds.SERVING_RUNTIME, ServingKinds.CLUSTER_SERVING_RUNTIME, ServingKinds.INFERENCE_SERVICE,
                        ServingKinds.TRAINED_MODEL, ServingKinds.INFERENCE_GRAPH)) {
                    for (var resource : applied) {
                        if (resource.kind().equals(kind)) computed.add(outcome(relative, resource, namespace));
                    }
                }
            }
        }
        var listed = listed();
        var counts = new TreeMap<String, Integer>();
        computed.forEach(r -> counts.merge(r.outcome(), 1, Integer::sum));
        System.out.println("KServe samples: " + computed.size() + " documents, " + counts);
        computed.forEach(r -> System.out.println("  " + r.line()));
        assertThat(computed).extracting(Row::id).containsExactlyInAnyOrderElementsOf(listed.stream().map(Row::id).toList());
        var reasons = new TreeMap<String, String>();
        computed.forEach(r -> reasons.put(r.id(), r.reason()));
        for (var row : listed) {
            if (!row.reason().isEmpty()) assertThat(reasons.get(row.id())).as(row.id()).startsWith(row.reason());
        }
        assertThat(computed.size()).isGreaterThanOrEqualTo(60);
    }

    private Row outcome(String file, Resource applied, String namespace) {
        var kind = applied.kind();
        var name = applied.metadata().name();
        if (kind.equals(ServingKinds.SERVING_RUNTIME) || kind.equals(ServingKinds.CLUSTER_SERVING_RUNTIME)) {
            return new Row(file, kind, name, "accepted", "a runtime: models of its formats are served with it");
        }
        var reconciler = switch (kind) {
            case ServingKinds.TRAINED_MODEL -> serving.trainedModelReconciler();
            case ServingKinds.INFERENCE_GRAPH -> serving.graphReconciler();
            default -> serving.reconciler();
        };
        reconciler.reconcile(applied.key());
        var status = store.get(applied.key()).status();
        var ready = status.condition("Ready");
        if (ready.isPresent() && ready.get().status().name().equals("True")) {
            return new Row(file, kind, name, "runs", kind.equals(ServingKinds.INFERENCE_GRAPH)
                    ? "the graph is ready; a step answers when its service runs" : "");
        }
        var message = ready.map(c -> c.message()).filter(m -> m != null && !m.isBlank()).orElse(String.valueOf(status.phase()));
        var image = MISSING_IMAGE.matcher(message);
        if (image.find()) {
            return new Row(file, kind, name, "needs-image", "runs the entrypoint of image " + image.group(1)
                    + ", which no registry here can give");
        }
        if (message.contains("does not exist on this machine") || message.contains("No module named")
                || message.contains("can't open file")) {
            return new Row(file, kind, name, "needs-image", reason(message, namespace));
        }
        // a format or component Capstan cannot serve is the reason, wherever the model is
        boolean unservable = message.contains("Capstan cannot load") || message.contains("Capstan does not run");
        if (!unservable && (REMOTE.matcher(message).find() || message.contains("storageUri scheme")
                || message.contains("no S3 settings for bucket"))) {
            return new Row(file, kind, name, "needs-storage", reason(message, namespace));
        }
        return new Row(file, kind, name, "refused", reason(message, namespace));
    }

    /** The message without what differs between runs: the namespace, revision numbers, temporary folders; one line. */
    static String reason(String message, String namespace) {
        var text = message.replace(namespace + "/", "").replace("'" + namespace + "'", "'(its namespace)'").replaceAll("\\s+", " ").replaceAll("/tmp/\\S+", "(tmp)")
                .replaceFirst("^\\S+-(predictor|transformer|explainer)-\\d+ failed: ", "").strip();
        return text.length() > 160 ? text.substring(0, 160) : text;
    }

    static List<Path> files() throws Exception {
        var files = new ArrayList<Path>();
        for (var folder : FOLDERS) {
            try (Stream<Path> walk = Files.walk(ROOT.resolve(folder))) {
                walk.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    /** The serving.kserve.io documents of a file; other kinds (Secrets, Services, CRDs) are not KServe resources. */
    static List<ObjectNode> documents(Path file) throws Exception {
        var out = new ArrayList<ObjectNode>();
        try (var it = Json.yaml().readerFor(JsonNode.class).readValues(Files.readString(file))) {
            while (it.hasNext()) {
                var node = (JsonNode) it.next();
                if (node instanceof ObjectNode object && node.path("apiVersion").asText().startsWith(ServingKinds.GROUP + "/")
                        && !node.path("kind").asText().equals("CustomResourceDefinition")) {
                    out.add(object);
                }
            }
        }
        return out;
    }

    static List<Row> listed() throws Exception {
        try (var in = KServeSampleOutcomesTest.class.getResourceAsStream("/conformance/kserve.tsv")) {
            assertThat(in).as("conformance/kserve.tsv").isNotNull();
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
