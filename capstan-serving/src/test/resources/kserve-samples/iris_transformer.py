# A transformer written the way KServe's transformer samples do: a kserve.Model with predictor_host and protocol,
# preprocess and postprocess around the default predict that calls the predictor.
import argparse
from typing import Dict, Union

import numpy as np
from kserve import InferInput, InferRequest, InferResponse, Model, ModelServer, model_server

NAMES = ["setosa", "versicolor", "virginica"]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


class IrisTransformer(Model):
    def __init__(self, name: str, predictor_host: str, protocol: str):
        super().__init__(name)
        self.predictor_host = predictor_host
        self.protocol = protocol
        self.ready = True

    def preprocess(self, payload: Dict, headers: Dict[str, str] = None) -> Union[Dict, InferRequest]:
        rows = [[flower[f] for f in FEATURES] for flower in payload["instances"]]
        if self.protocol == "v2":
            tensor = InferInput(name="input-0", shape=[len(rows), 4], datatype="FP64")
            tensor.set_data_from_numpy(np.asarray(rows, dtype=np.float64))
            return InferRequest(model_name=self.name, infer_inputs=[tensor])
        return {"instances": rows}

    def postprocess(self, response: Union[Dict, InferResponse], headers: Dict[str, str] = None) -> Dict:
        if isinstance(response, InferResponse):
            classes = response.outputs[0].as_numpy().tolist()
        else:
            classes = response["predictions"]
        return {"predictions": [NAMES[c] for c in classes]}


parser = argparse.ArgumentParser(parents=[model_server.parser])
args, _ = parser.parse_known_args()

if __name__ == "__main__":
    ModelServer().start([IrisTransformer(args.model_name, predictor_host=args.predictor_host, protocol=args.protocol)])
