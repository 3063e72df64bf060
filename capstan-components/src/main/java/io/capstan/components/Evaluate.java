package io.capstan.components;

import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code evaluate}: applies input {@code model} (from either built-in trainer, told apart by its provenance) to
 * input {@code test} and writes output {@code metrics} (system.Metrics: accuracy, macro one-vs-rest AUC, log loss),
 * output {@code confusion_matrix} (system.ClassificationMetrics in KFP's confusionMatrix shape), and output parameter
 * {@code accuracy}.
 */
final class Evaluate implements Component {
    static final String NAME = "evaluate";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ExecutorOutput run(ExecutorInput input, Environment environment) {
        var modelArtifact = input.inputArtifact("model");
        var dir = modelArtifact.existingDirectory();
        var provenance = ModelProvenance.read(dir, "model");
        var test = input.inputArtifact("test");
        var labelColumn = input.string("label_column", provenance.labelColumn());
        var data = LabelledData.of(Table.read(test.existingFile(), "input artifact 'test'"), labelColumn,
                provenance.featureColumns(), "input artifact 'test'");

        // Labels the model never saw are kept as classes of their own, so they count as errors.
        var classes = new ArrayList<>(provenance.classes());
        data.labels().stream().distinct().sorted().filter(l -> !classes.contains(l)).forEach(classes::add);
        var modelFile = dir.resolve(provenance.modelFile());
        var known = switch (provenance.kind()) {
            case XGBOOST -> Xgboost.predict(modelFile, data, provenance.classes().size());
            case TRIBUO_LOGISTIC_REGRESSION -> TribuoModels.predict(TribuoModels.load(modelFile, "model"), data, provenance.classes());
        };
        var probabilities = new double[known.length][classes.size()];
        for (int r = 0; r < known.length; r++) System.arraycopy(known[r], 0, probabilities[r], 0, known[r].length);
        var scores = ClassificationScores.of(classes, probabilities, data.labelIndexes(classes));

        var metrics = input.outputArtifact("metrics");
        var confusion = input.outputArtifact("confusion_matrix");
        writeJson(metrics, scores.metricsMetadata());
        writeJson(confusion, scores.confusionMatrixMetadata());
        return ExecutorOutput.builder()
                .artifact(metrics, scores.metricsMetadata())
                .artifact(confusion, scores.confusionMatrixMetadata())
                .parameter("accuracy", scores.accuracy())
                .build();
    }

    /** Metrics artifacts live in their metadata; the file holds the same JSON for people and tools that read files. */
    private static void writeJson(RuntimeArtifact artifact, Map<String, Object> metadata) {
        try {
            LocalFiles.writeString(artifact.path(), Json.json().writerWithDefaultPrettyPrinter().writeValueAsString(new LinkedHashMap<>(metadata)),
                    "output artifact '" + artifact.key() + "'");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new PermanentFailureException("could not render output artifact '%s': %s".formatted(artifact.key(), e.getMessage()), e);
        }
    }
}
