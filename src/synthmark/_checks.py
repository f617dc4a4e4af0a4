"""Shared argument checks. Errors say "name: expected X, got Y" and never convert silently."""

from __future__ import annotations

import numpy as np

from .errors import InvalidArgumentError, InvalidTypeError

PAYLOAD_BITS = 64


def check_payload(payload) -> int:
    if isinstance(payload, bool) or not isinstance(payload, (int, np.integer)):
        raise InvalidTypeError(f"payload: expected an int in [0, 2**64), got {type(payload).__name__}")
    payload = int(payload)
    if not 0 <= payload < (1 << PAYLOAD_BITS):
        raise InvalidArgumentError(f"payload: expected an int in [0, 2**64), got {payload}")
    return payload


def check_array(arr, name: str, *, dtypes: tuple, ndims: tuple) -> np.ndarray:
    if not isinstance(arr, np.ndarray):
        raise InvalidTypeError(f"{name}: expected a numpy array, got {type(arr).__name__}")
    if arr.dtype not in dtypes:
        want = " or ".join(str(np.dtype(d)) for d in dtypes)
        raise InvalidTypeError(f"{name}: expected {want} array, got {arr.dtype}")
    if arr.ndim not in ndims:
        raise InvalidArgumentError(f"{name}: expected {' or '.join(map(str, ndims))}-D array, got shape {arr.shape}")
    return arr


def check_writable(arr: np.ndarray, name: str) -> None:
    if not arr.flags.writeable:
        raise InvalidArgumentError(f"{name}: array is read-only; pass a writable array (marking works in place)")


def check_rows_contiguous(arr: np.ndarray, name: str) -> None:
    """Pixels within a row must be contiguous; any row pitch is accepted (padded planes)."""
    item = arr.itemsize
    inner = item if arr.ndim == 2 else item * arr.shape[2]
    if arr.ndim == 3 and arr.strides[2] != item:
        raise InvalidArgumentError(f"{name}: channels must be interleaved contiguously (strides {arr.strides})")
    if arr.shape[1] > 1 and arr.strides[1] != inner:
        raise InvalidArgumentError(f"{name}: pixels within a row must be contiguous (strides {arr.strides})")
    if arr.shape[0] > 1 and arr.strides[0] < inner * arr.shape[1]:
        raise InvalidArgumentError(f"{name}: rows overlap or run backwards (strides {arr.strides})")


def check_probability(value, name: str) -> float:
    """A real number in (0, 1) (ints and numpy floats too; bools and strings are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"{name}: expected a probability (float) in (0, 1), got {type(value).__name__}")
    if not 0.0 < float(value) < 1.0:
        raise InvalidArgumentError(f"{name}: expected a probability in (0, 1), got {value!r}")
    return float(value)


def check_iterable(value, name: str, what: str = "frames"):
    """An iterator over ``value``; InvalidTypeError (not a bare TypeError from a for loop) otherwise."""
    if isinstance(value, (str, bytes)):
        raise InvalidTypeError(f"{name}: expected an iterable of {what}, got {type(value).__name__}")
    try:
        return iter(value)
    except TypeError:
        raise InvalidTypeError(f"{name}: expected an iterable of {what}, got {type(value).__name__}") from None
