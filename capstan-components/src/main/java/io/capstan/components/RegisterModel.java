package io.capstan.components;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;

import java.util.LinkedHashMap;
import java.util.regex.Pattern;

/**
 * {@code register-model}: asks the Model Registry to record input artifact {@code model} as a version of registered
 * model {@code model_name}. The step checks the request and writes it as output artifact {@code registered_model}
 * (metadata under {@value #REQUEST}); the registry, which watches pipeline runs, records the version once the step
 * succeeded, with {@code modelSource*} naming the run and this task, and links it in ML Metadata. A pipeline's own
 * step has no registry credentials, so the registration is the registry's to make, once and only for a succeeded step.
 *
 * <p>Parameters: {@code model_name} (required); {@code version_name} (default: the next {@code vN}); {@code model_format}
 * (default: the input's {@code framework} metadata, such as {@code onnx}); {@code alias} (optional, such as
 * {@code champion}, moved to the new version); {@code description}.
 */
final class RegisterModel implements Component {
    static final String NAME = "register-model";
    /** The metadata key the registry looks for on a succeeded task's output artifacts. */
    static final String REQUEST = "capstan.registry/register";
    /** Registered model and version names: what a {@code model-registry://MODEL/VERSION} URI can carry. */
    static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");
    static final Pattern ALIAS = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    static final Pattern FORMAT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ExecutorOutput run(ExecutorInput input, Environment environment) {
        var model = input.inputArtifact("model");
        var modelName = checked(input.string("model_name"), NAME_PATTERN, "model_name",
                "1 to 253 letters, digits, '.', '_' or '-', starting with a letter or digit");
        var versionName = input.string("version_name", "");
        if (!versionName.isEmpty()) checked(versionName, NAME_PATTERN, "version_name", "1 to 253 letters, digits, '.', '_' or '-', starting with a letter or digit");
        var alias = input.string("alias", "");
        if (!alias.isEmpty()) checked(alias, ALIAS, "alias", "a lower-case letter, then up to 62 lower-case letters, digits, '-' or '_'");
        var declared = model.metadata().get("framework");
        var format = input.string("model_format", declared != null && declared.isTextual() ? declared.asText() : "");
        if (format.isEmpty()) {
            throw new InvalidSpecException("input parameter 'model_format' is missing and input artifact 'model' has no 'framework' metadata; "
                    + "set model_format, such as onnx or xgboost");
        }
        checked(format, FORMAT, "model_format", "a format name such as onnx, xgboost or lightgbm");
        var description = input.string("description", "");
        if (description.length() > 4096) throw new InvalidSpecException("input parameter 'description' is " + description.length() + " characters; keep it to 4096");
        // Fails here, in the step, when the model's files are not where the URI says.
        model.existingDirectory();

        var request = new LinkedHashMap<String, Object>();
        request.put("modelName", modelName);
        if (!versionName.isEmpty()) request.put("versionName", versionName);
        request.put("modelFormatName", format);
        if (!alias.isEmpty()) request.put("alias", alias);
        if (!description.isEmpty()) request.put("description", description);
        request.put("sourceUri", model.uri());
        var out = input.outputArtifact("registered_model");
        LocalFiles.directory(out.path(), "output artifact 'registered_model'");
        var metadata = new LinkedHashMap<String, Object>();
        metadata.put(REQUEST, request);
        for (var key : new String[] {"sha256", "framework", "input_name", "feature_names", "class_names"}) {
            JsonNode value = model.metadata().get(key);
            if (value != null) metadata.put(key, value);
        }
        return ExecutorOutput.builder().artifact(out, metadata).build();
    }

    private static String checked(String value, Pattern pattern, String parameter, String rule) {
        if (!pattern.matcher(value).matches()) {
            var shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
            throw new InvalidSpecException("input parameter '%s' is '%s', which is not a registry name; use %s"
                    .formatted(parameter, shown.replaceAll("\\p{Cntrl}", "?"), rule));
        }
        return value;
    }
}
