package io.capstan.components;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;
import org.tribuo.ONNXExportable;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;

/**
 * {@code export-onnx}: converts input {@code model}, a Tribuo logistic regression, to ONNX with Tribuo's exporter and
 * writes output {@code onnx_model} as a directory holding {@code model.onnx} and {@code provenance.json}. The ONNX
 * graph reads a float tensor {@code input} of shape [batch, features] in the order of the {@code feature_names}
 * metadata and returns class probabilities in the order of {@code class_names}.
 */
final class ExportOnnx implements Component {
    static final String NAME = "export-onnx";
    static final String FILE = "model.onnx";
    static final String DOMAIN = "io.capstan";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ExecutorOutput run(ExecutorInput input, Environment environment) {
        var modelArtifact = input.inputArtifact("model");
        var dir = modelArtifact.existingDirectory();
        var provenance = ModelProvenance.read(dir, "model");
        var modelFile = dir.resolve(provenance.modelFile());
        var model = switch (provenance.kind()) {
            case XGBOOST -> throw new InvalidSpecException(
                    "ONNX export of XGBoost models is not supported; use train-logistic-regression or serve the XGBoost model directly");
            case TRIBUO_LOGISTIC_REGRESSION -> TribuoModels.load(modelFile, "model");
        };
        if (!(model instanceof ONNXExportable exportable)) {
            throw new InvalidSpecException("input artifact 'model' holds a %s, which Tribuo cannot export to ONNX; use train-logistic-regression"
                    .formatted(model.getClass().getSimpleName()));
        }
        var out = input.outputArtifact("onnx_model");
        var outDir = LocalFiles.directory(out.path(), "output artifact 'onnx_model'");
        var onnxFile = outDir.resolve(FILE);
        try {
            exportable.saveONNXModel(DOMAIN, 1, onnxFile);
        } catch (IOException e) {
            throw new PermanentFailureException("could not write output artifact 'onnx_model' to %s (%s); check that it is writable"
                    .formatted(onnxFile, e), e);
        }

        var features = new ArrayList<String>();
        for (int i = 0; i < model.getFeatureIDMap().size(); i++) features.add(model.getFeatureIDMap().get(i).getName());
        var classes = new ArrayList<String>();
        for (int i = 0; i < model.getOutputIDInfo().size(); i++) classes.add(model.getOutputIDInfo().getOutput(i).getLabel());

        var params = new LinkedHashMap<String, Object>(provenance.parameters());
        params.put("onnx_domain", DOMAIN);
        params.put("onnx_model_version", 1);
        params.put("source_model_uri", modelArtifact.uri());
        params.put("source_model_sha256", provenance.modelSha256());
        params.put("onnx_feature_names", features);
        params.put("onnx_class_names", classes);
        var exported = new ModelProvenance(provenance.kind(), NAME, environment.clock().instant(), FILE, LocalFiles.sha256(onnxFile),
                provenance.dataset(), provenance.labelColumn(), provenance.featureColumns(), provenance.classes(), params,
                provenance.seed(), provenance.library(), ModelProvenance.Platform.current());
        exported.write(outDir);

        var metadata = new LinkedHashMap<String, Object>();
        metadata.put("framework", "onnx");
        metadata.put("exported_by", "tribuo " + provenance.library().version());
        metadata.put("model_file", FILE);
        metadata.put("sha256", exported.modelSha256());
        metadata.put("input_name", "input");
        metadata.put("feature_names", features);
        metadata.put("class_names", classes);
        metadata.put("source_model_uri", modelArtifact.uri());
        metadata.put("seed", provenance.seed());
        return ExecutorOutput.builder().artifact(out, metadata).build();
    }
}
