"""Runs one component function against a KFP executor input.

The executor builds the function's arguments from ``executorInput`` (the
``{{$}}`` placeholder), calls it, and writes what it produced: returned
parameters into ``parameterValues`` of the executor output (and into the
parameter's ``outputFile`` when one is given), returned data into the output
artifact's file, and every output artifact with its metadata into
``artifacts``. The executor output goes to ``outputs.outputFile``.
"""
import inspect
import json
import math
import os
import shutil
import typing
from typing import Any, Callable, Dict, List, Optional

from kfp.dsl.task_config import TaskConfig
from kfp.dsl.task_final_status import PipelineTaskFinalStatus
from kfp.dsl.types import artifact_types
from kfp.dsl.types import type_annotations as ta
from kfp.dsl.types.artifact_types import Artifact


class ExecutorError(Exception):
    """The executor input or the component module cannot be used as given.

    ``executor_main`` reports it in one line, without a traceback."""


def _object(value: Any, where: str) -> Dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ExecutorError(f'{where} must be a JSON object, got {type(value).__name__}')
    return value


class Executor:
    """Executes one Python component function."""

    def __init__(self, executor_input: Dict, function_to_execute: Callable) -> None:
        self.func = getattr(function_to_execute, 'python_func', function_to_execute)
        if not callable(self.func):
            raise ExecutorError(f'{function_to_execute!r} is not a function')
        self.executor_input = _object(executor_input, 'executor input')
        self._inputs = _object(self.executor_input.get('inputs'), 'executor input "inputs"')
        self._outputs = _object(self.executor_input.get('outputs'), 'executor input "outputs"')
        output_file = self._outputs.get('outputFile')
        if not isinstance(output_file, str) or not output_file:
            raise ExecutorError('executor input has no "outputs.outputFile" (a path to write the executor output to)')
        self.executor_output_path = output_file
        # The folder of the executor output file is the task root for dsl.get_uri.
        artifact_types.CONTAINER_TASK_ROOT = os.path.split(output_file)[0]
        if artifact_types.CONTAINER_TASK_ROOT:
            os.makedirs(artifact_types.CONTAINER_TASK_ROOT, exist_ok=True)

        self.annotations = self._read_annotations()
        self.return_annotation = self.annotations.get('return', inspect.Signature.empty)
        self.input_artifacts: Dict[str, Any] = {}
        self.output_artifacts: Dict[str, Artifact] = {}
        self.executor_output: Dict[str, Any] = {}
        self._assign_input_and_output_artifacts()

    # ---- reading the function and the executor input ------------------------------------

    def _read_annotations(self) -> Dict[str, Any]:
        annotations = dict(getattr(self.func, '__annotations__', {}) or {})
        if any(isinstance(a, str) for a in annotations.values()):
            try:
                annotations = typing.get_type_hints(self.func, include_extras=True)
            except Exception as e:  # unresolvable string annotations
                raise ExecutorError(
                    f'cannot resolve the type annotations of `{self.func.__name__}`: {e}') from e
        return annotations

    def _runtime_artifacts(self, section: Dict, name: str) -> List[Dict]:
        entry = _object(section.get(name), f'artifact "{name}"')
        listed = entry.get('artifacts') or []
        if not isinstance(listed, list):
            raise ExecutorError(f'artifact "{name}": "artifacts" must be a list')
        return [_object(a, f'artifact "{name}" entry') for a in listed]

    def _output_annotation(self, name: str) -> Any:
        if name in self.annotations:
            return self.annotations[name]
        ret = self.return_annotation
        if ta.is_named_tuple(ret):
            return ret.__annotations__.get(name)
        return ret if name == 'Output' else None

    def _assign_input_and_output_artifacts(self) -> None:
        in_section = _object(self._inputs.get('artifacts'), 'executor input "inputs.artifacts"')
        for name in in_section:
            runtime = self._runtime_artifacts(in_section, name)
            if not runtime:
                continue
            annotation = ta.strip_io_marker(ta.strip_optional(self.annotations.get(name)))
            item_type = ta.list_item_type(annotation)
            if item_type is not None:
                self.input_artifacts[name] = [make_artifact(r, item_type) for r in runtime]
            else:
                self.input_artifacts[name] = make_artifact(runtime[0], _artifact_class_of(annotation))

        out_section = _object(self._outputs.get('artifacts'), 'executor input "outputs.artifacts"')
        for name in out_section:
            runtime = self._runtime_artifacts(out_section, name)
            if not runtime:
                continue
            annotation = ta.strip_io_marker(ta.strip_optional(self._output_annotation(name)))
            item_type = ta.list_item_type(annotation)
            if item_type is not None:
                artifacts = [make_artifact(r, item_type) for r in runtime]
                self.output_artifacts[name] = artifacts
            else:
                artifacts = [make_artifact(runtime[0], _artifact_class_of(annotation))]
                self.output_artifacts[name] = artifacts[0]
            for artifact in artifacts:
                _make_parent_dirs(artifact.path)

    def get_input_artifact(self, name: str) -> Optional[Any]:
        return self.input_artifacts.get(name)

    def get_output_artifact(self, name: str) -> Optional[Artifact]:
        return self.output_artifacts.get(name)

    def get_input_parameter_value(self, name: str) -> Any:
        values = _object(self._inputs.get('parameterValues'), 'executor input "inputs.parameterValues"')
        return values.get(name)

    def get_output_parameter_path(self, name: str) -> Optional[str]:
        parameters = _object(self._outputs.get('parameters'), 'executor input "outputs.parameters"')
        parameter = _object(parameters.get(name), f'output parameter "{name}"')
        path = parameter.get('outputFile')
        if path:
            _make_parent_dirs(path)
        return path

    def get_output_artifact_path(self, name: str) -> str:
        artifact = self.output_artifacts.get(name)
        if artifact is None:
            raise ExecutorError(f'executor input has no output artifact "{name}"')
        if isinstance(artifact, list):
            raise ExecutorError(f'output artifact "{name}" is a list of artifacts and has no single path')
        return artifact.path

    def get_input_artifact_path(self, name: str) -> str:
        artifact = self.input_artifacts.get(name)
        if artifact is None:
            raise ExecutorError(f'executor input has no input artifact "{name}"')
        return artifact.path

    # ---- building arguments --------------------------------------------------------------

    def _final_status(self, name: str) -> PipelineTaskFinalStatus:
        value = _object(self.get_input_parameter_value(name), f'input parameter "{name}"')
        error = _object(value.get('error'), f'input parameter "{name}" error')

        def first(*keys):
            for key in keys:
                if value.get(key) is not None:
                    return value.get(key)
            return None

        return PipelineTaskFinalStatus(
            state=value.get('state'),
            pipeline_job_resource_name=first('pipelineJobResourceName', 'pipeline_job_resource_name'),
            pipeline_task_name=first('pipelineTaskName', 'pipeline_task_name'),
            error_code=error.get('code'),
            error_message=error.get('message'),
        )

    def _task_config(self, name: str) -> TaskConfig:
        value = _object(self.get_input_parameter_value(name), f'input parameter "{name}"')
        return TaskConfig(
            affinity=value.get('affinity'),
            tolerations=value.get('tolerations'),
            node_selector=value.get('nodeSelector'),
            env=value.get('env'),
            volumes=value.get('volumes'),
            volume_mounts=value.get('volumeMounts'),
            resources=value.get('resources'),
        )

    def _embedded_input(self, annotation: Any) -> Artifact:
        inner = ta.strip_io_marker(annotation)
        cls = inner if ta.is_artifact_type(inner) else Artifact
        globals_ = getattr(self.func, '__globals__', {})
        asset = globals_.get('__KFP_EMBEDDED_ASSET_FILE') or globals_.get('__KFP_EMBEDDED_ASSET_DIR')
        if not asset:
            raise ExecutorError('EmbeddedInput was specified but no embedded asset was found at runtime.')
        artifact = cls(uri=asset)
        artifact.path = asset
        return artifact

    def _argument(self, name: str, annotation: Any, kwargs: Dict[str, Any]) -> None:
        a = ta.strip_optional(annotation)
        marker = ta.io_marker(a)
        if a is PipelineTaskFinalStatus:
            kwargs[name] = self._final_status(name)
        elif a is TaskConfig:
            kwargs[name] = self._task_config(name)
        elif marker is None and ta.list_item_type(a) is not None:
            kwargs[name] = self.get_input_artifact(name)
        elif ta.is_parameter(a) or annotation is inspect.Parameter.empty:
            value = self.get_input_parameter_value(name)
            if value is not None:
                kwargs[name] = coerce_parameter(name, value, a)
        elif marker is ta.InputAnnotation:
            kwargs[name] = self.get_input_artifact(name)
        elif marker is ta.OutputAnnotation:
            kwargs[name] = self.get_output_artifact(name)
        elif marker is ta.EmbeddedInputAnnotation:
            kwargs[name] = self._embedded_input(a)
        elif ta.is_artifact_type(a):
            kwargs[name] = self.get_input_artifact(name)
        elif isinstance(a, ta.OutputPath):
            if ta.is_parameter(a.type):
                kwargs[name] = self.get_output_parameter_path(name)
            else:
                kwargs[name] = self.get_output_artifact_path(name)
        elif isinstance(a, ta.InputPath):
            kwargs[name] = self.get_input_artifact_path(name)
        else:
            value = self.get_input_parameter_value(name)
            if value is not None:
                kwargs[name] = value

    def build_arguments(self) -> Dict[str, Any]:
        kwargs: Dict[str, Any] = {}
        for name, param in inspect.signature(self.func).parameters.items():
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            self._argument(name, self.annotations.get(name, inspect.Parameter.empty), kwargs)
        return kwargs

    # ---- writing outputs -----------------------------------------------------------------

    def _write_output_parameter_value(self, name: str, value: Any) -> None:
        text = serialize_parameter(value)
        self.executor_output.setdefault('parameterValues', {})[name] = value
        path = self.get_output_parameter_path(name)
        if path:
            with open(path, 'w') as f:
                f.write(text)

    def _write_output_artifact_payload(self, name: str, value: Any) -> None:
        path = self.get_output_artifact_path(name)
        with open(path, 'w') as f:
            f.write(str(value))

    def _handle_single_return_value(self, output_name: str, annotation: Any, value: Any) -> None:
        annotation = ta.strip_optional(annotation)
        if ta.is_parameter(annotation):
            origin = ta.parameter_python_type(annotation) or dict
            accepted = (int, float) if origin is float else origin
            if not isinstance(value, accepted):
                raise ValueError(
                    f'Function `{self.func.__name__}` returned value of type {type(value)}; want type {origin}')
            self._write_output_parameter_value(output_name, value)
        elif ta.is_artifact_type(annotation):
            if isinstance(value, Artifact):
                self.output_artifacts[output_name] = value
            else:
                self._write_output_artifact_payload(output_name, value)
        else:
            raise RuntimeError(
                f'Unknown return type: {annotation}. Must be one of the supported data types: '
                'https://www.kubeflow.org/docs/components/pipelines/v2/data-types/')

    def write_executor_output(self, func_output: Optional[Any] = None) -> Optional[str]:
        ret = self.return_annotation
        if func_output is not None:
            if ta.is_parameter(ta.strip_optional(ret)) or ta.is_artifact_type(ta.strip_optional(ret)):
                self._handle_single_return_value('Output', ret, func_output)
            elif ta.is_named_tuple(ret):
                fields = ret._fields
                if not hasattr(func_output, '__len__') or len(fields) != len(func_output):
                    got = len(func_output) if hasattr(func_output, '__len__') else 'a non-sequence'
                    raise RuntimeError(
                        f'Expected {len(fields)} return values from function `{self.func.__name__}`, got {got}')
                for i, field in enumerate(fields):
                    field_value = func_output[i] if type(func_output) is tuple else getattr(func_output, field)
                    self._handle_single_return_value(field, ret.__annotations__[field], field_value)
            else:
                raise RuntimeError(
                    f'Unknown return type: {ret}. Must be one of `str`, `int`, `float`, a subclass of '
                    '`Artifact`, or a NamedTuple collection of these types.')

        if self.output_artifacts:
            self.executor_output['artifacts'] = {}
        for name, value in self.output_artifacts.items():
            listed = value if isinstance(value, list) else [value]
            runtime_artifacts = []
            for artifact in listed:
                if not isinstance(artifact, Artifact):
                    raise ExecutorError(
                        f'output artifact "{name}" holds {type(artifact).__name__}, not an artifact')
                runtime_artifact = {'name': artifact.name, 'uri': artifact.uri, 'metadata': artifact.metadata}
                if getattr(artifact, 'custom_path', None):
                    _copy_custom_path(name, artifact)
                    runtime_artifact['custom_path'] = artifact.custom_path
                runtime_artifacts.append(runtime_artifact)
            self.executor_output['artifacts'][name] = {'artifacts': runtime_artifacts}

        # Only the chief of a distributed strategy writes the executor output.
        cluster_spec = os.environ.get('CLUSTER_SPEC')
        if cluster_spec:
            try:
                task_type = json.loads(cluster_spec)['task']['type']
            except (ValueError, KeyError, TypeError) as e:
                raise ExecutorError(f'CLUSTER_SPEC is not a valid cluster spec: {e}') from e
            if task_type not in {'workerpool0', 'chief', 'master'}:
                return None

        try:
            text = json.dumps(_finite(self.executor_output), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ExecutorError(f'the outputs of `{self.func.__name__}` cannot be written as JSON: {e}') from e
        _make_parent_dirs(self.executor_output_path)
        temp = f'{self.executor_output_path}.{os.getpid()}.tmp'
        with open(temp, 'w') as f:
            f.write(text)
        os.replace(temp, self.executor_output_path)
        return self.executor_output_path

    def execute(self) -> Optional[str]:
        kwargs = self.build_arguments()
        result = self.func(**kwargs)
        return self.write_executor_output(result)


# ---- helpers -------------------------------------------------------------------------------

def _artifact_class_of(annotation: Any):
    if ta.is_artifact_type(annotation):
        return annotation
    if isinstance(annotation, (ta.InputPath, ta.OutputPath)) and isinstance(annotation.type, str):
        title = annotation.type.split('@')[0]
        return artifact_types._SCHEMA_TITLE_TO_TYPE.get(title, Artifact)
    return Artifact


def make_artifact(runtime_artifact: Dict, fallback_cls=Artifact) -> Any:
    """Creates the artifact object for a runtime artifact of the executor input."""
    type_ = runtime_artifact.get('type')
    title = type_.get('schemaTitle', '') if isinstance(type_, dict) else ''
    cls = artifact_types._SCHEMA_TITLE_TO_TYPE.get(title, fallback_cls)
    uri = runtime_artifact.get('uri') or ''
    name = runtime_artifact.get('name') or ''
    metadata = runtime_artifact.get('metadata') or {}
    if not isinstance(uri, str) or not isinstance(name, str) or not isinstance(metadata, dict):
        raise ExecutorError(
            f'runtime artifact {runtime_artifact!r} must have a string "uri", a string "name" and an object "metadata"')
    if hasattr(cls, '_from_executor_fields'):
        return cls._from_executor_fields(uri=uri, name=name, metadata=metadata)
    return cls(uri=uri, name=name, metadata=metadata)


def _copy_custom_path(name: str, artifact: Artifact) -> None:
    """Puts what the component wrote at its custom path where the artifact's
    URI points, as KFP's launcher uploads it from there."""
    source = artifact.custom_path
    target = artifact_types.uri_to_local_path(artifact.uri)
    if not target or not os.path.exists(source):
        return
    if os.path.abspath(source) == os.path.abspath(target):
        return
    try:
        _make_parent_dirs(target)
        if os.path.isdir(source):
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    except OSError as e:
        raise ExecutorError(
            f'output artifact "{name}": cannot copy its custom path {source} to {target}: {e}') from e


def _make_parent_dirs(path: str) -> None:
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)


