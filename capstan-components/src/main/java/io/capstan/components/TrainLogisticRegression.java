package io.capstan.components;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Tribuo;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.data.csv.CSVLoader;
import org.tribuo.math.optimisers.AdaGrad;

import java.io.IOException;
import java.util.LinkedHashMap;

/**
 * {@code train-logistic-regression}: trains Tribuo's multinomial logistic regression (linear SGD on the multiclass
 * log loss, AdaGrad) on input {@code train}, seeded, and writes output {@code model} as a directory holding Tribuo's
 * serialised model ({@code model.tribuo}, which carries Tribuo's own provenance) and {@code provenance.json}.
 */
final class TrainLogisticRegression implements Component {
    static final String NAME = "train-logistic-regression";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ExecutorOutput run(ExecutorInput input, Environment environment) {
        var train = input.inputArtifact("train");
        var file = train.existingFile();
        var labelColumn = input.string("label_column");
        int epochs = TrainXgboost.positive(input, "epochs", 100);
        double learningRate = input.number("learning_rate", 1.0);
        if (!(learningRate > 0 && learningRate <= 100)) {
            throw new InvalidSpecException("input parameter 'learning_rate' is %s; give a positive learning rate such as 1.0".formatted(learningRate));
        }
        int minibatch = TrainXgboost.positive(input, "minibatch_size", 1);
        long seed = input.integer("seed", 42);

        // Validate with our own reader first so that a bad cell is reported by column and row.
        var data = LabelledData.of(Table.read(file, "input artifact 'train'"), labelColumn, "input artifact 'train'");
        var classes = data.classes("input artifact 'train'");

        MutableDataset<Label> dataset;
        try {
            dataset = new MutableDataset<>(new CSVLoader<>(new LabelFactory()).loadDataSource(file, labelColumn));
        } catch (IOException | RuntimeException e) {
            throw new InvalidSpecException("Tribuo could not load input artifact 'train' at %s (%s); give a CSV with a header and numeric features"
                    .formatted(file, e.getMessage()));
        }
        var trainer = new LinearSGDTrainer(new LogMulticlass(), new AdaGrad(learningRate, 0.1), epochs, -1, minibatch, seed);
        Model<Label> model = trainer.train(dataset);

        var out = input.outputArtifact("model");
        var dir = LocalFiles.directory(out.path(), "output artifact 'model'");
        var modelFile = dir.resolve(ModelKind.TRIBUO_LOGISTIC_REGRESSION.fileName());
        try {
            model.serializeToFile(modelFile);
        } catch (IOException e) {
            throw new PermanentFailureException("could not write output artifact 'model' to %s (%s); check that it is writable"
                    .formatted(modelFile, e), e);
        }

        var params = new LinkedHashMap<String, Object>();
        params.put("objective", "multinomial log loss (LogMulticlass)");
        params.put("optimiser", "AdaGrad");
        params.put("learning_rate", learningRate);
        params.put("epsilon", 0.1);
        params.put("epochs", epochs);
        params.put("minibatch_size", minibatch);
        params.put("seed", seed);
        params.put("tribuo_trainer", trainer.toString());
        var provenance = new ModelProvenance(ModelKind.TRIBUO_LOGISTIC_REGRESSION, NAME, environment.clock().instant(),
                modelFile.getFileName().toString(), LocalFiles.sha256(modelFile),
                new ModelProvenance.DatasetRef(train.uri(), LocalFiles.sha256(file), data.labels().size()),
                labelColumn, data.featureColumns(), classes, params, seed,
                new ModelProvenance.Library("tribuo", Tribuo.VERSION), ModelProvenance.Platform.current());
        provenance.write(dir);
        return ExecutorOutput.builder().artifact(out, TrainXgboost.metadata(provenance)).build();
    }
}
