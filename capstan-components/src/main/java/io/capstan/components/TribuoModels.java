package io.capstan.components;

import io.capstan.core.InvalidSpecException;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.impl.ArrayExample;

import java.io.IOException;
import java.nio.file.Path;

/** Loading and applying the Tribuo models that train-logistic-regression writes. */
final class TribuoModels {
    private TribuoModels() {
    }

    @SuppressWarnings("unchecked")
    static Model<Label> load(Path modelFile, String input) {
        Model<?> model;
        try {
            model = Model.deserializeFromFile(modelFile);
        } catch (IOException | RuntimeException e) {
            throw new InvalidSpecException("input artifact '%s' has a Tribuo model at %s that cannot be read (%s); retrain it with train-logistic-regression"
                    .formatted(input, modelFile, e.getMessage()));
        }
        if (!model.validate(Label.class)) {
            throw new InvalidSpecException("input artifact '%s' holds a Tribuo model that is not a classifier; retrain it with train-logistic-regression"
                    .formatted(input));
        }
        return (Model<Label>) model;
    }

    /** Class probabilities in the order of {@code classes}; a class the model does not know gets 0. */
    static double[][] predict(Model<Label> model, LabelledData data, java.util.List<String> classes) {
        var names = data.featureColumns().toArray(String[]::new);
        var out = new double[data.features().length][classes.size()];
        for (int r = 0; r < out.length; r++) {
            var example = new ArrayExample<>(new Label(data.labels().get(r)), names, data.features()[r]);
            var scores = model.predict(example).getOutputScores();
            for (int c = 0; c < classes.size(); c++) {
                var label = scores.get(classes.get(c));
                out[r][c] = label == null ? 0 : label.getScore();
            }
        }
        return out;
    }
}
