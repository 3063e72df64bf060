"""Decorators of the KFP DSL.

At run time a component module only needs its functions back: each decorator
returns the function itself, marked with ``python_func`` (as KFP's component
objects have), so it stays callable and the executor can find it.
"""
import functools
from typing import Callable, Optional


def _keep(func: Callable, options: dict) -> Callable:
    func.python_func = func
    func.component_options = dict(options)
    return func


def _decorator(func: Optional[Callable], options: dict):
    if func is None:
        return functools.partial(_decorator, options=options)
    if not callable(func):
        raise TypeError(f'expected a function to decorate, got {func!r}')
    return _keep(func, options)


def component(func: Optional[Callable] = None, **options):
    """``@dsl.component`` / ``@dsl.component(base_image=..., packages_to_install=[...])``."""
    return _decorator(func, options)


def container_component(func: Optional[Callable] = None, **options):
    """``@dsl.container_component``."""
    return _decorator(func, options)


def notebook_component(func: Optional[Callable] = None, **options):
    """``@dsl.notebook_component``."""
    return _decorator(func, options)


def pipeline(func: Optional[Callable] = None, **options):
    """``@dsl.pipeline``; pipelines are not compiled or run by this runtime."""
    return _decorator(func, options)
