"""Cause ids evaluated at the end of a pass (``certify/_interval/_causes.py``).

Expected ids follow the module's formula by hand: an input cause ``> 0`` wins, else the operation's
site where one of its flags holds somewhere, else 0; several causes combine by their maximum.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from certify._interval import _causes


def _chain(f, flags_a, flags_b):
    a = _causes.first_of(f, None, [flags_a], 3)  # no input cause: 3 where flags_a holds somewhere
    b = _causes.first_of(f, None, [flags_b], 4)  # 4 where flags_b holds somewhere
    c = _causes.first_of(f, b, [jnp.ones((1,), bool)], 5)  # b's cause if any, else 5 (its flag holds)
    m = _causes.cause_max(f, [a, jnp.asarray(2, jnp.int32), c])  # max(a, 2, c)
    return a, b, c, m


def test_causes_follow_the_formula():
    f = _causes.Flags()
    a, b, c, m = _chain(f, jnp.array([False, True]), jnp.zeros((2, 2), bool))
    d = _causes.first_of(f, a, [jnp.ones((2,), bool)], 6)  # a = 3 > 0 wins over the own site 6
    e = _causes.first_of(f, None, [jnp.zeros(3, bool), jnp.array(True)], 7)  # one of two flags holds: 7
    got = _causes.evaluate(f, [a, b, c, m, d, e, None])
    # a = 3; b = 0 (flag never holds); c = 5 (b = 0); m = max(3, 2, 5) = 5; d = 3; e = 7
    assert [None if g is None else int(g) for g in got] == [3, 0, 5, 5, 3, 7, None]


def test_causes_per_box_under_vmap_and_jit():
    def one(fa, fb):
        f = _causes.Flags()
        return _causes.evaluate(f, list(_chain(f, fa, fb)))

    fa = jnp.array([[False, False], [True, False], [False, False]])
    fb = jnp.array([[[False, False]] * 2, [[False, False]] * 2, [[False, True], [False, False]]])
    got = np.asarray(jax.jit(jax.vmap(one))(fa, fb))
    # box 0: a=0, b=0, c=5, m=5; box 1: a=3, b=0, c=5, m=5; box 2: a=0, b=4, c=4, m=4
    np.testing.assert_array_equal(got.T, [[0, 0, 5, 5], [3, 0, 5, 5], [0, 4, 4, 4]])
