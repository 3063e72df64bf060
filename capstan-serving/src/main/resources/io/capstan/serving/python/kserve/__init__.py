"""Capstan's offline kserve shim: the Python SDK surface that KServe custom predictors and transformers use
(Model, ModelServer, model_server.parser, InferRequest/InferResponse/InferInput/InferOutput), on the standard
library and numpy. It serves OIP v2 and V1 REST on 127.0.0.1; Capstan keeps the public endpoint in front of it."""
from kserve.model import Model, PredictorConfig, PredictorProtocol, BaseKServeModel
from kserve.model_server import ModelServer, ModelRepository
from kserve.protocol import InferInput, InferOutput, InferRequest, InferResponse
from kserve import model_server, errors, logging, utils
from kserve.utils import utils as _utils  # noqa: F401 (kserve.utils.utils importable)

__version__ = "0.13.0+capstan"
