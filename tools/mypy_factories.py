"""mypy plugin: ``ProductFactory()`` is a ``Product``.

factory-boy's factories are ``Generic[T]`` (``ModelFactory[Product]``, tests/factory_types.py),
but calling one goes through an unannotated metaclass ``__call__`` that mypy does not read, so
the call types as the factory class and every attribute of the record is an error. This hook
types the call as the factory's ``T``.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import TypeInfo
from mypy.plugin import FunctionContext, Plugin
from mypy.types import AnyType, Instance, Type

BASE = "factory.base.BaseFactory"


def _made(ctx: FunctionContext) -> Type:
    made = ctx.default_return_type
    if isinstance(made, Instance):
        base = next((info for info in made.type.mro if info.fullname == BASE), None)
        if base is not None:
            mapped = map_instance_to_supertype(made, base)
            if mapped.args and not isinstance(mapped.args[0], AnyType):
                return mapped.args[0]
    return made


class FactoriesPlugin(Plugin):
    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        symbol = self.lookup_fully_qualified(fullname)
        node = symbol.node if symbol is not None else None
        return _made if isinstance(node, TypeInfo) and node.has_base(BASE) else None


def plugin(version: str) -> type[Plugin]:
    return FactoriesPlugin
