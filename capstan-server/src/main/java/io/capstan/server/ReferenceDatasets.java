package io.capstan.server;

import io.capstan.metadata.MetadataStore;
import io.capstan.monitoring.ReferenceResolver;
import io.capstan.registry.ModelRegistry;
import java.net.URI;

/**
 * A ModelMonitor's pipeline and registry references: {@code mlmd://artifacts/ID} is the URI of that ML Metadata
 * artifact (a pipeline run's output), if it was made by a run of the monitor's namespace;
 * {@code registry-dataset://NAME_OR_ID} is the URI of a DataSet artifact of the namespace's model registry.
 */
final class ReferenceDatasets implements ReferenceResolver {
    private final MetadataStore metadata;
    private final ModelRegistry registry;

    ReferenceDatasets(MetadataStore metadata, ModelRegistry registry) {
        this.metadata = metadata;
        this.registry = registry;
    }

    @Override
    public String resolve(String namespace, URI uri) {
        var scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (scheme.equals("registry-dataset")) return registry.datasetUri(namespace, uri.getAuthority());
        if (!scheme.equals("mlmd")) throw new IllegalArgumentException("not a pipeline or registry reference");
        long id = Long.parseLong(uri.getPath().substring(1));
        io.capstan.metadata.Artifact artifact;
        try {
            artifact = metadata.getArtifact(id);
        } catch (io.capstan.core.NotFoundException e) {
            throw new IllegalArgumentException("ML Metadata has no artifact " + id);
        }
        // Lineage is global; a namespace reads only what runs of its own made.
        boolean ours = metadata.contextsByArtifact(id).stream().anyMatch(c -> c.type().equals(RetrainingLineage.RUN_CONTEXT)
                && c.customProperties().containsKey("namespace") && c.customProperties().get("namespace") instanceof io.capstan.metadata.PropertyValue.StringValue s && namespace.equals(s.value()));
        if (!ours) throw new IllegalArgumentException("artifact " + id + " was not made by a pipeline run of namespace '" + namespace + "'");
        if (artifact.uri() == null || artifact.uri().isBlank()) throw new IllegalArgumentException("artifact " + id + " has no URI");
        return artifact.uri();
    }
}
