"""``python3 -m kfp.dsl.executor_main``: the entry point of a lightweight component step.

Arguments, as KFP's compiler writes them::

    --component_module_path <file.py>   the component's source
    --executor_input <json>             the ExecutorInput message ({{$}})
    --function_to_execute <name>        the function in that module

Without ``--component_module_path`` the module is looked up in the
``[Components]`` section of ``kfp_config.ini`` in the working directory, as for
KFP's containerized Python components.

A problem with these inputs is reported on stderr in one line starting with
``KFP executor error:`` and exits with status 1; an exception raised by the
component itself propagates with its traceback (also status 1).
"""
import argparse
import configparser
import importlib.util
import json
import logging
import os
import sys

from kfp.dsl import executor as component_executor
from kfp.dsl.executor import ExecutorError


def _setup_logging() -> None:
    logging.basicConfig(
        stream=sys.stdout,
        format='[KFP Executor %(asctime)s %(levelname)s]: %(message)s',
        level=logging.INFO)


def _module_from_config(func_name: str) -> str:
    config_path = os.path.join(os.getcwd(), 'kfp_config.ini')
    if not os.path.isfile(config_path):
        raise ExecutorError(
            '--component_module_path is not given and there is no kfp_config.ini in ' + os.getcwd())
    config = configparser.ConfigParser()
    config.optionxform = str
    config.read(config_path)
    components = dict(config['Components']) if config.has_section('Components') else {}
    if not components:
        raise ExecutorError('No components found in `kfp_config.ini`')
    if func_name not in components:
        raise ExecutorError(
            f'Could not find component `{func_name}` in `kfp_config.ini`. Found the following components '
            f'instead: {sorted(components)}')
    return components[func_name]


def load_module(module_path: str):
    """Loads the component's source file as a module, with its folder on sys.path."""
    if not module_path.endswith('.py'):
        raise ExecutorError(f'component module path must name a .py file: {module_path}')
    if not os.path.isfile(module_path):
        raise ExecutorError(f'component module file not found: {module_path}')
    module_directory = os.path.dirname(os.path.abspath(module_path))
    module_name = os.path.basename(module_path)[:-len('.py')]
    spec = importlib.util.spec_from_file_location(module_name, module_path)
    if spec is None or spec.loader is None:
        raise ExecutorError(f'cannot load the component module {module_path}')
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, module_directory)
    spec.loader.exec_module(module)
    return module


def _parse_executor_input(text) -> dict:
    if text is None:
        raise ExecutorError('--executor_input is required')
    try:
        value = json.loads(text)
    except ValueError as e:
        shown = text if len(text) <= 200 else text[:200] + '...'
        raise ExecutorError(f'--executor_input is not valid JSON ({e}): {shown!r}') from e
    if not isinstance(value, dict):
        raise ExecutorError(f'--executor_input must be a JSON object, got {type(value).__name__}')
    return value


def _find_function(module, func_name: str, module_path: str):
    func = getattr(module, func_name, None)
    if func is None or not callable(func):
        defined = sorted(
            name for name, value in vars(module).items()
            if callable(getattr(value, 'python_func', value)) and not name.startswith('_')
            and getattr(getattr(value, 'python_func', value), '__module__', None) == module.__name__)
        raise ExecutorError(
            f'function `{func_name}` not found in component module {module_path}; '
            f'functions defined there: {", ".join(defined) or "none"}')
    return func


def executor_main(argv=None) -> None:
    _setup_logging()
    parser = argparse.ArgumentParser(description='KFP Component Executor (Capstan offline runtime).')
    parser.add_argument('--component_module_path', type=str,
                        help='Path to a module containing the KFP component.')
    parser.add_argument('--function_to_execute', type=str, required=True,
                        help='The name of the component function in --component_module_path.')
    parser.add_argument('--executor_input', type=str,
                        help='JSON-serialized ExecutorInput from the orchestrator.')
    args, _ = parser.parse_known_args(argv)

    func_name = args.function_to_execute
    try:
        executor_input = _parse_executor_input(args.executor_input)
        module_path = args.component_module_path or _module_from_config(func_name)
        logging.info(f'Loading KFP component "{func_name}" from {module_path}')
        module = load_module(module_path)
        function_to_execute = _find_function(module, func_name, module_path)
        executor = component_executor.Executor(
            executor_input=executor_input, function_to_execute=function_to_execute)
        executor.execute()
    except ExecutorError as e:
        print(f'KFP executor error: {e}', file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == '__main__':
    executor_main()
