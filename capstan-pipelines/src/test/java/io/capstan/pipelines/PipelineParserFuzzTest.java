package io.capstan.pipelines;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capstan.core.InvalidSpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile KFP IR: any bytes, as a pipeline spec and optional platform spec, are either accepted by the parser and the
 * validator (as an upload is) or refused with an {@link InvalidSpecException} whose errors say what is wrong. Any
 * other exception, a hang past the timeout, or running out of the fork's heap is a finding.
 */
class PipelineParserFuzzTest {
    private final PipelineParser parser = new PipelineParser();
    private final PipelineValidator validator = new PipelineValidator();

    // Entries are in libFuzzer's dictionary syntax, hence the doubled escapes.
    @MethodSource("seeds")
    @DictionaryEntries({"pipelineInfo:", "root:", "components:", "deploymentSpec:", "executors:", "dag:", "tasks:",
            "componentRef:", "inputDefinitions:", "outputDefinitions:", "parameters:", "artifacts:", "parameterType: ",
            "STRING", "NUMBER_INTEGER", "NUMBER_DOUBLE", "BOOLEAN", "LIST", "STRUCT", "runtimeValue:", "constant: ",
            "taskOutputParameter:", "producerTask: ", "outputParameterKey: ", "componentInputParameter: ", "dependentTasks:",
            "triggerPolicy:", "condition: ", "parameterIterator:", "iteratorPolicy:", "retryPolicy:", "cachingOptions:",
            "container:", "image: ", "command:", "args:", "{{$.inputs.parameters['x']}}", "executorLabel: ", "schemaVersion: ",
            "platforms:", "kubernetes:", "\\n---\\n", "&a ", "*a", "- ", ": ", "\\n  "})
    @FuzzTest
    void acceptsOrRefusesWithFieldErrors(byte[] input) {
        var text = new String(input, java.nio.charset.StandardCharsets.UTF_8);
        try {
            var parsed = parser.parse("fuzz.yaml", text);
            validator.validate(parsed);
            assertThat(parsed.spec()).isNotNull();
        } catch (InvalidSpecException e) {
            assertThat(e.errors()).isNotEmpty().allSatisfy(err -> assertThat(err.message()).isNotBlank());
        }
    }

    static Stream<byte[]> seeds() throws IOException, URISyntaxException {
        var files = new ArrayList<Path>();
        files.addAll(OwnCases.files("valid"));
        // A few invalid cases, not all: each seed is replayed before fuzzing starts, and verify's time is short.
        OwnCases.files("invalid").stream().limit(8).forEach(files::add);
        try (var runs = Files.list(Path.of(PipelineParserFuzzTest.class.getResource("/runs").toURI()))) {
            runs.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(files::add);
        }
        files.add(Path.of("..", "examples", "iris", "iris-pipeline.yaml"));
        return files.stream().map(f -> {
            try {
                return Files.readAllBytes(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
