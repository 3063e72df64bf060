package io.capstan.serving;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.runtime.LoadedModel;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Answers its input as output {@code y}: a model for every datatype. */
public final class EchoModel implements LoadedModel {
    private final DataType type;

    public EchoModel(DataType type) {
        this.type = type;
    }

    @Override
    public String platform() {
        return "java";
    }

    @Override
    public List<TensorMetadata> inputs() {
        return List.of(new TensorMetadata("x", type, List.of(-1L, -1L)));
    }

    @Override
    public List<TensorMetadata> outputs() {
        return List.of(new TensorMetadata("y", type, List.of(-1L, -1L)));
    }

    @Override
    public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
        var x = inputs.getFirst();
        return List.of(new Tensor("y", x.datatype(), x.shape(), x.data(), parameters.isEmpty() ? Map.of() : Map.of("echoed", parameters.size())));
    }

    @Override
    public void close() {
    }
}
