package io.capstan.server.kfp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile KFP uploads to {@code POST /apis/v2beta1/pipelines/upload} on a real server: whatever the multipart body
 * and its Content-Type, the answer is never a 5xx, and a refused upload stores no pipeline and no version. The first
 * input byte picks the Content-Type (boundary plain, quoted, missing, or no multipart at all) and whether the query
 * names the pipeline; the rest is the request body. Pipelines an accepted upload stored are deleted again.
 */
class PipelineUploadFuzzTest {
    private static final String BOUNDARY = "capstan-fuzz-boundary";
    private static final String[] CONTENT_TYPES = {"multipart/form-data; boundary=" + BOUNDARY,
            "multipart/form-data; boundary=\"" + BOUNDARY + "\"", "multipart/form-data", "application/x-yaml"};

    @TempDir
    static Path home;
    static KfpTestServer server;

    @BeforeAll
    static void start() throws IOException {
        server = new KfpTestServer(home);
        // Loads the upload path's classes before Jazzer instruments them, so the first fuzzed request is not the
        // one that pays for it (under load that took longer than the client's 30 s).
        var warm = server.upload("/pipelines/upload?name=warm-up", "p.yaml",
                Files.readAllBytes(Path.of("..", "examples", "iris", "iris-pipeline.yaml")));
        assertThat(warm.status()).as(warm.body()).isEqualTo(200);
        deleteAllPipelines();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    // Entries are in libFuzzer's dictionary syntax, hence the doubled escapes.
    @MethodSource("seeds")
    @DictionaryEntries({"--" + BOUNDARY, "\\r\\n", "\\r\\n\\r\\n", "Content-Disposition: form-data; ", "name=\\\"uploadfile\\\"",
            "filename=\\\"p.yaml\\\"", "Content-Type: ", "pipelineInfo:", "root:", "components:", "deploymentSpec:",
            "executors:", "dag:", "tasks:", "componentRef:", "\\n---\\n", "platforms:"})
    @FuzzTest
    void neverAServerErrorAndARefusalStoresNothing(byte[] input) {
        if (input.length == 0) return;
        var contentType = CONTENT_TYPES[input[0] & 3];
        var query = (input[0] & 4) == 0 ? "" : "?name=fuzzed&description=d";
        var body = Arrays.copyOfRange(input, 1, input.length);
        var before = stored();

        var reply = server.send("POST", "/pipelines/upload" + query, HttpRequest.BodyPublishers.ofByteArray(body), contentType);

        assertThat(reply.status()).as("status for %s", reply.body()).isBetween(200, 499);
        if (reply.status() >= 400) {
            assertThat(stored()).as("pipelines after a refused upload").isEqualTo(before);
        } else {
            deleteAllPipelines();
        }
    }

    private static void deleteAllPipelines() {
        var store = server.server.store();
        for (var kind : List.of(KfpKinds.PIPELINE_VERSION, KfpKinds.PIPELINE)) {
            store.list(everything(kind)).items().forEach(r -> store.delete(r.key()));
        }
    }

    /** Every pipeline and version in the store, with its resource version. */
    private static List<String> stored() {
        var all = new ArrayList<String>();
        for (var kind : List.of(KfpKinds.PIPELINE, KfpKinds.PIPELINE_VERSION)) {
            server.server.store().list(everything(kind)).items()
                    .forEach(r -> all.add(r.key() + "@" + r.metadata().resourceVersion()));
        }
        return all;
    }

    private static ListQuery everything(String kind) {
        return new ListQuery(kind, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, Optional.empty());
    }

    static Stream<byte[]> seeds() throws IOException {
        var twoSteps = Files.readAllBytes(Path.of("..", "capstan-pipelines", "src", "test", "resources", "ir", "valid", "two_steps.yaml"));
        var iris = Files.readAllBytes(Path.of("..", "examples", "iris", "iris-pipeline.yaml"));
        return Stream.of(
                seed(0, multipart("two_steps.yaml", twoSteps)),
                seed(1, multipart("iris.yaml", iris)),
                seed(4, multipart("C:\\\\dir\\\\p.json", "{\"pipelineInfo\": {\"name\": \"p\"}}".getBytes(StandardCharsets.UTF_8))),
                seed(3, twoSteps),
                seed(0, ("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--" + BOUNDARY + "--\r\n")
                        .getBytes(StandardCharsets.UTF_8)));
    }

    private static byte[] multipart(String fileName, byte[] content) {
        var out = new ByteArrayOutputStream();
        out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"uploadfile\"; filename=\"" + fileName
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(content);
        out.writeBytes(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static byte[] seed(int selector, byte[] body) {
        var out = new byte[body.length + 1];
        out[0] = (byte) selector;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }
}
