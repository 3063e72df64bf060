package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputDigestsTest {
    @TempDir
    Path dir;

    private static ObjectNode artifacts(Path path) {
        var o = JsonNodeFactory.instance.objectNode();
        o.putArray("model").addObject().put("uri", "file://" + path);
        return o;
    }

    @Test
    void aFolderOutputIsStaleWhenAFileInsideItChangesOrGoesAndFreshOtherwise() throws IOException {
        var model = Files.createDirectories(dir.resolve("model"));
        Files.writeString(Files.createDirectories(model.resolve("weights")).resolve("a.bin"), "one");
        Files.writeString(model.resolve("config.json"), "{}");
        var recorded = OutputDigests.of(artifacts(model));
        assertThat(recorded.path("model").get(0).asText()).startsWith("sha256:");

        assertThat(OutputDigests.staleness(artifacts(model), recorded)).isEmpty();

        Files.writeString(model.resolve("weights/a.bin"), "two");
        assertThat(OutputDigests.staleness(artifacts(model), recorded)).get().asString().contains("'model'").contains("changed since it was cached");

        Files.writeString(model.resolve("weights/a.bin"), "one");
        assertThat(OutputDigests.staleness(artifacts(model), recorded)).isEmpty();
        Files.move(model.resolve("weights/a.bin"), model.resolve("weights/b.bin"));
        assertThat(OutputDigests.staleness(artifacts(model), recorded)).as("a renamed file").isPresent();

        Files.delete(model.resolve("weights/b.bin"));
        Files.delete(model.resolve("weights"));
        Files.delete(model.resolve("config.json"));
        Files.delete(model);
        assertThat(OutputDigests.staleness(artifacts(model), recorded)).get().asString().endsWith("is missing");
    }

    @Test
    void anEntryWithoutDigestsIsCheckedForExistenceOnlyAndNonLocalUrisAreNotChecked() throws IOException {
        var file = Files.writeString(dir.resolve("data"), "x");
        var none = JsonNodeFactory.instance.objectNode();
        assertThat(OutputDigests.staleness(artifacts(file), none)).isEmpty();
        Files.delete(file);
        assertThat(OutputDigests.staleness(artifacts(file), none)).isPresent();

        var remote = JsonNodeFactory.instance.objectNode();
        remote.putArray("model").addObject().put("uri", "s3://bucket/model");
        assertThat(OutputDigests.of(remote).path("model").get(0).asText()).isEmpty();
        assertThat(OutputDigests.staleness(remote, OutputDigests.of(remote))).isEmpty();
    }
}