_TRUE = {'true', '1', 'yes'}
_FALSE = {'false', '0', 'no'}


def coerce_parameter(name: str, value: Any, annotation: Any) -> Any:
    value = _coerce_top(name, value, annotation)
    return _coerce_numbers_inside(value, annotation)


def _coerce_numbers_inside(value: Any, annotation: Any) -> Any:
    """Inside ``List[int]``, ``Dict[str, float]`` and the like, integral floats
    become ints and ints become floats, as the annotation asks."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and len(args) == 1 and isinstance(value, list):
        return [_coerce_number(_coerce_numbers_inside(v, args[0]), args[0]) for v in value]
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return {k: _coerce_number(_coerce_numbers_inside(v, args[1]), args[1]) for k, v in value.items()}
    return value


def _coerce_number(value: Any, annotation: Any) -> Any:
    if isinstance(value, bool):
        return value
    if annotation is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if annotation is float and isinstance(value, int):
        return float(value)
    return value


def _coerce_top(name: str, value: Any, annotation: Any) -> Any:
    """Converts an input parameter value to the type its annotation asks for.

    Numbers travel as JSON numbers (an integer may arrive as ``2.0``), and a
    value produced by another task may arrive as its text form. Text that does
    not parse as the wanted number or JSON is an ``ExecutorError``; any other
    mismatch is passed on as it is, as KFP does."""
    target = ta.parameter_python_type(annotation)
    if target is None or isinstance(value, target) and not (target is int and isinstance(value, bool)):
        return value
    try:
        if target is int:
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                return int(value.strip())
        elif target is float:
            if isinstance(value, (int, str)) and not isinstance(value, bool):
                return float(value)
        elif target is bool:
            if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                return value.strip().lower() in _TRUE
            if isinstance(value, (int, float)):
                return bool(value)
        elif target in (list, dict) and isinstance(value, str):
            parsed = json.loads(value)
            if isinstance(parsed, target):
                return parsed
        elif target is str and isinstance(value, (int, float, bool)):
            return value
    except ValueError as e:
        raise ExecutorError(
            f'input parameter "{name}" should be {target.__name__}, got {value!r}') from e
    return value


def serialize_parameter(value: Any) -> str:
    """The text form of an output parameter, as written to its outputFile."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, list, dict)):
        return json.dumps(_finite(value), allow_nan=False)
    if isinstance(value, (int, float)):
        return str(value)
    raise ValueError(
        f'Unable to serialize unknown type `{value}` for parameter input with value `{type(value)}`')


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinities; they are written as protobuf's JSON form
    writes them ("NaN", "Infinity", "-Infinity")."""
    if isinstance(value, float) and not math.isfinite(value):
        return 'NaN' if math.isnan(value) else ('Infinity' if value > 0 else '-Infinity')
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
