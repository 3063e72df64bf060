package io.capstan.pipelines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.InvalidSpecException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One file per rule under {@code src/test/resources/ir/invalid}; each says what the rejection must contain
 * ({@code # expect:}) and which field it must name ({@code # path:}).
 */
class PipelineValidatorTest {
    private final PipelineParser parser = new PipelineParser();
    private final PipelineValidator validator = new PipelineValidator();
    private final PipelinePlanner planner = new PipelinePlanner(validator);

    static List<Path> invalidCases() {
        return OwnCases.files("invalid");
    }

    static List<Path> validCases() {
        return OwnCases.files("valid");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidCases")
    void rejectsInvalidCaseNamingFieldAndLine(Path file) {
        var text = OwnCases.read(file);
        var expect = OwnCases.header(text, "expect");
        var path = OwnCases.header(text, "path");
        var name = file.getFileName().toString();
        assertThat(expect).as("%s needs a '# expect:' header", name).isNotEmpty();

        var error = assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> planner.plan(parser.parse(name, text)))
                .actual();

        assertThat(error.getMessage()).contains(expect);
        var matching = error.errors().stream().filter(e -> e.message().contains(expect) || e.path().contains(expect)).toList();
        assertThat(matching).as("an error that says '%s'", expect).isNotEmpty();
        assertThat(matching).anySatisfy(e -> {
            assertThat(e.path()).startsWith(path);
            assertThat(e.source()).isEqualTo(name);
            if (!path.isEmpty()) assertThat(e.line()).isPositive();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validCases")
    void acceptsValidCase(Path file) {
        var parsed = parser.parse(file.getFileName().toString(), OwnCases.read(file));

        assertThat(validator.check(parsed)).isEmpty();
    }

    @Test
    void reportsEveryProblemAtOnce() {
        var text = OwnCases.read(OwnCases.file("valid/two_steps.yaml"))
                .replace("producerTask: produce", "producerTask: ghost")
                .replace("name: comp-consume", "name: comp-nothing");

        var errors = validator.check(parser.parse("p.yaml", text));

        assertThat(errors).extracting(e -> e.path())
                .contains("root.dag.tasks.consume.componentRef.name");
        assertThat(errors).hasSizeGreaterThanOrEqualTo(1);
    }

    @Test
    void namesTheCycleMembersInOrder() {
        var text = OwnCases.read(OwnCases.file("invalid/cycle.yaml"));

        var errors = validator.check(parser.parse("cycle.yaml", text));

        assertThat(errors).singleElement().satisfies(e -> {
            assertThat(e.message()).contains("produce").contains("consume").contains("→");
            assertThat(e.line()).isPositive();
        });
    }

    @Test
    void integerOutputMayFeedDoubleInput() {
        assertThat(ParameterType.NUMBER_DOUBLE.accepts(ParameterType.NUMBER_INTEGER)).isTrue();
        assertThat(ParameterType.NUMBER_INTEGER.accepts(ParameterType.NUMBER_DOUBLE)).isFalse();
        assertThat(ParameterType.STRING.accepts(ParameterType.LIST)).isFalse();
    }

    @Test
    void genericArtifactMatchesAnyArtifactType() {
        var generic = new ArtifactType(ArtifactType.GENERIC, "0.0.1");
        var dataset = new ArtifactType("system.Dataset", "0.0.1");
        var model = new ArtifactType("system.Model", "0.0.1");

        assertThat(generic.accepts(dataset)).isTrue();
        assertThat(dataset.accepts(generic)).isTrue();
        assertThat(model.accepts(dataset)).isFalse();
    }
}
