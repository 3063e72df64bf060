package io.capstan.metadata;

/** Execution {@code executionId} belongs to context {@code contextId}, as MLMD's {@code Association}. */
public record Association(long contextId, long executionId) {
    public Association {
        if (contextId <= 0 || executionId <= 0) {
            throw new io.capstan.core.InvalidSpecException(
                    "association needs stored ids (> 0), got context " + contextId + ", execution " + executionId);
        }
    }
}
