package io.capstan.serving.spec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import java.util.Locale;

/**
 * A KServe {@code TrainedModel} (serving.kserve.io/v1alpha1): one more model loaded into a multi-model
 * InferenceService and served under its own name.
 *
 * @param inferenceService the InferenceService (same namespace) whose predictor hosts the model
 * @param framework the model format, e.g. "sklearn" ({@code spec.model.framework})
 * @param memory the memory the model needs, as written (e.g. "256Mi"); checked, not enforced in-process
 */
public record TrainedModelSpec(String inferenceService, String storageUri, String framework, String memory) {
    private static final java.util.regex.Pattern QUANTITY = java.util.regex.Pattern.compile("\\d+(\\.\\d+)?([KMGTPE]i?|[kmM]|e\\d+)?");

    /** Reads and checks a spec; returns null when there are problems. */
    public static TrainedModelSpec parse(ObjectNode spec, Problems problems) {
        int before = problems.errors().size();
        var isvc = SpecFields.name(spec.get("inferenceService"), "spec.inferenceService", problems);
        var model = SpecFields.requiredObject(spec.get("model"), "spec.model", problems);
        String storageUri = null;
        String framework = null;
        String memory = null;
        if (model.isPresent()) {
            var node = model.get();
            storageUri = SpecFields.string(node.get("storageUri"), "spec.model.storageUri", InferenceServiceSpec.MAX_STRING, problems)
                    .orElse(null);
            if (storageUri == null && !node.has("storageUri")) problems.add("spec.model.storageUri", "is required");
            else if (storageUri != null && storageUri.isBlank()) problems.add("spec.model.storageUri", "must not be empty");
            framework = SpecFields.string(node.get("framework"), "spec.model.framework", InferenceServiceSpec.MAX_STRING, problems)
                    .map(f -> f.toLowerCase(Locale.ROOT)).orElse(null);
            if (framework == null && !node.has("framework")) problems.add("spec.model.framework", "is required, e.g. sklearn");
            memory = SpecFields.string(node.get("memory"), "spec.model.memory", 64, problems).orElse(null);
            if (memory == null && !node.has("memory")) problems.add("spec.model.memory", "is required, e.g. 256Mi");
            else if (memory != null && !QUANTITY.matcher(memory).matches()) {
                problems.add("spec.model.memory", "'" + io.capstan.core.Names.printable(memory) + "' is not a quantity such as 256Mi");
            }
        }
        if (problems.errors().size() > before || isvc.isEmpty()) return null;
        return new TrainedModelSpec(isvc.get(), storageUri, framework, memory);
    }
}
