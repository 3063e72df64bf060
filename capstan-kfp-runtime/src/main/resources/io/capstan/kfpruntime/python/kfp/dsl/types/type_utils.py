"""Type-name helpers kept for code that imports them from their KFP location."""
from kfp.dsl.types.type_annotations import is_parameter, parameter_python_type, short_type_name


def is_parameter_type(type_name) -> bool:
    """True when ``type_name`` (a type or a KFP type name) is a parameter type."""
    return parameter_python_type(type_name) is not None


__all__ = ['is_parameter', 'is_parameter_type', 'parameter_python_type', 'short_type_name']
