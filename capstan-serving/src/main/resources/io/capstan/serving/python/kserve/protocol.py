"""Open Inference Protocol v2 tensors, requests and responses, as kserve's InferInput/InferOutput/InferRequest/
InferResponse (JSON tensors only; binary tensor data is not supported)."""
from kserve.errors import InvalidInput

_TO_NUMPY = {
    "BOOL": "bool", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64",
    "FP16": "float16", "FP32": "float32", "FP64": "float64", "BYTES": "object",
}


def from_np_dtype(dtype):
    import numpy as np
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return "BOOL"
    if dtype.kind in ("U", "S", "O"):
        return "BYTES"
    for name, np_name in _TO_NUMPY.items():
        if np_name != "object" and dtype == np.dtype(np_name):
            return name
    return None


def to_np_dtype(datatype):
    import numpy as np
    name = _TO_NUMPY.get(datatype)
    return None if name is None else np.dtype(name)


def _flatten(data):
    out = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


class _Tensor:
    def __init__(self, name, shape, datatype, data=None, parameters=None):
        self.name = name
        self.shape = list(shape) if shape is not None else []
        self.datatype = datatype
        self.data = data
        self.parameters = parameters or {}

    def as_numpy(self):
        import numpy as np
        dtype = to_np_dtype(self.datatype)
        if dtype is None:
            raise InvalidInput("invalid datatype %s in the input %s" % (self.datatype, self.name))
        if self.datatype == "BYTES":
            flat = [d.encode() if isinstance(d, str) else d for d in _flatten(self.data)]
            array = np.empty(len(flat), dtype=object)
            array[:] = flat
        else:
            try:
                array = np.array(_flatten(self.data), dtype=dtype)
            except (TypeError, ValueError) as e:
                raise InvalidInput("inputs[%s].data: not %s values: %s" % (self.name, self.datatype, e))
        try:
            return array.reshape(self.shape)
        except ValueError:
            raise InvalidInput("inputs[%s].shape: %s does not hold %d values" % (self.name, self.shape, array.size))

    def set_data_from_numpy(self, array, binary_data=False):
        import numpy as np
        array = np.asarray(array)
        datatype = from_np_dtype(array.dtype)
        if datatype is None:
            raise InvalidInput("unsupported numpy type %s for %s" % (array.dtype, self.name))
        if self.datatype and self.datatype != datatype and not (self.datatype == "BYTES" and datatype == "BYTES"):
            array = array.astype(to_np_dtype(self.datatype))
        else:
            self.datatype = datatype
        self.shape = list(array.shape)
        if self.datatype == "BYTES":
            self.data = [d.decode() if isinstance(d, bytes) else str(d) for d in array.flatten().tolist()]
        else:
            self.data = array.flatten().tolist()

    def to_dict(self):
        out = {"name": self.name, "shape": self.shape, "datatype": self.datatype,
               "data": self.data.flatten().tolist() if hasattr(self.data, "flatten") else self.data}
        if self.parameters:
            out["parameters"] = self.parameters
        return out

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return "%s(name=%r, shape=%r, datatype=%r)" % (type(self).__name__, self.name, self.shape, self.datatype)


class InferInput(_Tensor):
    pass


class InferOutput(_Tensor):
    pass


def _tensors(body, field, cls, required):
    items = body.get(field)
    if items is None and not required:
        return []
    if not isinstance(items, list) or (required and not items):
        raise InvalidInput("%s: expected a non-empty list of tensors" % field)
    tensors = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput("%s[%d]: expected an object" % (field, i))
        for key in ("name", "shape", "datatype"):
            if key not in item:
                raise InvalidInput("%s[%d].%s: is required" % (field, i, key))
        if not isinstance(item["shape"], list) or not all(isinstance(d, int) and d >= 0 for d in item["shape"]):
            raise InvalidInput("%s[%d].shape: expected a list of non-negative integers" % (field, i))
        if item["datatype"] not in _TO_NUMPY:
            raise InvalidInput("%s[%d].datatype: %r is not an OIP datatype" % (field, i, item["datatype"]))
        if "data" not in item:
            raise InvalidInput("%s[%d].data: is required" % (field, i))
        tensors.append(cls(item["name"], item["shape"], item["datatype"], item["data"], item.get("parameters")))
    return tensors


class InferRequest:
    def __init__(self, model_name, infer_inputs, request_id=None, raw_inputs=None, from_grpc=False, parameters=None,
                 request_outputs=None, model_version=None):
        self.model_name = model_name
        self.inputs = list(infer_inputs)
        self.id = request_id
        self.parameters = parameters or {}
        self.request_outputs = request_outputs or []
        self.model_version = model_version
        self.from_grpc = from_grpc

    @classmethod
    def from_rest(cls, model_name, body):
        if not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object with \"inputs\"")
        return cls(model_name, _tensors(body, "inputs", InferInput, True), request_id=body.get("id"),
                   parameters=body.get("parameters"), request_outputs=body.get("outputs"))

    def get_input_by_name(self, name):
        return next((i for i in self.inputs if i.name == name), None)

    def to_rest(self):
        out = {"inputs": [i.to_dict() for i in self.inputs]}
        if self.id is not None:
            out["id"] = self.id
        if self.parameters:
            out["parameters"] = self.parameters
        if self.request_outputs:
            out["outputs"] = self.request_outputs
        return out

    def __repr__(self):
        return "InferRequest(model_name=%r, inputs=%r)" % (self.model_name, self.inputs)


class InferResponse:
    def __init__(self, response_id, model_name, infer_outputs, model_version=None, raw_outputs=None, from_grpc=False,
                 parameters=None):
        self.id = response_id
        self.model_name = model_name
        self.model_version = model_version
        self.outputs = list(infer_outputs)
        self.parameters = parameters or {}
        self.from_grpc = from_grpc

    @classmethod
    def from_rest(cls, model_name=None, response=None):
        if response is None and isinstance(model_name, dict):
            model_name, response = model_name.get("model_name"), model_name
        return cls(response.get("id"), response.get("model_name", model_name),
                   _tensors(response, "outputs", InferOutput, False), model_version=response.get("model_version"),
                   parameters=response.get("parameters"))

    def get_output_by_name(self, name):
        return next((o for o in self.outputs if o.name == name), None)

    def to_rest(self):
        out = {"model_name": self.model_name, "outputs": [o.to_dict() for o in self.outputs]}
        if self.id is not None:
            out["id"] = self.id
        if self.model_version is not None:
            out["model_version"] = self.model_version
        if self.parameters:
            out["parameters"] = self.parameters
        return out

    def __repr__(self):
        return "InferResponse(model_name=%r, outputs=%r)" % (self.model_name, self.outputs)
