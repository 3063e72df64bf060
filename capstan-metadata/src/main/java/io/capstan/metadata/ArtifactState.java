package io.capstan.metadata;

/** The lifecycle state of an artifact, as MLMD's {@code Artifact.State}. */
public enum ArtifactState {
    UNKNOWN, PENDING, LIVE, MARKED_FOR_DELETION, DELETED, ABANDONED, REFERENCE
}
