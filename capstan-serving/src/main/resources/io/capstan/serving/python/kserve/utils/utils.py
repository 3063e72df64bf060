"""The helpers of kserve.utils.utils that custom models import."""
import uuid


def generate_uuid():
    return str(uuid.uuid4())


def get_predict_input(payload):
    """The model input of a V1 dict (its instances) or a V2 InferRequest (its first input as numpy)."""
    from kserve.protocol import InferRequest
    import numpy as np
    if isinstance(payload, InferRequest):
        return payload.inputs[0].as_numpy()
    if isinstance(payload, dict):
        instances = payload.get("instances", payload.get("inputs"))
        return np.array(instances)
    return payload


def get_predict_response(payload, result, model_name):
    """V1 {"predictions": ...} for a dict request, an InferResponse for an InferRequest."""
    from kserve.protocol import InferRequest, InferResponse, InferOutput
    if isinstance(payload, InferRequest):
        output = InferOutput(name="output-0", shape=list(result.shape), datatype="")
        output.set_data_from_numpy(result)
        return InferResponse(model_name=model_name, infer_outputs=[output], response_id=payload.id or generate_uuid())
    return {"predictions": result.tolist() if hasattr(result, "tolist") else result}
