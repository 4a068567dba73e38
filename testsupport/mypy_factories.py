"""A mypy plugin: calling a factory_boy factory gives the model it makes.

factory_boy's ``Factory`` is generic in its model (``DjangoModelFactory[Member]``) and types
``create()`` and ``build()`` by it, but ``MemberFactory()`` goes through a metaclass
``__call__``, which mypy does not read: without this plugin the call would be typed as the
factory itself. Used by mypy only (pyproject.toml); nothing imports it at run time.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import TypeInfo
from mypy.plugin import FunctionContext, Plugin
from mypy.types import Instance, Type, get_proper_type

BASE_FACTORY = "factory.base.BaseFactory"


class FactoryCallPlugin(Plugin):
    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        symbol = self.lookup_fully_qualified(fullname)
        if symbol is not None and isinstance(symbol.node, TypeInfo) and symbol.node.has_base(BASE_FACTORY):
            return model_of_factory
        return None


def model_of_factory(ctx: FunctionContext) -> Type:
    """The factory's model (its ``BaseFactory`` type argument), when the factory names one."""
    made = get_proper_type(ctx.default_return_type)
    if not isinstance(made, Instance):
        return ctx.default_return_type
    base = next(info for info in made.type.mro if info.fullname == BASE_FACTORY)
    model = map_instance_to_supertype(made, base).args[0]
    return model if isinstance(get_proper_type(model), Instance) else ctx.default_return_type


def plugin(version: str) -> type[Plugin]:
    return FactoryCallPlugin
