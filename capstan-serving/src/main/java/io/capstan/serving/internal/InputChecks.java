package io.capstan.serving.internal;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.runtime.LoadedModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Checks a request against a model's declared inputs and outputs; every error names its field. */
final class InputChecks {
    private InputChecks() {
    }

    /** The inputs in the model's order, converted where the model converts numeric inputs. */
    static List<Tensor> inputs(InferenceRequest request, LoadedModel model) {
        var declared = model.inputs();
        if (model.acceptsAnyInputs() && !request.inputs().isEmpty()) return request.inputs();
        if (request.inputs().isEmpty()) {
            throw new InvalidInputException("inputs: the request has no inputs; the model takes " + describe(declared));
        }
        var byName = new Tensor[declared.size()];
        for (int i = 0; i < request.inputs().size(); i++) {
            var tensor = request.inputs().get(i);
            int index = indexOf(declared, tensor.name());
            if (index < 0) {
                throw new InvalidInputException("inputs[" + i + "].name: the model has no input '" + OipSafe.printable(tensor.name())
                        + "'; its inputs are " + describe(declared));
            }
            if (byName[index] != null) {
                throw new InvalidInputException("inputs[" + i + "].name: input '" + tensor.name() + "' is given twice");
            }
            byName[index] = check(tensor, declared.get(index), model.convertsNumericInputs(), "inputs[" + i + "]");
        }
        var missing = new ArrayList<String>();
        for (int i = 0; i < byName.length; i++) {
            if (byName[i] == null) missing.add(declared.get(i).name());
        }
        if (!missing.isEmpty()) {
            throw new InvalidInputException("inputs: the request lacks input(s) " + missing + "; the model takes " + describe(declared));
        }
        return Arrays.asList(byName);
    }

    /** The requested output names, each one the model has. */
    static Set<String> outputs(InferenceRequest request, LoadedModel model) {
        if (request.outputs().isEmpty()) return Set.of();
        if (model.acceptsAnyInputs()) {
            var names = new LinkedHashSet<String>();
            request.outputs().forEach(o -> names.add(o.name()));
            return names;
        }
        var known = new HashSet<String>();
        model.outputs().forEach(o -> known.add(o.name()));
        var names = new LinkedHashSet<String>();
        for (int i = 0; i < request.outputs().size(); i++) {
            var name = request.outputs().get(i).name();
            if (!known.contains(name)) {
                throw new InvalidInputException("outputs[" + i + "].name: the model has no output '" + name + "'; its outputs are "
                        + model.outputs().stream().map(TensorMetadata::name).toList());
            }
            names.add(name);
        }
        return names;
    }

    private static Tensor check(Tensor tensor, TensorMetadata expected, boolean convert, String at) {
        var named = tensor;
        if (tensor.datatype() != expected.datatype()) {
            boolean numeric = tensor.datatype() != DataType.BOOL && tensor.datatype() != DataType.BYTES;
            if (!(convert && numeric)) {
                throw new InvalidInputException(at + ".datatype: input '" + expected.name() + "' takes " + expected.datatype()
                        + ", got " + tensor.datatype());
            }
            named = Conversions.convert(named, expected.datatype());
        }
        var shape = tensor.shape();
        var want = expected.shape();
        if (shape.length != want.size()) {
            throw new InvalidInputException(at + ".shape: input '" + expected.name() + "' takes shape " + want
                    + " (" + want.size() + " dimensions), got " + Arrays.toString(shape));
        }
        for (int d = 0; d < shape.length; d++) {
            long w = want.get(d);
            if (w >= 0 && shape[d] != w) {
                throw new InvalidInputException(at + ".shape: input '" + expected.name() + "' takes shape " + want
                        + ", got " + Arrays.toString(shape) + " (dimension " + d + " must be " + w + ")");
            }
        }
        return named;
    }

    private static int indexOf(List<TensorMetadata> declared, String name) {
        for (int i = 0; i < declared.size(); i++) {
            if (declared.get(i).name().equals(name)) return i;
        }
        return -1;
    }

    private static String describe(List<TensorMetadata> declared) {
        var parts = new ArrayList<String>();
        for (var t : declared) parts.add(t.name() + " " + t.datatype() + " " + t.shape());
        return parts.toString();
    }
}
