package io.capstan.components;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input fails with exit status 1 (2 for a wrong command line) and one sentence that names the problem. */
class BadInputTest {
    @TempDir
    Path tmp;

    private Path csv(String name, String text) throws IOException {
        var file = tmp.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private static void assertOneSentence(Step.Result result, int exit, String... fragments) {
        assertThat(result.exit()).as(result.err()).isEqualTo(exit);
        var firstLine = result.err().lines().findFirst().orElseThrow();
        assertThat(firstLine).startsWith("capstan-component").contains(fragments);
        assertThat(firstLine.substring(0, firstLine.length() - 1)).as("one sentence").doesNotContain(". ");
    }

    private Step.Result train(String component, Path data, String label) {
        return Step.of(component, tmp.resolve("out-" + component))
                .input("train", "system.Dataset", data).param("label_column", label)
                .output("model", "system.Model").run();
    }

    @Test
    void missingLabelColumn() {
        for (var component : List.of("train-xgboost", "train-logistic-regression")) {
            var result = train(component, Step.IRIS, "variety");
            assertOneSentence(result, 1, "label_column", "'variety'", "species");
        }
    }

    @Test
    void nonNumericFeature() throws IOException {
        var data = csv("bad.csv", "a,b,label\n1,2,x\n3,oops,y\n5,6,x\n");
        for (var component : List.of("train-xgboost", "train-logistic-regression")) {
            var result = train(component, data, "label");
            assertOneSentence(result, 1, "'oops'", "feature column 'b'", "data row 2");
        }
    }

    @Test
    void emptyCsv() throws IOException {
        var empty = csv("empty.csv", "");
        var result = Step.of("csv-ingest", tmp.resolve("ingest")).param("source", empty.toString())
                .output("dataset", "system.Dataset").run();
        assertOneSentence(result, 1, "is empty");
        var headerOnly = csv("header.csv", "a,b,label\n");
        result = Step.of("csv-ingest", tmp.resolve("ingest2")).param("source", headerOnly.toUri().toString())
                .output("dataset", "system.Dataset").run();
        assertOneSentence(result, 1, "no data rows");
    }

    @Test
    void missingSource() {
        var result = Step.of("csv-ingest", tmp.resolve("ingest")).param("source", "no/such/file.csv")
                .output("dataset", "system.Dataset").run();
        assertOneSentence(result, 1, "'source'", "does not exist");
        result = Step.of("csv-ingest", tmp.resolve("ingest")).output("dataset", "system.Dataset").run();
        assertOneSentence(result, 1, "input parameter 'source' is missing");
    }

    @Test
    void raggedRows() throws IOException {
        var data = csv("ragged.csv", "a,b\n1,2\n3\n");
        var result = Step.of("csv-ingest", tmp.resolve("ingest")).param("source", data.toString())
                .output("dataset", "system.Dataset").run();
        assertOneSentence(result, 1, "data row 2 has 1 fields");
    }

    @Test
    void singleClass() throws IOException {
        var data = csv("one.csv", "a,label\n1,x\n2,x\n");
        assertOneSentence(train("train-xgboost", data, "label"), 1, "at least two classes");
    }

    @Test
    void badParameterValue() {
        var result = Step.of("train-test-split", tmp.resolve("split"))
                .input("dataset", "system.Dataset", Step.IRIS).param("test_fraction", "lots")
                .output("train", "system.Dataset").output("test", "system.Dataset").run();
        assertOneSentence(result, 1, "input parameter 'test_fraction'", "\"lots\"", "not a number");
        result = Step.of("train-test-split", tmp.resolve("split"))
                .input("dataset", "system.Dataset", Step.IRIS).param("test_fraction", 1.5)
                .output("train", "system.Dataset").output("test", "system.Dataset").run();
        assertOneSentence(result, 1, "'test_fraction' is 1.5", "between 0 and 1");
    }

    @Test
    void missingInputAndOutputArtifacts() {
        var result = Step.of("train-xgboost", tmp.resolve("x")).param("label_column", "species")
                .output("model", "system.Model").run();
        assertOneSentence(result, 1, "input artifact 'train' is missing");
        result = Step.of("train-xgboost", tmp.resolve("x")).param("label_column", "species")
                .input("train", "system.Dataset", Step.IRIS).run();
        assertOneSentence(result, 1, "output artifact 'model' is missing");
    }

    @Test
    void remoteUri() {
        var step = Step.of("csv-ingest", tmp.resolve("x")).param("source", Step.IRIS.toString()).output("dataset", "system.Dataset");
        var json = step.json().replace("\"uri\":\"file://", "\"uri\":\"s3://bucket");
        var result = step.run(List.of("csv-ingest", "--executor_input", json));
        assertOneSentence(result, 1, "s3://bucket", "not local");
    }

    @Test
    void unknownComponent() {
        var result = Step.of("train-svm", tmp).run();
        assertOneSentence(result, 2, "unknown component 'train-svm'", "train-xgboost");
    }

    @Test
    void malformedExecutorInput() {
        var result = Step.of("csv-ingest", tmp).run(List.of("csv-ingest", "--executor_input", "{\"inputs\": {"));
        assertOneSentence(result, 1, "--executor_input is not valid JSON");
        result = Step.of("csv-ingest", tmp).run(List.of("csv-ingest", "--executor_input", "[1,2]"));
        assertOneSentence(result, 1, "must be a JSON object");
        result = Step.of("csv-ingest", tmp).run(List.of("csv-ingest", "--executor_input", "{\"inputs\":{}}"));
        assertOneSentence(result, 1, "outputs.outputFile is missing");
    }

    @Test
    void usageErrors() {
        assertThat(Step.of("csv-ingest", tmp).run(List.of()).exit()).isEqualTo(2);
        assertOneSentence(Step.of("csv-ingest", tmp).run(List.of("csv-ingest")), 2, "--executor_input is missing");
        assertOneSentence(Step.of("csv-ingest", tmp).run(List.of("csv-ingest", "--verbose")), 2, "unexpected argument '--verbose'");
    }

    @Test
    void evaluateNeedsAModelDirectory() {
        var result = Step.of("evaluate", tmp.resolve("e"))
                .input("model", "system.Model", Step.IRIS).input("test", "system.Dataset", Step.IRIS)
                .param("label_column", "species")
                .output("metrics", "system.Metrics").output("confusion_matrix", "system.ClassificationMetrics").run();
        assertOneSentence(result, 1, "input artifact 'model'", "not a directory");
    }
}
