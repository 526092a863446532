"""Factories that declare what they make: ``ModelFactory[Product]``.

factory-boy's factories are generic, but a call goes through an unannotated metaclass
``__call__`` that mypy does not read; with the model declared here, the project's mypy plugin
(``tools/mypy_factories.py``) types ``ProductFactory()`` as a ``Product``.
"""

from __future__ import annotations

from typing import TypeVar

import factory

T = TypeVar("T")


class ModelFactory(factory.django.DjangoModelFactory[T]):
    class Meta:
        abstract = True
