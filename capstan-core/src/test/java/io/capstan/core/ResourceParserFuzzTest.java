package io.capstan.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile resource input: any bytes, read as YAML or JSON of one or many documents, either parse (to the same
 * resources every time) or are refused with an {@link InvalidSpecException} whose every error says what is wrong. Any other exception, a hang past the timeout,
 * or running out of the fork's 1 GiB heap is a finding. {@code ./mvnw verify} fuzzes this for a few seconds;
 * {@code bench/fuzz.sh} for longer.
 */
class ResourceParserFuzzTest {
    private static final ResourceParser PARSER = new ResourceParser(ResourceKinds.of(concat(CoreKinds.all(),
            List.of(ResourceKind.of("capstan.io", "v1", "Job", "jobs", (spec, problems) -> {
                var command = spec.get("command");
                if (command == null || !command.isArray()) problems.add("spec.command", "required: a list of strings");
            })))));

    // Entries are in libFuzzer's dictionary syntax, hence the doubled escapes.
    @MethodSource("seeds")
    @DictionaryEntries({"apiVersion: ", "kind: ", "metadata:", "name: ", "namespace: ", "labels:", "annotations:", "spec:",
            "\\n---\\n", "&a ", "*a", "<<: ", "!!binary ", "!!str ", "{", "}", "[", "]", ": ", "\\n  ", "- ", "\\\"", "'", "null",
            "capstan.io/v1", "Job", "Secret", "ConfigMap", "v1", "stringData:", "data:", "command:", "1e309", "-0x1F", "~"})
    @FuzzTest
    void parsesOrRefusesWithFieldErrors(byte[] input) {
        var text = new String(input, StandardCharsets.UTF_8);
        try {
            var resources = PARSER.parse("fuzz.yaml", text);
            assertThat(resources).isNotEmpty().allSatisfy(r -> assertThat(r.metadata().name()).isNotBlank());
            assertThat(PARSER.parse("fuzz.yaml", text)).as("the same text parsed again").isEqualTo(resources);
        } catch (InvalidSpecException e) {
            assertThat(e.errors()).isNotEmpty().allSatisfy(err -> assertThat(err.message()).isNotBlank());
        }
    }

    static Stream<byte[]> seeds() {
        var seeds = new ArrayList<String>(List.of(
                """
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: a, labels: {team: ml}, annotations: {note: x}}
                spec:
                  command: [echo, hi]
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: s, namespace: team-a}
                stringData: {password: hunter2}
                """,
                """
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
                """,
                """
                base: &base {command: [echo]}
                ---
                apiVersion: capstan.io/v1
                kind: Job
                metadata: {name: b}
                spec:
                  <<: *base
                  env: [{name: A, value: "1"}]
                """,
                "[{\"apiVersion\": \"capstan.io/v1\", \"kind\": \"Job\", \"metadata\": {\"name\": 1}}]",
                "apiVersion: capstan.io/v1\nkind: Job\nmetadata:\n  name: x\nspec: [1, 2.5e3, true, ~, !!binary aGk=]\n",
                "apiVersion: capstan.io/v1\nkind: Job\nmetadata: {name: y}\nspec: {command: [x], key: !!binary aGk=, n: 0x1F}\n"));
        try (var files = Files.list(Path.of("..", "examples"))) {
            for (var dir : files.filter(Files::isDirectory).toList()) {
                try (var yamls = Files.list(dir)) {
                    for (var yaml : yamls.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) seeds.add(Files.readString(yaml));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return seeds.stream().map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        var all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
