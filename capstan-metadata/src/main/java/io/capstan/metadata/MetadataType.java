package io.capstan.metadata;

import java.util.Map;

/**
 * A registered type: its name and the properties its instances may carry. Type names are unique per kind
 * (artifact, execution, context); {@code id} is 0 until the store assigns one.
 */
public sealed interface MetadataType permits ArtifactType, ExecutionType, ContextType {
    long id();

    String name();

    Map<String, PropertyType> properties();
}
