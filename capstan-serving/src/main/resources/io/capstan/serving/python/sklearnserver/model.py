"""A scikit-learn model served as KServe's sklearnserver serves it: the first of model.joblib, model.pkl or
model.pickle in the model folder (or the file itself), predict, or predict_proba when PREDICT_PROBA=true."""
import os
import pathlib

from kserve import Model
from kserve.errors import InvalidInput
from kserve.protocol import InferRequest
from kserve.utils.utils import get_predict_input, get_predict_response

MODEL_BASENAME = "model"
MODEL_EXTENSIONS = (".joblib", ".pkl", ".pickle")
ENV_PREDICT_PROBA = "PREDICT_PROBA"


class SKLearnModel(Model):
    def __init__(self, name, model_dir):
        super().__init__(name)
        self.model_dir = model_dir
        self.platform = "sklearn"
        self._model = None

    def load(self):
        path = pathlib.Path(self.model_dir)
        if path.is_file():
            files = [path]
        else:
            files = [path / (MODEL_BASENAME + ext) for ext in MODEL_EXTENSIONS if (path / (MODEL_BASENAME + ext)).exists()]
            if not files:
                files = sorted(p for p in path.iterdir() if p.suffix in MODEL_EXTENSIONS) if path.is_dir() else []
        if not files:
            raise RuntimeError("no model.joblib, model.pkl or model.pickle in %s" % self.model_dir)
        import joblib  # reads joblib dumps and plain pickles alike, as KServe's sklearnserver relies on
        self._model = joblib.load(files[0])
        if not hasattr(self._model, "predict"):
            raise RuntimeError("%s holds a %s, which has no predict method" % (files[0].name, type(self._model).__name__))
        self.ready = True
        return self.ready

    def predict(self, payload, headers=None):
        field = "inputs[0].data" if isinstance(payload, InferRequest) else "instances"
        if isinstance(payload, dict) and not isinstance(payload.get("instances", payload.get("inputs")), list):
            raise InvalidInput("instances: expected a list of rows")
        try:
            instances = get_predict_input(payload)
        except ValueError as e:
            raise InvalidInput("%s: %s" % (field, e))
        if getattr(instances, "dtype", None) is not None and instances.dtype == object:
            raise InvalidInput("%s: rows must be lists of numbers of one length" % field)
        try:
            if os.environ.get(ENV_PREDICT_PROBA, "false").lower() == "true":
                result = self._model.predict_proba(instances)
            else:
                result = self._model.predict(instances)
        except (ValueError, TypeError) as e:
            raise InvalidInput("%s: %s" % (field, e))
        return get_predict_response(payload, result, self.name)
