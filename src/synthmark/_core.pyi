"""Type stubs for the native module synthmark._core (hand-kept; tests/test_core_coding.py checks names)."""

import numpy as np
import numpy.typing as npt

__core_version__: str

class PayloadError(RuntimeError): ...

# ---- coding layer (cpp/bindings/bind_coding.cpp)
def sha256(data: bytes) -> bytes: ...
def hmac_sha256(key: bytes, message: bytes) -> bytes: ...

class KeyedStreams:
    """ChaCha20 keyed by HMAC-SHA256(key, "synthmark/stream/v1/" + purpose); one stream per purpose."""

    def __init__(self, key: bytes) -> None: ...  # len(key) >= 16 else ValueError
    def fill_uint32(self, purpose: str, out: npt.NDArray[np.uint32]) -> None: ...
    def fill_signs(self, purpose: str, out: npt.NDArray[np.float32]) -> None: ...  # +1.0 / -1.0
    def fill_uniform(self, purpose: str, out: npt.NDArray[np.float32]) -> None: ...  # [0, 1)
    def permutation(self, purpose: str, n: int) -> npt.NDArray[np.int32]: ...

class PayloadCode:
    def __init__(
        self, payload_bits: int = 64, crc_bits: int = 32, constraint_length: int = 15, rate_inverse: int = 4
    ) -> None: ...
    @property
    def coded_bits(self) -> int: ...
    @property
    def payload_bits(self) -> int: ...
    @property
    def crc_bits(self) -> int: ...
    @property
    def constraint_length(self) -> int: ...
    @property
    def rate_inverse(self) -> int: ...
    @property
    def generators(self) -> tuple[int, ...]: ...
    def encode(self, payload: int) -> npt.NDArray[np.uint8]: ...
    def decode(self, soft: npt.NDArray[np.float32]) -> tuple[bool, int, float]: ...
    def decode_list(self, soft: npt.NDArray[np.float32], max_list: int) -> tuple[bool, int, float, int]: ...

# ---- explicit labels (cpp/bindings/bind_labels.cpp); all in place, uint8/float32 only, never a copy
def composite_packed(
    frame: npt.NDArray[np.uint8],  # (H, W) or (H, W, C), any row stride
    text_mask: npt.NDArray[np.uint8],
    box_mask: npt.NDArray[np.uint8],
    x: int,
    y: int,
    text_color: list[int],  # C values
    box_color: list[int],
) -> None: ...
def composite_yuv420p(
    y_plane: npt.NDArray[np.uint8],
    u_plane: npt.NDArray[np.uint8],
    v_plane: npt.NDArray[np.uint8],
    text_mask: npt.NDArray[np.uint8],
    box_mask: npt.NDArray[np.uint8],
    x: int,
    y: int,
    text_yuv: list[int],
    box_yuv: list[int],
) -> None: ...
def composite_nv12(
    y_plane: npt.NDArray[np.uint8],
    uv_plane: npt.NDArray[np.uint8],  # (ceil(H/2), ceil(W/2), 2)
    text_mask: npt.NDArray[np.uint8],
    box_mask: npt.NDArray[np.uint8],
    x: int,
    y: int,
    text_yuv: list[int],
    box_yuv: list[int],
) -> None: ...
def mix_prompt(
    audio: npt.NDArray[np.float32],  # (n,), (n, channels) or (channels, n)
    prompt: npt.NDArray[np.float32],  # (p,) mono, contiguous
    offset: int,
    gain: float,
    channels_last: bool = True,
    ceiling: float = 1.0,
    knee: float = 0.9,
) -> int: ...
