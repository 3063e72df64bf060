package io.capstan.pipelines;

import java.util.Objects;

/**
 * An artifact's type: a schema title such as {@code system.Dataset} and its version.
 */
public record ArtifactType(String schemaTitle, String schemaVersion) {
    /** The generic type that every artifact type may flow into and out of. */
    public static final String GENERIC = "system.Artifact";

    public ArtifactType {
        Objects.requireNonNull(schemaTitle, "schemaTitle");
        Objects.requireNonNull(schemaVersion, "schemaVersion");
    }

    /** Whether an artifact of type {@code produced} may feed an input of this type; {@code system.Artifact} matches any. */
    public boolean accepts(ArtifactType produced) {
        return schemaTitle.equals(produced.schemaTitle) || schemaTitle.equals(GENERIC) || produced.schemaTitle.equals(GENERIC);
    }
}
