# A custom predictor written the way KServe's current docs show one: argparse with model_server.parser as parent,
# async predict(payload, headers) answering an InferResponse for v2 requests and a dict for V1, preprocess too.
import argparse
from typing import Dict, Union

import numpy as np
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer, model_server
from kserve.errors import InvalidInput
from kserve.utils.utils import generate_uuid


class SquareModel(Model):
    def __init__(self, name: str):
        super().__init__(name)
        self.ready = False

    def load(self):
        self.ready = True

    def preprocess(self, payload: Union[Dict, InferRequest], headers: Dict[str, str] = None):
        if isinstance(payload, InferRequest):
            return payload.inputs[0].as_numpy()
        if "instances" not in payload:
            raise InvalidInput("instances: is required")
        return np.asarray(payload["instances"], dtype=np.float32)

    async def predict(self, data, headers: Dict[str, str] = None) -> Union[Dict, InferResponse]:
        squared = np.square(data)
        output = InferOutput(name="squared", shape=list(squared.shape), datatype="FP32")
        output.set_data_from_numpy(squared.astype(np.float32))
        return InferResponse(model_name=self.name, infer_outputs=[output], response_id=generate_uuid())


parser = argparse.ArgumentParser(parents=[model_server.parser])
args, _ = parser.parse_known_args()

if __name__ == "__main__":
    model = SquareModel(args.model_name)
    model.load()
    ModelServer().start([model])
