"""Capstan's offline implementation of the KFP v2 Python component runtime.

This package stands in for the ``kfp`` distribution inside steps that Capstan
runs locally. It implements only what a compiled lightweight component needs
at run time: the ``kfp.dsl`` names its source imports, and
``python3 -m kfp.dsl.executor_main``, which calls the component function with
arguments built from the executor input and writes its outputs. It needs no
package outside the standard library. Compiling pipelines, the client and the
pipeline-definition DSL are not part of it.
"""
import sys as _sys

if _sys.version_info < (3, 9):
    raise ImportError(
        "Capstan's KFP runtime needs Python 3.9 or newer; this is Python "
        + _sys.version.split()[0])

# The KFP SDK release whose runtime contract this package follows.
__version__ = '2.14.3'
# Lets component code tell this runtime from the real SDK.
CAPSTAN_RUNTIME = True
TYPE_CHECK = True

from kfp import dsl  # noqa: E402  (so that ``import kfp; kfp.dsl.X`` works)

__all__ = ['dsl']
