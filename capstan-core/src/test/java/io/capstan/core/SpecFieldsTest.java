package io.capstan.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.math.BigInteger;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SpecFieldsTest {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String TEN_MB = "x".repeat(10 * 1024 * 1024);

    private final Problems problems = new Problems();

    private static JsonNode json(String text) {
        try {
            return Json.json().readTree(text);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private List<String> reported() {
        return problems.errors().stream().map(e -> e.path() + ": " + e.message()).toList();
    }

    @Test
    void absentFieldsReadAsAbsentWithoutProblems() {
        for (JsonNode absent : new JsonNode[] {null, NullNode.getInstance(), MissingNode.getInstance()}) {
            assertThat(SpecFields.object(absent, "spec.a", problems)).isEmpty();
            assertThat(SpecFields.string(absent, "spec.a", 10, problems)).isEmpty();
            assertThat(SpecFields.text(absent, "spec.a", 10, problems)).isEmpty();
            assertThat(SpecFields.strings(absent, "spec.a", 3, 10, problems)).isEmpty();
            assertThat(SpecFields.integer(absent, "spec.a", 0, 9, problems)).isEmpty();
            assertThat(SpecFields.integerOrString(absent, "spec.a", 0, 9, problems)).isEmpty();
            assertThat(SpecFields.number(absent, "spec.a", problems)).isEmpty();
            assertThat(SpecFields.bool(absent, "spec.a", true, problems)).isTrue();
        }
        assertThat(reported()).isEmpty();
    }

    @Test
    void requiredFieldsReportTheirAbsenceAndAnEmptyName() {
        assertThat(SpecFields.requiredObject(null, "spec.objective", problems)).isEmpty();
        assertThat(SpecFields.name(MissingNode.getInstance(), "spec.objective.objectiveMetricName", problems)).isEmpty();
        assertThat(SpecFields.name(TextNode.valueOf(""), "spec.parameters[0].name", problems)).isEmpty();
        assertThat(reported()).containsExactly(
                "spec.objective: required",
                "spec.objective.objectiveMetricName: required",
                "spec.parameters[0].name: required");
    }

    @Test
    void wrongTypesNameThePathAndWhatWasGiven() {
        assertThat(SpecFields.object(json("[1]"), "spec.runPolicy", problems)).isEmpty();
        assertThat(SpecFields.string(json("5"), "spec.predictor.runtime", 100, problems)).isEmpty();
        assertThat(SpecFields.text(json("{}"), "spec.trainer.image", 100, problems)).isEmpty();
        assertThat(SpecFields.strings(json("\"python train.py\""), "spec.trainer.command", 10, 100, problems)).isEmpty();
        assertThat(SpecFields.strings(json("[\"ok\", {\"a\": 1}, null]"), "spec.trainer.args", 10, 100, problems)).containsExactly("ok");
        assertThat(SpecFields.integer(json("true"), "spec.replicas", 0, 10, problems)).isEmpty();
        assertThat(SpecFields.integer(json("2.5"), "spec.replicas", 0, 10, problems)).isEmpty();
        assertThat(SpecFields.number(json("[]"), "spec.objective.goal", problems)).isEmpty();
        assertThat(SpecFields.bool(json("\"yes\""), "spec.suspend", false, problems)).isFalse();
        assertThat(SpecFields.name(json("7"), "spec.algorithm.algorithmName", problems)).isEmpty();
        assertThat(reported()).containsExactly(
                "spec.runPolicy: expected an object, got a list",
                "spec.predictor.runtime: expected a string, got a number",
                "spec.trainer.image: expected a string, got an object",
                "spec.trainer.command: expected a list of strings, got a string",
                "spec.trainer.args[1]: expected a string, got an object",
                "spec.trainer.args[2]: expected a string, got nothing",
                "spec.replicas: expected an integer from 0 to 10, got a boolean",
                "spec.replicas: expected an integer from 0 to 10, got a number",
                "spec.objective.goal: expected a number, got a list",
                "spec.suspend: expected true or false, got a string",
                "spec.algorithm.algorithmName: expected a string, got a number");
    }

    @Test
    void goodValuesAreReadAsGiven() {
        assertThat(SpecFields.object(json("{\"a\": 1}"), "spec", problems)).contains(json("{\"a\": 1}"));
        assertThat(SpecFields.string(json("\"kserve-onnx\""), "spec.runtime", 100, problems)).contains("kserve-onnx");
        assertThat(SpecFields.text(json("\"line 1\\n\\tline 2\""), "spec.args[0]", 100, problems)).contains("line 1\n\tline 2");
        assertThat(SpecFields.strings(json("[\"--epochs\", 3, true]"), "spec.args", 10, 100, problems))
                .containsExactly("--epochs", "3", "true");
        assertThat(SpecFields.integer(json("-3"), "spec.a", -5, 5, problems)).hasValue(-3);
        assertThat(SpecFields.integerOrString(json("\"4\""), "spec.a", 0, 5, problems)).hasValue(4);
        assertThat(SpecFields.number(json("\"0.25\""), "spec.a", problems)).hasValue(0.25);
        assertThat(SpecFields.number(json("1e-3"), "spec.a", problems)).hasValue(0.001);
        assertThat(SpecFields.bool(json("true"), "spec.a", false, problems)).isTrue();
        assertThat(SpecFields.name(json("\"accuracy\""), "spec.a", problems)).contains("accuracy");
        assertThat(reported()).isEmpty();
    }

    @Test
    void integersOutOfRangeOrHugeAreRefusedWithTheRange() {
        assertThat(SpecFields.integer(json("101"), "spec.canaryTrafficPercent", 0, 100, problems)).isEmpty();
        assertThat(SpecFields.integer(json("-1"), "spec.canaryTrafficPercent", 0, 100, problems)).isEmpty();
        assertThat(SpecFields.integer(json("5000000000"), "spec.replicas", 0, 1000, problems)).isEmpty();
        assertThat(SpecFields.integer(NODES.numberNode(BigInteger.TEN.pow(400)), "spec.replicas", 0, 1000, problems)).isEmpty();
        assertThat(SpecFields.integerOrString(json("\"99999999999999999999999\""), "spec.maxTrialCount", 1, 10, problems)).isEmpty();
        assertThat(SpecFields.integerOrString(json("\"3 \""), "spec.maxTrialCount", 1, 10, problems)).isEmpty();
        assertThat(reported()).containsExactly(
                "spec.canaryTrafficPercent: must be from 0 to 100, got 101",
                "spec.canaryTrafficPercent: must be from 0 to 100, got -1",
                "spec.replicas: must be from 0 to 1000, got 5000000000",
                "spec.replicas: expected an integer from 0 to 1000, got a number",
                "spec.maxTrialCount: expected an integer from 1 to 10, got a string",
                "spec.maxTrialCount: expected an integer from 1 to 10, got a string");
    }

    @Test
    void integerRefusesStringsThatIntegerOrStringAccepts() {
        assertThat(SpecFields.integer(json("\"3\""), "spec.replicas", 0, 10, problems)).isEqualTo(OptionalInt.empty());
        assertThat(reported()).containsExactly("spec.replicas: expected an integer from 0 to 10, got a string");
    }

    @ParameterizedTest
    @ValueSource(strings = {"NaN", "Infinity", "-Infinity"})
    void numbersMustBeFiniteWhetherStringsOrDoubles(String special) {
        assertThat(SpecFields.number(TextNode.valueOf(special), "spec.objective.goal", problems)).isEqualTo(OptionalDouble.empty());
        assertThat(SpecFields.number(DoubleNode.valueOf(Double.parseDouble(special)), "spec.objective.goal", problems)).isEmpty();
        assertThat(SpecFields.number(json("1e999"), "spec.objective.goal", problems)).isEmpty();
        assertThat(reported()).containsExactly(
                "spec.objective.goal: must be a finite number, got a string",
                "spec.objective.goal: must be a finite number, got a number",
                "spec.objective.goal: must be a finite number, got a number");
    }

    @Test
    void numbersInStringsMustBeShortAndNumeric() {
        assertThat(SpecFields.number(TextNode.valueOf("1" + "0".repeat(64)), "spec.a", problems)).isEmpty();
        assertThat(SpecFields.number(TextNode.valueOf("0x10"), "spec.a", problems)).isEmpty();
        assertThat(SpecFields.number(TextNode.valueOf(TEN_MB), "spec.a", problems)).isEmpty();
        assertThat(reported()).containsExactly(
                "spec.a: expected a number, got a string",
                "spec.a: expected a number, got a string",
                "spec.a: expected a number, got a string");
    }

    @Test
    void tenMegabyteStringsAreRefusedByLengthWithoutEchoingThem() {
        var huge = TextNode.valueOf(TEN_MB);
        assertThat(SpecFields.string(huge, "spec.predictor.model.storageUri", 4096, problems)).isEmpty();
        assertThat(SpecFields.text(huge, "spec.trainer.image", 65536, problems)).isEmpty();
        assertThat(SpecFields.name(huge, "spec.parameters[0].name", problems)).isEmpty();
        assertThat(SpecFields.strings(NODES.arrayNode().add(TEN_MB), "spec.trainer.args", 10, 65536, problems)).isEmpty();
        assertThat(SpecFields.integerOrString(huge, "spec.replicas", 0, 10, problems)).isEmpty();
        assertThat(reported()).containsExactly(
                "spec.predictor.model.storageUri: is 10485760 characters long; the limit is 4096",
                "spec.trainer.image: is 10485760 characters long; the limit is 65536",
                "spec.parameters[0].name: is 10485760 characters long; the limit is 253",
                "spec.trainer.args[0]: is 10485760 characters long; the limit is 65536",
                "spec.replicas: expected an integer from 0 to 10, got a string");
    }

    @Test
    void stringsAtTheLimitAreKept() {
        assertThat(SpecFields.string(TextNode.valueOf("a".repeat(4096)), "spec.a", 4096, problems)).isPresent();
        assertThat(SpecFields.name(TextNode.valueOf("a".repeat(253)), "spec.b", problems)).isPresent();
        assertThat(reported()).isEmpty();
    }

    @Test
    void tooManyListEntriesAreRefusedAsAWhole() {
        var list = NODES.arrayNode();
        for (int i = 0; i < 4; i++) list.add("a");
        assertThat(SpecFields.strings(list, "spec.trainer.args", 3, 100, problems)).isEmpty();
        assertThat(reported()).containsExactly("spec.trainer.args: has 4 entries; the limit is 3");
    }

    @Test
    void singleLineStringsAndNamesRefuseControlCharactersAndShowThemEscaped() {
        assertThat(SpecFields.string(TextNode.valueOf("onnx\u0007"), "spec.runtime", 100, problems)).isEmpty();
        assertThat(SpecFields.string(TextNode.valueOf("a\nb"), "spec.url", 100, problems)).isEmpty();
        assertThat(SpecFields.name(TextNode.valueOf("lr\u0000"), "spec.parameters[0].name", problems)).isEmpty();
        assertThat(SpecFields.name(TextNode.valueOf("acc\u202euracy"), "spec.objective.objectiveMetricName", problems)).isEmpty();
        assertThat(SpecFields.name(TextNode.valueOf("x".repeat(100) + "\u001b[31m"), "spec.parameters[1].name", problems)).isEmpty();
        assertThat(reported()).containsExactly(
                "spec.runtime: 'onnx\\u0007' contains a control character",
                "spec.url: 'a\\u000ab' contains a control character",
                "spec.parameters[0].name: 'lr\\u0000' contains a control character",
                "spec.objective.objectiveMetricName: 'acc\\u202euracy' contains a control character",
                "spec.parameters[1].name: '" + "x".repeat(64) + "...' contains a control character");
    }

    @Test
    void freeTextKeepsNewlinesButRefusesNul() {
        assertThat(SpecFields.text(TextNode.valueOf("a\u0000b"), "spec.trainer.image", 100, problems)).isEmpty();
        assertThat(SpecFields.strings(json("[\"ok\", \"a\\u0000b\"]"), "spec.trainer.args", 10, 100, problems)).containsExactly("ok");
        assertThat(reported()).containsExactly(
                "spec.trainer.image: must not contain NUL characters",
                "spec.trainer.args[1]: must not contain NUL characters");
    }

    @Test
    void durationsTakeKubernetesUnitsOrABareNumberOfTheGivenUnit() {
        assertThat(SpecFields.duration("500ms", ChronoUnit.MILLIS, "spec.a", problems)).contains(Duration.ofMillis(500));
        assertThat(SpecFields.duration(" 30s ", ChronoUnit.MILLIS, "spec.a", problems)).contains(Duration.ofSeconds(30));
        assertThat(SpecFields.duration("5m", ChronoUnit.MILLIS, "spec.a", problems)).contains(Duration.ofMinutes(5));
        assertThat(SpecFields.duration("2h", ChronoUnit.MILLIS, "spec.a", problems)).contains(Duration.ofHours(2));
        assertThat(SpecFields.duration("250", ChronoUnit.MILLIS, "spec.a", problems)).contains(Duration.ofMillis(250));
        assertThat(reported()).isEmpty();
        assertThat(SpecFields.duration("1.5s", ChronoUnit.MILLIS, "spec.maxLatency", problems)).isEmpty();
        assertThat(SpecFields.duration("9999999999s", ChronoUnit.MILLIS, "spec.maxLatency", problems)).isEmpty();
        assertThat(SpecFields.duration("-1s", ChronoUnit.MILLIS, "spec.maxLatency", problems)).isEmpty();
        assertThat(SpecFields.duration("5s\u0000", ChronoUnit.MILLIS, "spec.maxLatency", problems)).isEmpty();
        assertThat(SpecFields.duration(TEN_MB, ChronoUnit.MILLIS, "spec.maxLatency", problems)).isEmpty();
        assertThat(reported()).containsExactly(
                "spec.maxLatency: '1.5s' is not a duration; use e.g. 500ms, 30s or 5m",
                "spec.maxLatency: '9999999999s' is not a duration; use e.g. 500ms, 30s or 5m",
                "spec.maxLatency: '-1s' is not a duration; use e.g. 500ms, 30s or 5m",
                "spec.maxLatency: '5s\\u0000' is not a duration; use e.g. 500ms, 30s or 5m",
                "spec.maxLatency: '" + "x".repeat(64) + "...' is not a duration; use e.g. 500ms, 30s or 5m");
    }

    @Test
    void describeNamesEachJsonType() {
        assertThat(List.of(json("{}"), json("[]"), json("true"), json("1"), json("\"s\""), NullNode.getInstance())
                .stream().map(SpecFields::describe).toList())
                .containsExactly("an object", "a list", "a boolean", "a number", "a string", "nothing");
        assertThat(SpecFields.describe(NODES.binaryNode(new byte[] {1}))).isEqualTo("binary");
    }
}
