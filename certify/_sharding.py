r"""Placement of a batch over devices: a 1-D mesh, padded sharded inputs, gathered outputs.

Every batched kernel of the sampled bounds and the sweeps is ``jit(shard_map(vmap(f)))`` over a
:class:`jax.sharding.Mesh` whose single axis ``"batch"`` spans the devices: the batch is padded to
a multiple of the device count (repeating the last item, which changes no minimum or maximum),
each device runs the same per-item code on its slice, and the padding is dropped. Items never
interact, so results equal the single-device ones. With :func:`jax.distributed.initialize`
called first, the mesh spans the devices of all processes, inputs are placed with
:func:`jax.make_array_from_callback` (each process supplies its own shards of the same host batch)
and outputs are gathered with ``multihost_utils.process_allgather``.

References:
  JAX authors, `Distributed arrays and automatic parallelization
  <https://docs.jax.dev/en/latest/notebooks/Distributed_arrays_and_automatic_parallelization.html>`_.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "batch"
"""The mesh axis the batch is sharded over."""


def make_mesh(devices=None) -> Mesh:
    """A 1-D mesh with axis ``"batch"`` over ``devices`` (default: all devices of all processes).

    Raises:
      ValueError: for an empty list of devices.

    Examples:
      >>> make_mesh().axis_names
      ('batch',)
    """
    devs = list(jax.devices() if devices is None else devices)
    if not devs:
        raise ValueError("expected at least one device, got none")
    return Mesh(np.array(devs), (AXIS,))


def put(x: np.ndarray, mesh: Mesh):
    """Pads the leading axis to a multiple of the mesh size (repeating the last item) and shards it."""
    x = np.asarray(x)
    pad = (-x.shape[0]) % mesh.devices.size
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)], axis=0)
    sharding = NamedSharding(mesh, P(AXIS))
    return jax.make_array_from_callback(x.shape, sharding, lambda idx: x[idx])


def fetch(y, n: int) -> np.ndarray:
    """The first ``n`` items of a sharded output as one host array (gathered from all processes)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        y = multihost_utils.process_allgather(y, tiled=True)
    return np.asarray(y)[:n]


def sharded(fn, mesh: Mesh, n_in: int, n_shared: int = 0):
    """``jit(shard_map(vmap(fn)))``: ``n_in`` batched arguments, then ``n_shared`` ones every item shares."""
    spec = P(AXIS)
    in_axes = (0,) * n_in + (None,) * n_shared
    # check_vma=False: per-item code has no collectives; constants inside loops need no pcast.
    return jax.jit(jax.shard_map(jax.vmap(fn, in_axes=in_axes), mesh=mesh,
                                 in_specs=(spec,) * n_in + (P(),) * n_shared, out_specs=spec, check_vma=False))
