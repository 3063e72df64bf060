"""kserve.Model: a custom predictor or transformer, as KServe's Python SDK defines it."""
import http.client
import inspect
import json
import threading
from enum import Enum

from kserve.errors import InferenceError, InvalidInput
from kserve.protocol import InferRequest, InferResponse


class PredictorProtocol(Enum):
    REST_V1 = "v1"
    REST_V2 = "v2"
    GRPC_V2 = "grpc-v2"


class PredictorConfig:
    def __init__(self, predictor_host, predictor_protocol="v1", predictor_use_ssl=False,
                 predictor_request_timeout_seconds=600, predictor_request_retries=0, predictor_health_check=False):
        self.predictor_host = predictor_host
        self.predictor_protocol = predictor_protocol
        self.predictor_use_ssl = predictor_use_ssl
        self.predictor_request_timeout_seconds = predictor_request_timeout_seconds


class BaseKServeModel:
    def __init__(self, name):
        self.name = name
        self.ready = False

    def load(self):
        self.ready = True
        return self.ready

    def start(self):
        pass

    def stop(self):
        pass

    def healthy(self):
        return self.ready


class Model(BaseKServeModel):
    def __init__(self, name, predictor_config=None, return_response_headers=False):
        super().__init__(name)
        self.protocol = predictor_config.predictor_protocol if predictor_config else PredictorProtocol.REST_V1.value
        self.predictor_host = predictor_config.predictor_host if predictor_config else None
        self.use_ssl = predictor_config.predictor_use_ssl if predictor_config else False
        self.timeout = predictor_config.predictor_request_timeout_seconds if predictor_config else 600
        self.explainer_host = None
        self.return_response_headers = return_response_headers
        self._connections = threading.local()

    def get_input_types(self):
        return []

    def get_output_types(self):
        return []

    def validate(self, payload):
        if isinstance(payload, dict) and _protocol(self) == "v1" and "instances" in payload \
                and not isinstance(payload["instances"], list):
            raise InvalidInput("Expected \"instances\" to be a list")
        return payload

    def preprocess(self, payload, headers=None):
        return payload

    def postprocess(self, result, headers=None, response_headers=None):
        return result

    def predict(self, payload, headers=None, response_headers=None):
        if not self.predictor_host:
            raise NotImplementedError("Could not find predictor_host.")
        if _protocol(self) == "v2":
            body = payload.to_rest() if isinstance(payload, InferRequest) else payload
            answer = self._post("/v2/models/%s/infer" % self.name, body)
            return InferResponse.from_rest(self.name, answer)
        body = payload.to_rest() if isinstance(payload, InferRequest) else payload
        return self._post("/v1/models/%s:predict" % self.name, body)

    def explain(self, payload, headers=None):
        raise NotImplementedError("this model has no explainer")

    def _post(self, path, body):
        connection = getattr(self._connections, "connection", None)
        if connection is None:
            host = self.predictor_host.split("://", 1)[-1]
            connection = http.client.HTTPConnection(host, timeout=self.timeout)
            self._connections.connection = connection
        data = json.dumps(body, default=json_default).encode()
        for attempt in range(2):
            try:
                connection.request("POST", path, body=data, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                text = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                connection.close()
                if attempt == 1:
                    raise
        if response.status != 200:
            try:
                reason = json.loads(text).get("error", text.decode(errors="replace"))
            except ValueError:
                reason = text.decode(errors="replace")
            raise InferenceError("the predictor answered %d: %s" % (response.status, reason), status=response.status)
        return json.loads(text)


def _protocol(model):
    protocol = getattr(model, "protocol", "v1")
    return protocol.value if isinstance(protocol, Enum) else str(protocol or "v1")


def json_default(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, (InferRequest, InferResponse)):
        return value.to_rest()
    raise TypeError("%s is not JSON serializable" % type(value).__name__)


def call(method, *args, headers=None):
    """Calls a model method with the arguments its signature takes (old samples have no headers parameter)."""
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):
        parameters = {}
    takes_headers = "headers" in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    if takes_headers:
        return method(*args, headers=headers)
    positional = [p for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) > len(args):
        return method(*args, headers)
    return method(*args)
