"""Benchmark: 256-vertex Fisher certification of the cooperative Markov game, and learner throughput.

1. Fisher SGN quantities at the 2^8 vertices of the logit cube (radius 0.1) around the equilibrium:
   one jit-compiled vmap over vertices (ours) against a per-vertex Python loop that builds each
   player's Hessian with ``jax.hessian`` (compiled once, called per vertex) and does the Fisher
   normalisation in numpy (the authors' approach, who loop with autograd). Steady-state times
   (after warm-up) and our first-call (compile) time are reported.
2. NPG iterations per second: vmapped over 1024 random games of the same shape vs one game at a time.

Usage: python benchmarks/markov_certify.py  (writes out/bench_markov.json)
"""

import json
import os
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import games  # noqa: E402
from certify.bounds import fisher_point_quantities, sample_points  # noqa: E402
from games import get_game  # noqa: E402
from games.tabular import split_logits  # noqa: E402
from policy.tabular import npg, run_learner  # noqa: E402


def _loop_certify(game, pts, weights, hessians):
    """Per-vertex loop: one (jit-compiled) jax.hessian per player and vertex, numpy Fisher normalisation."""
    shapes = game.data["logit_shapes"]
    b = game.blocks
    mus, ls, betas = [], [], []
    for th in pts:
        th = jnp.asarray(th)
        rows = [np.asarray(h(th))[b[i]] for i, h in enumerate(hessians)]
        hess = np.concatenate(rows, axis=0)
        invs, roots = [], []
        for z in split_logits(th, shapes):
            p = np.asarray(jax.nn.softmax(z, axis=-1))
            fish = np.zeros((p.size, p.size))
            for s in range(p.shape[0]):
                sl = slice(s * p.shape[1], (s + 1) * p.shape[1])
                fish[sl, sl] = np.diag(p[s]) - np.outer(p[s], p[s])
            lam, v = np.linalg.eigh(fish)
            lam = np.maximum(lam, 1e-6)  # the authors' clamp
            invs.append((v / np.sqrt(lam)) @ v.T)
            roots.append((v * np.sqrt(lam)) @ v.T)
        mu = []
        for i in range(2):
            e = np.linalg.eigvalsh(invs[i] @ hess[b[i], b[i]] @ invs[i])
            mu.append(np.min(e[np.abs(e) > 1e-6]))
        mus.append(mu)
        ls.append([np.linalg.norm(invs[0] @ hess[b[0], b[1]] @ invs[1], 2),
                   np.linalg.norm(invs[1] @ hess[b[1], b[0]] @ invs[0], 2)])
        m_half = np.zeros_like(hess)
        m_inv_half = np.zeros_like(hess)
        f_inv = np.zeros_like(hess)
        for i in range(2):
            m_half[b[i], b[i]] = np.sqrt(weights[i]) * roots[i]
            m_inv_half[b[i], b[i]] = invs[i] / np.sqrt(weights[i])
            f_inv[b[i], b[i]] = invs[i] @ invs[i]
        betas.append(np.linalg.norm(m_half @ f_inv @ hess @ m_inv_half, 2))
    return np.min(mus, 0), np.max(ls, 0), max(betas)


def _vmapped(tg, pts, weights):
    q = fisher_point_quantities(tg, pts, weights)
    return jax.block_until_ready(q)


def bench_certify():
    game = get_game("markov-coop")
    tg = game.data["tabular"]
    pts = sample_points(games.Region.around(np.zeros(game.dim), 0.1), points_per_dim=2, center=False)
    w = jnp.ones(2)
    t0 = time.perf_counter()
    q = _vmapped(tg, pts, w)
    compile_s = time.perf_counter() - t0
    reps = 5
    t0 = time.perf_counter()
    for _ in range(reps):
        q = _vmapped(tg, pts, w)
    vmapped_s = (time.perf_counter() - t0) / reps
    hessians = [jax.jit(jax.hessian(f)) for f in game.losses]
    _loop_certify(game, pts[:1], np.ones(2), hessians)  # compile the per-vertex Hessians once
    t0 = time.perf_counter()
    mu, lc, beta = _loop_certify(game, pts, np.ones(2), hessians)
    loop_s = time.perf_counter() - t0
    agree = {
        "mu": float(np.max(np.abs(np.min(np.asarray(q["mu"]), 0) - mu))),
        "L": float(abs(np.max(np.asarray(q["coupling"])[:, 0, 1]) - lc[0])),
        "beta": float(abs(np.max(np.asarray(q["beta"])) - beta)),
    }
    return {"n_vertices": int(pts.shape[0]), "vmapped_s": vmapped_s, "vmapped_first_call_s": compile_s,
            "loop_s": loop_s, "speedup": loop_s / vmapped_s,
            "speedup_including_compile": loop_s / compile_s, "max_abs_disagreement": agree}


def bench_learners(n_games=1024, n_steps=200, n_single=16):
    base = get_game("markov-coop").data["tabular"]
    rng = np.random.default_rng(0)
    rewards = jnp.asarray(rng.normal(size=(n_games, *base.rewards.shape)))
    batch = jax.tree_util.tree_map(lambda a: jnp.broadcast_to(a, (n_games, *a.shape)), base)
    batch = batch._replace(rewards=rewards)
    z0 = [jnp.zeros((n_games, 2, 2)), jnp.zeros((n_games, 2, 2))]
    lrn = npg(step=0.1)

    def one(tg, z):
        return run_learner(lrn, tg, list(z), n_steps=n_steps)[0].logits

    many = jax.jit(jax.vmap(one))
    single = jax.jit(one)
    jax.block_until_ready(many(batch, z0))
    t0 = time.perf_counter()
    jax.block_until_ready(many(batch, z0))
    t_many = time.perf_counter() - t0
    pick = [jax.tree_util.tree_map(lambda a, k=k: a[k], batch) for k in range(n_single)]
    jax.block_until_ready(single(pick[0], [z[0] for z in z0]))
    t0 = time.perf_counter()
    for k in range(n_single):
        jax.block_until_ready(single(pick[k], [z[k] for z in z0]))
    t_single = (time.perf_counter() - t0) / n_single
    ips_many = n_games * n_steps / t_many
    ips_single = n_steps / t_single
    return {"n_games": n_games, "n_steps": n_steps, "vmapped_iters_per_s": ips_many,
            "one_at_a_time_iters_per_s": ips_single, "speedup": ips_many / ips_single}


def main():
    out = {"device": jax.devices()[0].device_kind, "certify": bench_certify(),
           "learners": bench_learners()}
    print(json.dumps(out, indent=2))
    os.makedirs("out", exist_ok=True)
    with open("out/bench_markov.json", "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
