package io.capstan.components;

import io.capstan.core.InvalidSpecException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code train-xgboost}: trains a gradient-boosted tree classifier on input {@code train} and writes output
 * {@code model} as a directory holding XGBoost's JSON model ({@code model.json}) and {@code provenance.json}. Two
 * classes use {@code binary:logistic}, more use {@code multi:softprob}; classes are the sorted label values.
 */
final class TrainXgboost implements Component {
    static final String NAME = "train-xgboost";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ExecutorOutput run(ExecutorInput input, Environment environment) {
        var train = input.inputArtifact("train");
        var file = train.existingFile();
        var labelColumn = input.string("label_column");
        int rounds = positive(input, "num_rounds", 50);
        int maxDepth = positive(input, "max_depth", 6);
        double eta = input.number("eta", 0.3);
        if (!(eta > 0 && eta <= 1)) {
            throw new InvalidSpecException("input parameter 'eta' is %s; give a learning rate in (0, 1], such as 0.3".formatted(eta));
        }
        long seed = input.integer("seed", 42);
        int threads = positive(input, "nthread", 1);

        var data = LabelledData.of(Table.read(file, "input artifact 'train'"), labelColumn, "input artifact 'train'");
        var classes = data.classes("input artifact 'train'");
        var params = new LinkedHashMap<String, Object>();
        if (classes.size() == 2) {
            params.put("objective", "binary:logistic");
            params.put("eval_metric", "logloss");
        } else {
            params.put("objective", "multi:softprob");
            params.put("num_class", classes.size());
            params.put("eval_metric", "mlogloss");
        }
        params.put("max_depth", maxDepth);
        params.put("eta", eta);
        params.put("seed", seed);
        params.put("nthread", threads);
        params.put("tree_method", "hist");
        params.put("verbosity", 1);

        var out = input.outputArtifact("model");
        var dir = LocalFiles.directory(out.path(), "output artifact 'model'");
        var modelFile = dir.resolve(ModelKind.XGBOOST.fileName());
        Xgboost.train(data, data.labelIndexes(classes), params, rounds, modelFile);

        var recorded = new LinkedHashMap<String, Object>(params);
        recorded.put("num_rounds", rounds);
        var modelSha = LocalFiles.sha256(modelFile);
        var provenance = new ModelProvenance(ModelKind.XGBOOST, NAME, environment.clock().instant(), modelFile.getFileName().toString(),
                modelSha, new ModelProvenance.DatasetRef(train.uri(), LocalFiles.sha256(file), data.labels().size()),
                labelColumn, data.featureColumns(), classes, recorded, seed,
                new ModelProvenance.Library("xgboost4j", Xgboost.version()), ModelProvenance.Platform.current());
        provenance.write(dir);
        return ExecutorOutput.builder().artifact(out, metadata(provenance)).build();
    }

    static Map<String, Object> metadata(ModelProvenance p) {
        var m = new LinkedHashMap<String, Object>();
        m.put("framework", p.library().name());
        m.put("framework_version", p.library().version());
        m.put("model_kind", p.kind().wireName());
        m.put("model_file", p.modelFile());
        m.put("sha256", p.modelSha256());
        m.put("label_column", p.labelColumn());
        m.put("feature_columns", p.featureColumns());
        m.put("classes", p.classes());
        m.put("train_rows", p.dataset().rows());
        m.put("train_sha256", p.dataset().sha256());
        m.put("seed", p.seed());
        return m;
    }

    static int positive(ExecutorInput input, String name, int fallback) {
        long value = input.integer(name, fallback);
        if (value < 1 || value > 1_000_000) {
            throw new InvalidSpecException("input parameter '%s' is %d; give a whole number from 1 to 1000000".formatted(name, value));
        }
        return (int) value;
    }
}
