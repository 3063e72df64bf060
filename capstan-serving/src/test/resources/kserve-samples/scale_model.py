# A custom predictor written the way KServe's 0.8 "custom model" docs show one: a kserve.Model subclass that loads in
# __init__, a predict(request: Dict) -> Dict without headers, and kserve.ModelServer().start([model]).
import sys
from typing import Dict

import kserve


class ScaleModel(kserve.Model):
    def __init__(self, name: str, model_dir: str):
        super().__init__(name)
        self.name = name
        self.model_dir = model_dir
        self.load()

    def load(self):
        with open(self.model_dir + "/factor.txt") as f:
            self.factor = float(f.read())
        self.ready = True

    def predict(self, request: Dict) -> Dict:
        return {"predictions": [[value * self.factor for value in row] for row in request["instances"]]}


if __name__ == "__main__":
    model_dir = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--model_dir="))
    model = ScaleModel("custom-model", model_dir)
    kserve.ModelServer().start([model])
