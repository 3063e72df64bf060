"""KServe's error types, raised by models; the server maps them to HTTP statuses."""


class InferenceError(RuntimeError):
    status = 500

    def __init__(self, reason, status=None):
        super().__init__(reason)
        self.reason = reason
        if status is not None:
            self.status = status

    def __str__(self):
        return self.reason


class InvalidInput(InferenceError):
    status = 400


class ModelNotFound(InferenceError):
    status = 404

    def __init__(self, model_name=None):
        super().__init__("Model with name %s does not exist." % model_name)


class ModelNotReady(InferenceError):
    status = 503

    def __init__(self, model_name, detail=None):
        super().__init__("Model with name %s is not ready.%s" % (model_name, " " + detail if detail else ""))


class UnsupportedProtocol(InferenceError):
    status = 400
