"""Input/output annotations of component functions and helpers to read them."""
import typing
from typing import Annotated, Any, List, TypeVar, Union

from kfp.dsl.types import artifact_types

T = TypeVar('T')


class InputAnnotation:
    """Marks ``Input[T]``."""


class OutputAnnotation:
    """Marks ``Output[T]``."""


class EmbeddedInputAnnotation:
    """Marks ``EmbeddedInput[T]``."""


Input = Annotated[T, InputAnnotation]
Output = Annotated[T, OutputAnnotation]
EmbeddedInput = Annotated[T, EmbeddedInputAnnotation]

# Parameter type names, lower-case, as KFP's type utilities know them.
PARAMETER_TYPE_NAMES = {
    'integer': int, 'int': int,
    'double': float, 'float': float,
    'string': str, 'str': str, 'text': str,
    'bool': bool, 'boolean': bool,
    'dict': dict, 'jsonobject': dict,
    'list': list, 'jsonarray': list,
}

ARTIFACT_CLASS_NAMES = {
    cls.__name__.lower(): cls
    for cls in artifact_types._SCHEMA_TITLE_TO_TYPE.values()
}


def _bundled(cls) -> str:
    return f'{cls.schema_title}@{cls.schema_version}'


def _type_for_path_annotation(type_: Any) -> Any:
    if is_artifact_class(type_):
        return _bundled(type_)
    if isinstance(type_, str) and type_.lower() in ARTIFACT_CLASS_NAMES:
        return _bundled(ARTIFACT_CLASS_NAMES[type_.lower()])
    if parameter_python_type(type_) is not None:
        return type_
    return _bundled(artifact_types.Artifact)


class OutputPath:
    """``OutputPath(T)``: the function receives a local path to write the
    output to; a parameter type gives a parameter, anything else an artifact."""

    def __init__(self, type=None):
        self.type = _type_for_path_annotation(type)

    def __eq__(self, other):
        return isinstance(other, OutputPath) and self.type == other.type

    def __hash__(self):
        return hash((OutputPath, str(self.type)))

    def __repr__(self):
        return f'OutputPath({self.type!r})'


class InputPath:
    """``InputPath(T)``: the function receives the local path of an input
    artifact."""

    def __init__(self, type=None):
        self.type = _type_for_path_annotation(type)

    def __eq__(self, other):
        return isinstance(other, InputPath) and self.type == other.type

    def __hash__(self):
        return hash((InputPath, str(self.type)))

    def __repr__(self):
        return f'InputPath({self.type!r})'


def short_type_name(type_name: str) -> str:
    """``typing.List[int]`` -> ``List``; ``str`` -> ``str``."""
    name = type_name
    if name.startswith('typing.'):
        name = name[len('typing.'):]
    return name.split('[', 1)[0]


def parameter_python_type(annotation: Any):
    """The Python type of a parameter annotation (``str``, ``int``, ``float``,
    ``bool``, ``dict`` or ``list``), or ``None`` when it is not a parameter."""
    if annotation in (str, int, float, bool, dict, list):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (dict, list):
        return origin
    if origin is not None:
        return None
    if isinstance(annotation, type):
        return None
    if isinstance(annotation, dict) and annotation:
        # v1 structured types such as {'JsonObject': {...}}
        annotation = next(iter(annotation))
    if isinstance(annotation, str):
        return PARAMETER_TYPE_NAMES.get(short_type_name(annotation).lower())
    # typing.List / typing.Dict without arguments
    return PARAMETER_TYPE_NAMES.get(short_type_name(str(annotation)).lower())


def is_parameter(annotation: Any) -> bool:
    from kfp.dsl.task_final_status import PipelineTaskFinalStatus
    from kfp.dsl.task_config import TaskConfig
    if annotation in (PipelineTaskFinalStatus, TaskConfig):
        return True
    return parameter_python_type(annotation) is not None


def is_artifact_class(obj: Any) -> bool:
    return hasattr(obj, 'schema_title') and hasattr(obj, 'schema_version')


def is_artifact_type(annotation: Any) -> bool:
    """True for an artifact class such as ``Dataset`` (not an instance)."""
    return isinstance(annotation, type) and is_artifact_class(annotation)


def strip_optional(annotation: Any) -> Any:
    """``Optional[X]`` -> ``X``; anything else unchanged."""
    if typing.get_origin(annotation) is Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def io_marker(annotation: Any):
    """The marker class of ``Input[T]``/``Output[T]``/``EmbeddedInput[T]``, or None."""
    metadata = getattr(annotation, '__metadata__', None)
    if not metadata:
        return None
    marker = metadata[0]
    if marker in (InputAnnotation, OutputAnnotation, EmbeddedInputAnnotation):
        return marker
    return None


def strip_io_marker(annotation: Any) -> Any:
    """``Input[T]`` -> ``T``; anything else unchanged."""
    if io_marker(annotation) is not None:
        return annotation.__origin__
    return annotation


def list_item_type(annotation: Any):
    """The artifact class of ``List[T]``/``list[T]`` when ``T`` is an artifact
    class, else None. Nested lists are unwrapped."""
    if typing.get_origin(annotation) not in (list, List):
        return None
    args = typing.get_args(annotation)
    if len(args) != 1:
        return None
    inner = args[0]
    if typing.get_origin(inner) in (list, List):
        return list_item_type(inner)
    return inner if is_artifact_type(inner) else None


def is_named_tuple(annotation: Any) -> bool:
    return (isinstance(annotation, type) and issubclass(annotation, tuple)
            and hasattr(annotation, '_fields')
            and hasattr(annotation, '__annotations__'))
