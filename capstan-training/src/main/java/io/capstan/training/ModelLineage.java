package io.capstan.training;

import io.capstan.core.Resource;
import java.nio.file.Path;
import java.util.Optional;

/** Records the model a finished training job left in its model folder, so registry, serving and pipelines find it. */
@FunctionalInterface
public interface ModelLineage {
    /** Records nothing. */
    ModelLineage NONE = (job, modelDir) -> Optional.empty();

    /**
     * Records the model in {@code modelDir} (the job's {@code CAPSTAN_MODEL_DIR}) as an artifact produced by the job;
     * returns its URI, or empty when the folder is empty. Idempotent: recording the same job twice stores one artifact.
     */
    Optional<String> recordModel(Resource job, Path modelDir);
}
