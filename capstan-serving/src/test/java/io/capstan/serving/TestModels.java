package io.capstan.serving;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds small ONNX models in Java, so that tests and benchmarks need no Python. */
public final class TestModels {
    /** Weights of a fixed iris-like linear classifier: 4 features, 3 classes. */
    public static final float[][] IRIS_WEIGHTS = {
            {0.4f, -0.2f, -0.6f}, {1.0f, 0.1f, -1.1f}, {-1.5f, 0.3f, 1.2f}, {-0.8f, -0.4f, 1.4f}};
    public static final float[] IRIS_BIAS = {0.2f, 0.9f, -1.1f};

    private TestModels() {
    }

    /**
     * Input {@code input} FP32 [batch, 4]; outputs {@code probabilities} FP32 [batch, 3] (softmax of
     * input·W + b) and {@code label} INT64 [batch] (argmax).
     */
    public static Path irisOnnx(Path dir) throws IOException {
        var weights = TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(4).addDims(3);
        for (var row : IRIS_WEIGHTS) for (float w : row) weights.addFloatData(w);
        var bias = TensorProto.newBuilder().setName("B").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(3);
        for (float b : IRIS_BIAS) bias.addFloatData(b);
        var graph = GraphProto.newBuilder().setName("iris")
                .addInitializer(weights).addInitializer(bias)
                .addInput(tensor("input", TensorProto.DataType.FLOAT_VALUE, -1, 4))
                .addOutput(tensor("probabilities", TensorProto.DataType.FLOAT_VALUE, -1, 3))
                .addOutput(tensor("label", TensorProto.DataType.INT64_VALUE, -1))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("input").addInput("W").addOutput("xw"))
                .addNode(NodeProto.newBuilder().setOpType("Add").addInput("xw").addInput("B").addOutput("logits"))
                .addNode(NodeProto.newBuilder().setOpType("Softmax").addInput("logits").addOutput("probabilities")
                        .addAttribute(intAttribute("axis", 1)))
                .addNode(NodeProto.newBuilder().setOpType("ArgMax").addInput("logits").addOutput("label")
                        .addAttribute(intAttribute("axis", 1)).addAttribute(intAttribute("keepdims", 0)));
        return write(dir.resolve("model.onnx"), graph);
    }

    /** Expected probabilities of {@link #irisOnnx} for one row, computed in plain Java. */
    public static float[] irisProbabilities(float[] row) {
        var logits = new double[3];
        for (int c = 0; c < 3; c++) {
            logits[c] = IRIS_BIAS[c];
            for (int f = 0; f < 4; f++) logits[c] += row[f] * IRIS_WEIGHTS[f][c];
        }
        double max = Math.max(logits[0], Math.max(logits[1], logits[2]));
        double sum = 0;
        for (int c = 0; c < 3; c++) sum += Math.exp(logits[c] - max);
        var out = new float[3];
        for (int c = 0; c < 3; c++) out[c] = (float) (Math.exp(logits[c] - max) / sum);
        return out;
    }

    /** Identity model: input {@code x} of {@code onnxType} with shape [batch, 2], output {@code y}. */
    public static Path identityOnnx(Path file, int onnxType) throws IOException {
        var graph = GraphProto.newBuilder().setName("identity")
                .addInput(tensor("x", onnxType, -1, 2))
                .addOutput(tensor("y", onnxType, -1, 2))
                .addNode(NodeProto.newBuilder().setOpType("Identity").addInput("x").addOutput("y"));
        return write(file, graph);
    }

    private static Path write(Path file, GraphProto.Builder graph) throws IOException {
        var model = ModelProto.newBuilder().setIrVersion(8).setProducerName("capstan-tests")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .setGraph(graph).build();
        Files.createDirectories(file.getParent());
        Files.write(file, model.toByteArray());
        return file;
    }

    private static ValueInfoProto tensor(String name, int type, long... dims) {
        var shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape)))
                .build();
    }

    private static AttributeProto intAttribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }
}
