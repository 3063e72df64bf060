package io.capstan.metadata;

/** Context {@code parentId} contains context {@code childId}, as MLMD's {@code ParentContext}. */
public record ParentContext(long childId, long parentId) {
    public ParentContext {
        if (childId <= 0 || parentId <= 0) {
            throw new io.capstan.core.InvalidSpecException(
                    "parent context link needs stored ids (> 0), got child " + childId + ", parent " + parentId);
        }
        if (childId == parentId) {
            throw new io.capstan.core.InvalidSpecException("context " + childId + " cannot be its own parent");
        }
    }
}
