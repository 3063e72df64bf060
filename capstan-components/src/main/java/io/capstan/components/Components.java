package io.capstan.components;

import java.util.List;
import java.util.Optional;

/** The registry of built-in components, by the name pipelines use for them. */
final class Components {
    static final List<Component> ALL = List.of(new CsvIngest(), new TrainTestSplit(), new TrainXgboost(),
            new TrainLogisticRegression(), new Evaluate(), new ExportOnnx(), new RegisterModel());

    private Components() {
    }

    static Optional<Component> find(String name) {
        return ALL.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    static List<String> names() {
        return ALL.stream().map(Component::name).toList();
    }
}
