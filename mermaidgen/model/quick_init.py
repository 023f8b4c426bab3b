"""A faster `__init__` for frozen, slotted dataclasses (the model's records).

The `__init__` that `@dataclass(frozen=True)` writes sets each field with
`object.__setattr__(self, "name", value)`, which looks the slot up by name on every call:
a `Span` took 0.9 us to build and a `Message` 1.3 us, a fifth of a 10,000-message parse.
The `__init__` written here sets the same slots through their descriptors, held in its
closure (0.3 us for a `Span`). It has the dataclass's own signature, defaults and default
factories; everything else (frozen `__setattr__`, `__eq__`, `__hash__`, `__repr__`,
`dataclasses.replace`) stays the dataclass's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_NO_DEFAULT = object()


def quicken(*classes: type) -> None:
    """Give each frozen, slotted dataclass in `classes` the faster `__init__`."""
    for cls in classes:
        cls.__init__ = _init_for(cls)  # type: ignore[misc]


def _init_for(cls: type) -> Any:
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.frozen or "__slots__" not in cls.__dict__ or params.init is False:
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass with __init__")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__, which this __init__ skips")
    namespace: dict[str, Any] = {"_NO_DEFAULT": _NO_DEFAULT}
    params_src, body = [], []
    for f in dataclasses.fields(cls):
        if not f.init:
            raise TypeError(f"{cls.__name__}.{f.name} is not an __init__ field")
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        value = f.name
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params_src.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            params_src.append(f"{f.name}=_NO_DEFAULT")
            value = f"_factory_{f.name}() if {f.name} is _NO_DEFAULT else {f.name}"
        else:
            params_src.append(f.name)
        body.append(f"    _set_{f.name}(self, {value})")
    source = (f"def __init__(self, {', '.join(params_src)}):\n" + "\n".join(body or ["    pass"])
              + "\n")
    exec(source, namespace)  # noqa: S102 - generated from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    return init
