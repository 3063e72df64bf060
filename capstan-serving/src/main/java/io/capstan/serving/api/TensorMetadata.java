package io.capstan.serving.api;

import java.util.List;

/**
 * A model input or output as described in model metadata (OIP {@code $metadata_tensor}).
 *
 * @param shape dimensions; -1 marks a variable dimension (usually the batch)
 */
public record TensorMetadata(String name, DataType datatype, List<Long> shape) {
    public TensorMetadata {
        java.util.Objects.requireNonNull(name, "name");
        java.util.Objects.requireNonNull(datatype, "datatype");
        shape = List.copyOf(shape);
    }
}
