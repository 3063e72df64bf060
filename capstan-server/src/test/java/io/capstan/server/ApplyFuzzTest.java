package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceParser;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile input to {@code POST /apis/capstan/v1/apply} on a real server: whatever the body, content type and namespace,
 * the answer is never a 5xx, a refusal is problem+json, and a refused request leaves every resource it names as it
 * was (none created, none changed). The first input byte picks the content type and the namespace; the rest is the
 * body. Resources an accepted request stored are deleted again, so the store stays small and workloads stay few.
 */
class ApplyFuzzTest {
    private static final String[] CONTENT_TYPES = {"application/yaml", "application/json", "text/plain", null};
    private static final String[] NAMESPACES = {null, "team-a", "", "Not_A_Namespace"};
    private static final ResourceParser PARSER = new ResourceParser(CapstanServer.kinds());

    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
        // Loads the apply path's classes before Jazzer instruments them, so the first fuzzed request does not pay.
        var warm = server.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warm-up}\ndata: {a: b}\n");
        assertThat(warm.status()).as(warm.body()).isEqualTo(200);
        assertThat(server.apply("kind: Nothing\n").status()).isEqualTo(400);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    // Entries are in libFuzzer's dictionary syntax, hence the doubled escapes.
    @MethodSource("seeds")
    @DictionaryEntries({"apiVersion: ", "kind: ", "metadata:", "name: ", "namespace: ", "labels:", "annotations:", "spec:",
            "\\n---\\n", "&a ", "*a", "<<: ", ": ", "\\n  ", "- ", "capstan.io/v1", "v1", "Job", "Secret", "ConfigMap",
            "serving.kserve.io/v1beta1", "InferenceService", "kubeflow.org/v1beta1", "Experiment", "trainer.kubeflow.org/v1alpha1",
            "TrainJob", "stringData:", "data:", "command:", "predictor:", "storageUri: ", "null", "1e309"})
    @FuzzTest
    void neverAServerErrorAndARefusalStoresNothing(byte[] input) {
        if (input.length == 0) return;
        var contentType = CONTENT_TYPES[input[0] & 3];
        var namespace = NAMESPACES[(input[0] >> 2) & 3];
        var body = new String(Arrays.copyOfRange(input, 1, input.length), StandardCharsets.UTF_8);
        var named = namedResources(body, namespace);
        var before = states(named);

        var path = "/apis/capstan/v1/apply" + (namespace == null ? "" : "?namespace=" + URLEncoder.encode(namespace, StandardCharsets.UTF_8));
        var reply = server.send("POST", path, body, contentType);

        assertThat(reply.status()).as("status for %s", reply.body()).isBetween(200, 499);
        if (reply.status() >= 400) {
            assertThat(reply.contentType()).as(reply.body()).startsWith("application/problem+json");
            assertThat(states(named)).as("what a refused apply names is as it was").isEqualTo(before);
        } else {
            assertThat(named).as("the server stored what does not parse: %s", reply.body()).isNotEmpty();
            named.forEach(r -> server.server.store().delete(r.key()));
        }
    }

    /** What the body would store, as the server's own parser reads it; empty when it does not parse. */
    private static List<Resource> namedResources(String body, String namespace) {
        try {
            return namespace == null ? PARSER.parse("fuzz", body) : PARSER.parse("fuzz", body, namespace);
        } catch (InvalidSpecException e) {
            return List.of();
        }
    }

    private static Map<ResourceKey, Optional<List<Object>>> states(List<Resource> resources) {
        var states = new LinkedHashMap<ResourceKey, Optional<List<Object>>>();
        for (var r : resources) {
            states.put(r.key(), server.server.store().find(r.key())
                    .map(s -> List.of(s.spec(), s.metadata().labels(), s.metadata().annotations(), s.metadata().uid())));
        }
        return states;
    }

    static Stream<byte[]> seeds() {
        return Stream.of(
                        seed(0, """
                                apiVersion: v1
                                kind: Secret
                                metadata: {name: s, labels: {team: ml}}
                                stringData: {password: hunter2}
                                ---
                                apiVersion: v1
                                kind: ConfigMap
                                metadata: {name: c}
                                data: {k: v}
                                """),
                        seed(1, "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"j\"}, \"data\": {\"a\": \"1\"}}"),
                        seed(4, """
                                apiVersion: capstan.io/v1
                                kind: Job
                                metadata: {name: j}
                                spec: {command: [true]}
                                """),
                        seed(0, """
                                apiVersion: serving.kserve.io/v1beta1
                                kind: InferenceService
                                metadata: {name: isvc}
                                spec:
                                  predictor:
                                    model: {modelFormat: {name: onnx}, storageUri: "file:///nonexistent/model.onnx"}
                                """),
                        seed(8, """
                                apiVersion: kubeflow.org/v1beta1
                                kind: Experiment
                                metadata: {name: e}
                                spec:
                                  objective: {type: maximize, objectiveMetricName: acc}
                                  parameters: [{name: lr, parameterType: double, feasibleSpace: {min: "0.1", max: "x"}}]
                                """),
                        seed(0, """
                                apiVersion: trainer.kubeflow.org/v1alpha1
                                kind: TrainJob
                                metadata: {name: t}
                                spec: {runtimeRef: {name: missing}, trainer: {numNodes: -1}}
                                """),
                        seed(0, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n---\napiVersion: v1\nkind: Secret\n"
                                + "metadata: {name: s}\nstringData: {a: c}\n"));
    }

    private static byte[] seed(int selector, String body) {
        var bytes = body.getBytes(StandardCharsets.UTF_8);
        var out = new byte[bytes.length + 1];
        out[0] = (byte) selector;
        System.arraycopy(bytes, 0, out, 1, bytes.length);
        return out;
    }
}
