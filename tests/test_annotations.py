"""The contract, cache and claims APIs carry type annotations that resolve (a contributor's editor reads them)."""

import inspect
import typing

import pytest

from memo_utils.framework import cache, chapter, claims

API = [
    *[
        f
        for n, f in vars(chapter.Chapter).items()
        if inspect.isfunction(f) and f.__name__ == n and not n.startswith("_")
    ],
    *[getattr(chapter.Results, n) for n, f in vars(chapter.Results).items() if callable(f) and n != "__init__"],
    chapter.cell_id,
    *[
        f
        for n, f in vars(cache).items()
        if inspect.isfunction(f) and not n.startswith("_") and f.__module__ == cache.__name__
    ],
    *[
        claims.above,
        claims.below,
        claims.differs,
        claims.within,
        claims.across,
        claims.interval,
        claims.judge,
        claims.save,
        claims.to_markdown,
    ],
]
TYPES = [chapter.Param, chapter.Part, chapter.Chapter, cache.Result, claims.Evidence, claims.Claim, claims.Estimate]


@pytest.mark.parametrize("function", API, ids=lambda f: f.__qualname__)
def test_every_public_function_of_the_api_is_annotated(function):
    hints = typing.get_type_hints(function)
    parameters = [p for p in inspect.signature(function).parameters if p != "self"]
    assert "return" in hints and all(p in hints for p in parameters), (sorted(hints), parameters)


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
def test_every_field_of_the_apis_types_is_annotated(cls):
    assert typing.get_type_hints(cls)  # resolves: no name is missing
