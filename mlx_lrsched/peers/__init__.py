"""Translators from the peer libraries' schedulers: PyTorch, timm, Hugging Face, optax and Keras.

Each takes the peer's scheduler name and the peer's own argument names and returns the mlx-lrsched schedule
that runs it, with the peer's semantics (see each function's docstring for the step mapping and the
deliberate differences).
"""

from .huggingface import from_hf
from .keras import from_keras
from .optax import from_optax
from .pytorch import from_torch
from .timm import from_timm

__all__ = ["from_hf", "from_keras", "from_optax", "from_timm", "from_torch"]
