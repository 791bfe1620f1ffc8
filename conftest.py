"""Test configuration: float64 and strict rank promotion, as the certificate math needs.

Tests never write to the user's compilation cache: the CLI's persistent cache is off unless a
test turns it on (with its own folder) explicitly.
"""

import os

import jax

os.environ.setdefault("SGN_COMPILATION_CACHE", "off")
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

import pytest  # noqa: E402

SLOW_DOCTESTS = {
    # Examples that each took 1 s or more on a quiet core (they compile large programs): `make test-slow`.
    "certify.bounds._tabular.fisher_normalised_jacobians",
    "certify.bounds._sound.lipschitz_padded_bounds",
    "certify.bounds._methods.Padded",
    "certify.bounds._methods.Interval",
    "policy.tokens._parts.ClipCov",
    "certify.cli._main.run",
    "policy.tokens._presets.dsdr",
    "policy.tokens._presets.clip_cov",
    "certify.plots.plot_sweep",
    "policy.tabular._curriculum.temperature_curriculum",
    "policy.tabular._qre.solve_qre",
    "certify.bounds._methods.Refine",
    "certify.bounds._sound.refine_block_bounds",
    "certify.sweep.RegionMap",
    "games._matrix.matrix_game",
    "games._neural.from_pytree_losses",
    "certify.sweep.SweepResult.certified_ranges",
    "certify.sweep.sweep_parameter",
    "certify.sweep.SweepResult",
    "certify.bounds._methods.Sampled",
    "policy.tokens._parts.DSDRLocalEntropy",
    "policy.tokens._presets.empo",
    "policy.tabular._learners.optimistic_mwu",
    "policy.tokens._selection.d3s_select_samples",
    "certify.bounds._sound.RefineRecord",
    "certify.bounds._matrix_free.matrix_free_point_estimate",
    "policy.tokens._surrogates.GradientPreservingClip",
    "games._markov.equilibrium_residual",
    "policy.tokens._presets.agentic_ebpo",
    "policy.tokens._parts.SirenAnchor",
    "certify.bounds._matrix_free.matrix_free_region_bounds",
    "policy.tokens._advantages.dsdr_advantages",
    "policy.tokens._parts.EntropyDiscriminatorClip",
    "policy.tokens._presets.siren",
    "games._neural.neural_duel",
    "policy.tokens._presets.dr_grpo",
    "policy.tokens._presets.copo",
    "policy.tokens._selection.lp_reg_proxy_logp",
    "certify.bounds._matrix_free.matrix_free_block_bounds",
}


def pytest_collection_modifyitems(config, items):
    """Marks the doctests named in ``SLOW_DOCTESTS`` ``slow`` (doctests carry no decorators)."""
    for item in items:
        if item.name in SLOW_DOCTESTS:
            item.add_marker(pytest.mark.slow)


def _import_our_modules():
    """Imports every module of the four packages before collection.

    With ``--import-mode=importlib``, ``--doctest-modules`` finds a module that is already in
    ``sys.modules`` and uses it; one that is not yet imported it executes itself, and when that module's
    own imports load the canonical copy first, two copies of its classes exist (``isinstance`` then
    fails in whichever test runs after the doctest). Importing everything first leaves one copy.
    """
    import importlib
    import pkgutil

    for name in ("sgn", "games", "certify", "policy"):
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            if not info.name.endswith(".__main__"):  # `python -m` entry points run when imported
                importlib.import_module(info.name)


_import_our_modules()
