"""Placeholder classes of container components.

They only matter when a pipeline is compiled; here they keep what they were
given so that code which builds them at import time still loads.
"""
import dataclasses
from typing import Any, List, Optional


class ConcatPlaceholder:
    """Concatenates its items into one command-line argument (compile time only)."""

    def __init__(self, items: List[Any]) -> None:
        self.items = list(items)

    def __repr__(self) -> str:
        return f'ConcatPlaceholder(items={self.items!r})'


class IfPresentPlaceholder:
    """Chooses arguments by whether an input is present (compile time only)."""

    def __init__(self, input_name: str, then: Any, else_: Optional[Any] = None) -> None:
        self.input_name = input_name
        self.then = then
        self.else_ = else_

    def __repr__(self) -> str:
        return (f'IfPresentPlaceholder(input_name={self.input_name!r}, '
                f'then={self.then!r}, else_={self.else_!r})')


@dataclasses.dataclass
class ContainerSpec:
    """What a container component runs (compile time only)."""
    image: str
    command: Optional[List[Any]] = None
    args: Optional[List[Any]] = None
