"""kserve.model_server: the argument parser and ModelServer, an OIP v2 / V1 REST server on the standard library."""
import argparse
import asyncio
import inspect
import json
import os
import re
import signal
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from kserve import model as _model
from kserve.errors import InferenceError, InvalidInput, ModelNotFound, ModelNotReady
from kserve.logging import logger
from kserve.protocol import InferRequest, InferResponse

DEFAULT_HTTP_PORT = 8080

parser = argparse.ArgumentParser(add_help=False)
parser.add_argument("--http_port", default=int(os.environ.get("PORT", DEFAULT_HTTP_PORT)), type=int,
                    help="The HTTP port listened to by the model server (default: $PORT, else 8080).")
parser.add_argument("--grpc_port", default=8081, type=int, help="Accepted; Capstan's Python server has no gRPC.")
parser.add_argument("--workers", default=1, type=int)
parser.add_argument("--max_threads", default=4, type=int)
parser.add_argument("--max_asyncio_workers", default=None, type=int)
parser.add_argument("--enable_grpc", default=False, type=lambda v: str(v).lower() in ("true", "1", "yes"))
parser.add_argument("--enable_docs_url", default=False, type=lambda v: str(v).lower() in ("true", "1", "yes"))
parser.add_argument("--enable_latency_logging", default=False, type=lambda v: str(v).lower() in ("true", "1", "yes"))
parser.add_argument("--configure_logging", default=True, type=lambda v: str(v).lower() in ("true", "1", "yes"))
parser.add_argument("--log_config_file", default=None, type=str)
parser.add_argument("--access_log_format", default=None, type=str)
parser.add_argument("--model_name", default=os.environ.get("MODEL_NAME", "model"), type=str,
                    help="The name that the model is served under (default: $MODEL_NAME, else model).")
parser.add_argument("--predictor_host", default=None, type=str, help="The host:port of the predictor, for a transformer.")
parser.add_argument("--protocol", "--predictor_protocol", dest="protocol", default="v1", type=str,
                    help="The protocol to call the predictor with: v1 or v2.")
parser.add_argument("--predictor_use_ssl", default=False, type=lambda v: str(v).lower() in ("true", "1", "yes"))
parser.add_argument("--predictor_request_timeout_seconds", default=600, type=int)

_V1 = re.compile(r"^/v1/models/([^/:]+):(predict|explain)$")
_V2_INFER = re.compile(r"^/v2/models/([^/]+)(?:/versions/[^/]+)?/infer$")
_V2_READY = re.compile(r"^/v2/models/([^/]+)(?:/versions/[^/]+)?/ready$")
_V2_META = re.compile(r"^/v2/models/([^/]+)(?:/versions/[^/]+)?$")
_V1_MODEL = re.compile(r"^/v1/models/([^/:]+)$")


class ModelRepository:
    def __init__(self):
        self.models = {}

    def update(self, model):
        self.models[model.name] = model

    def get_model(self, name):
        return self.models.get(name)

    def get_models(self):
        return self.models


class _Loop:
    """One event loop on its own thread, for models whose methods are coroutines."""

    def __init__(self):
        self.loop = None
        self.lock = threading.Lock()

    def run(self, value):
        if not inspect.isawaitable(value):
            return value
        with self.lock:
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
                threading.Thread(target=self.loop.run_forever, name="kserve-asyncio", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(_awaited(value), self.loop).result()


async def _awaited(value):
    return await value


class ModelServer:
    def __init__(self, http_port=None, grpc_port=8081, workers=1, max_threads=4, max_asyncio_workers=None,
                 registered_models=None, enable_grpc=False, enable_docs_url=False, enable_latency_logging=False,
                 access_log_format=None, log_config=None, **kwargs):
        args, _ = parser.parse_known_args()
        self.http_port = http_port if http_port is not None else args.http_port
        self.registered_models = registered_models or ModelRepository()
        self._loop = _Loop()
        self._server = None

    def register_model(self, model):
        if not getattr(model, "name", None):
            raise Exception("Failed to register model, model.name must be provided.")
        self.registered_models.update(model)

    def start(self, models):
        for model in models:
            self.register_model(model)
        handler = _handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.http_port), handler)
        self._server.daemon_threads = True
        logger.info("serving %s on 127.0.0.1:%d", list(self.registered_models.get_models()), self.http_port)
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=self._server.shutdown).start())
        for model in models:
            if hasattr(model, "start"):
                model.start()
        _exit_with_parent()
        try:
            self._server.serve_forever()
        finally:
            for model in models:
                if hasattr(model, "stop"):
                    model.stop()

    def stop(self, sig=None):
        if self._server:
            self._server.shutdown()

    # --- the data plane ---

    def model(self, name):
        model = self.registered_models.get_model(name)
        if model is None:
            raise ModelNotFound(name)
        if not model.ready:
            raise ModelNotReady(name)
        return model

    def infer(self, name, body, headers, v2):
        model = self.model(name)
        payload = InferRequest.from_rest(name, body) if v2 else body
        if not v2 and not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object with \"instances\"")
        run = self._loop.run
        payload = run(_model.call(model.preprocess, payload, headers=headers))
        if hasattr(model, "validate"):
            payload = run(model.validate(payload))
        result = run(_model.call(model.predict, payload, headers=headers))
        result = run(_model.call(model.postprocess, result, headers=headers))
        return result

    def explain(self, name, body, headers):
        model = self.model(name)
        return self._loop.run(_model.call(model.explain, body, headers=headers))


