"""Test configuration: float64 and strict rank promotion, as the certificate math needs.

Tests never write to the user's compilation cache: the CLI's persistent cache is off unless a
test turns it on (with its own folder) explicitly.
"""

import os

import jax

os.environ.setdefault("SGN_COMPILATION_CACHE", "off")
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
