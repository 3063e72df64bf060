package io.capstan.training;

import io.capstan.core.ConflictException;
import io.capstan.core.Resource;
import io.capstan.metadata.Artifact;
import io.capstan.metadata.ArtifactAndEvent;
import io.capstan.metadata.ArtifactState;
import io.capstan.metadata.ArtifactType;
import io.capstan.metadata.Context;
import io.capstan.metadata.ContextType;
import io.capstan.metadata.Execution;
import io.capstan.metadata.ExecutionState;
import io.capstan.metadata.ExecutionType;
import io.capstan.metadata.MetadataStore;
import io.capstan.metadata.MetadataType;
import io.capstan.metadata.PropertyValue;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Records a training job in ML Metadata: an execution of type {@value #EXECUTION_TYPE} named by the job's uid, in a
 * context of type {@value #CONTEXT_TYPE} named {@code namespace/name}, with an OUTPUT event to a {@code system.Model}
 * artifact whose URI is the job's model folder ({@code file://...}).
 */
public final class MetadataModelLineage implements ModelLineage {
    public static final String EXECUTION_TYPE = "capstan.TrainingJob";
    public static final String CONTEXT_TYPE = "capstan.TrainingJob";
    public static final String MODEL_TYPE = "system.Model";

    private final MetadataStore metadata;

    public MetadataModelLineage(MetadataStore metadata) {
        this.metadata = Objects.requireNonNull(metadata, "metadata");
    }

    @Override
    public Optional<String> recordModel(Resource job, Path modelDir) {
        if (!hasFiles(modelDir)) return Optional.empty();
        putType(ArtifactType.of(MODEL_TYPE, Map.of()));
        putType(ExecutionType.of(EXECUTION_TYPE, Map.of()));
        putType(ContextType.of(CONTEXT_TYPE, Map.of()));
        var uri = modelDir.toUri().toString();
        var uid = job.metadata().uid();
        if (metadata.findExecution(EXECUTION_TYPE, uid).isPresent()) return Optional.of(uri);
        var model = metadata.artifactsByUri(uri).stream().filter(a -> a.type().equals(MODEL_TYPE)).findFirst()
                .orElseGet(() -> Artifact.of(MODEL_TYPE, uri).withName(job.metadata().namespace() + "/" + job.metadata().name() + "/" + uid)
                        .withState(ArtifactState.LIVE)
                        .withCustomProperty("job_kind", PropertyValue.of(job.kind()))
                        .withCustomProperty("job_name", PropertyValue.of(job.metadata().name())));
        var execution = Execution.of(EXECUTION_TYPE).withName(uid).withState(ExecutionState.COMPLETE)
                .withCustomProperty("kind", PropertyValue.of(job.kind()))
                .withCustomProperty("namespace", PropertyValue.of(job.metadata().namespace()))
                .withCustomProperty("name", PropertyValue.of(job.metadata().name()));
        var context = metadata.findContext(CONTEXT_TYPE, job.metadata().namespace() + "/" + job.metadata().name())
                .orElseGet(() -> metadata.putContext(Context.of(CONTEXT_TYPE, job.metadata().namespace() + "/" + job.metadata().name())));
        metadata.putExecution(execution, List.of(ArtifactAndEvent.output(model, "model")), List.of(context));
        return Optional.of(uri);
    }

    private void putType(MetadataType type) {
        try {
            metadata.putType(type);
        } catch (ConflictException e) {
            metadata.putType(type);
        }
    }

    private static boolean hasFiles(Path dir) {
        if (!Files.isDirectory(dir)) return false;
        try (var files = Files.list(dir)) {
            return files.findAny().isPresent();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the model folder " + dir, e);
        }
    }
}
