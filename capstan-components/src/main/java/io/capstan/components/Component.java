package io.capstan.components;

/**
 * A built-in pipeline component: it reads the KFP executor input and returns what it wrote, which
 * {@link BuiltinMain} then records through the executor output contract.
 */
sealed interface Component permits CsvIngest, TrainTestSplit, TrainXgboost, TrainLogisticRegression, Evaluate, ExportOnnx, RegisterModel {
    /** The name used after {@code capstan-component} in a pipeline's container command. */
    String name();

    ExecutorOutput run(ExecutorInput input, Environment environment);
}