def _exit_with_parent():
    """Under Capstan (CAPSTAN_PARENT_PID set): exit when Capstan does, even when it was killed and could not stop us."""
    parent = os.environ.get("CAPSTAN_PARENT_PID")
    if not parent or not parent.isdigit() or os.getppid() != int(parent):
        return  # not Capstan's own child (e.g. in a container): nothing to watch

    def watch():
        import time
        while True:
            time.sleep(1)
            if os.getppid() != int(parent):
                logger.warning("Capstan (pid %s) is gone; exiting", parent)
                os._exit(0)
    threading.Thread(target=watch, name="capstan-parent-watch", daemon=True).start()


def _handler(server):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body in one write, and no Nagle: else a delayed ACK holds every answer back by up to 40 ms
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):
            pass

        def _send(self, status, body):
            data = json.dumps(body, default=_model.json_default).encode()
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self._headers_buffer.append(b"\r\n")
            self._headers_buffer.append(data)
            self.wfile.write(b"".join(self._headers_buffer))
            self._headers_buffer = []

        def _guarded(self, work):
            try:
                status, body = work()
            except InferenceError as e:
                status, body = e.status, {"error": e.reason}
            except NotImplementedError as e:
                status, body = 501, {"error": str(e) or "not implemented"}
            except (ValueError, TypeError, KeyError, IndexError) as e:
                status, body = 400, {"error": "%s: %s" % (type(e).__name__, e)}
            except Exception as e:  # a model's own failure
                traceback.print_exc(file=sys.stderr)
                status, body = 500, {"error": "%s: %s" % (type(e).__name__, e)}
            self._send(status, body)

        def do_GET(self):
            path = self.path.split("?", 1)[0]

            def work():
                if path in ("/", "/v2/health/live"):
                    return 200, {"live": True} if path != "/" else {"status": "alive"}
                if path == "/v2/health/ready":
                    ready = all(m.ready for m in server.registered_models.get_models().values())
                    return (200 if ready else 503), {"ready": ready}
                if path == "/v2":
                    return 200, {"name": "kserve", "version": "capstan", "extensions": []}
                if path == "/v1/models":
                    return 200, {"models": list(server.registered_models.get_models())}
                m = _V2_READY.match(path)
                if m:
                    model = server.registered_models.get_model(m.group(1))
                    if model is None:
                        raise ModelNotFound(m.group(1))
                    return (200 if model.ready else 503), {"name": model.name, "ready": bool(model.ready)}
                m = _V1_MODEL.match(path)
                if m:
                    model = server.registered_models.get_model(m.group(1))
                    if model is None:
                        raise ModelNotFound(m.group(1))
                    return (200 if model.ready else 503), {"name": model.name, "ready": bool(model.ready)}
                m = _V2_META.match(path)
                if m:
                    model = server.model(m.group(1))
                    return 200, {"name": model.name, "platform": getattr(model, "platform", ""),
                                 "inputs": _types(model, "get_input_types"), "outputs": _types(model, "get_output_types")}
                return 404, {"error": "no route for GET %s" % path}
            self._guarded(work)

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}

            def work():
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError as e:
                    raise InvalidInput("the body is not valid JSON: %s" % e)
                m = _V2_INFER.match(path)
                if m:
                    result = server.infer(m.group(1), body, headers, v2=True)
                    return 200, _v2_answer(result, m.group(1))
                m = _V1.match(path)
                if m and m.group(2) == "predict":
                    return 200, _v1_answer(server.infer(m.group(1), body, headers, v2=False))
                if m:
                    return 200, server.explain(m.group(1), body, headers)
                return 404, {"error": "no route for POST %s" % path}
            self._guarded(work)

    return Handler


def _types(model, method):
    try:
        types = getattr(model, method)()
    except Exception:
        return []
    return [t if isinstance(t, dict) else {"name": t.name, "datatype": t.datatype, "shape": t.shape} for t in types or []]


def _v2_answer(result, name):
    if isinstance(result, InferResponse):
        out = result.to_rest()
        out.setdefault("model_name", name)
        return out
    if isinstance(result, dict):
        return result
    raise InferenceError("the model returned %s for a v2 request; return an InferResponse" % type(result).__name__)


def _v1_answer(result):
    if isinstance(result, InferResponse):
        return result.to_rest()
    if isinstance(result, dict):
        return result
    if hasattr(result, "tolist"):
        return {"predictions": result.tolist()}
    if isinstance(result, list):
        return {"predictions": result}
    return result
