"""Certificate integrity (tampering, other game, malformed files) and bit-identical reproduction."""

import json

import pytest

import certify
import games


@pytest.fixture(scope="module")
def toy_doc():
    return json.loads(certify.certify(games.get_game("sgn-toy")).to_json())


def _check(doc):
    return certify.check_certificate(certify.Certificate.from_dict(doc))


def test_untouched_certificate_is_consistent(toy_doc):
    result = _check(toy_doc)
    assert result.consistent, result.message


@pytest.mark.parametrize(("path", "value", "field"), [
    (("margin",), 0.3, "margin"),
    (("status",), "not_certified", "status"),
    (("weights", "values"), [1.0, 100.0], "weights.values"),
    (("bounds", "mu"), [1.0, 2.0], "bounds.mu"),
    (("steps", "euler_step"), 0.5, "steps.euler_step"),
    (("weights", "band"), [1.0, 2000.0], "weights.band"),
    (("bounds", "kind"), "sound", "bounds.kind"),
    (("weights", "solver"), "SCS", "weights.solver"),
    (("game", "params", "a"), 5.0, "game.fingerprint"),  # another game: parameter changed
    (("game", "fingerprint"), "0" * 16, "game.fingerprint"),
])
def test_tampered_field_is_named(toy_doc, path, value, field):
    doc = json.loads(json.dumps(toy_doc))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    result = _check(doc)
    assert not result.consistent
    assert f"'{field}'" in result.message


def test_swapped_fingerprints_are_refused(toy_doc):
    other = json.loads(certify.certify(games.get_game("cyclic3")).to_json())
    doc = json.loads(json.dumps(toy_doc))
    doc["game"]["fingerprint"] = other["game"]["fingerprint"]
    result = _check(doc)
    assert not result.consistent
    assert "game.fingerprint" in result.message


@pytest.mark.parametrize(("edit", "exc", "match"), [
    (lambda d: d.update(schema_version=99), ValueError, "schema_version 1, 2 or 3"),
    (lambda d: d.pop("margin"), ValueError, "fields \\['margin'\\]"),
    (lambda d: d.update(margin="abc"), ValueError, "field 'margin' of the right type"),
    (lambda d: d["bounds"].update(mu=[1.0, "x"]), ValueError, "field 'bounds.mu' of the right type"),
    (lambda d: d["bounds"].update(coupling=[[0.0, 10.0]]), ValueError, "field 'bounds.coupling'"),
    (lambda d: d["settings"].update(seed=-3), ValueError, "field 'settings.seed'"),
    (lambda d: d.update(status="proven"), ValueError, "status in"),
    (lambda d: d.update(surprise=1), ValueError, "unknown \\['surprise'\\]"),
    (lambda d: d["game"].update(name="no-such-game"), ValueError, "registered game"),
    (lambda d: d["extra"].update(n_samples=10**12), ValueError, "extra.n_samples"),
])
def test_malformed_documents_raise(toy_doc, edit, exc, match):
    doc = json.loads(json.dumps(toy_doc))
    edit(doc)
    with pytest.raises(exc, match=match):
        _check(doc)


@pytest.mark.parametrize(("text", "match"), [
    ("", "unreadable text"),
    ("{\"status\": ", "unreadable text"),
    ("not json", "unreadable text"),
    ("[1, 2]", "JSON object"),
])
def test_unreadable_text(text, match):
    with pytest.raises(ValueError, match=match):
        certify.Certificate.from_json(text)


def test_truncated_file_is_refused(toy_doc):
    text = json.dumps(toy_doc)
    with pytest.raises(ValueError, match="unreadable text"):
        certify.Certificate.from_json(text[: len(text) // 2])


def test_check_certificate_needs_a_certificate():
    with pytest.raises(TypeError, match="expected a Certificate"):
        certify.check_certificate({"status": "certified"})


# --- reproducibility ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kwargs"), [
    ("sgn-toy", {"weight_method": "sdp"}),
    ("cyclic3", {"weight_method": "lp"}),
    ("tanh-sin", {"bounds": certify.bounds.Sampled(n_samples=64, seed=7)}),
])
def test_same_inputs_same_seed_bit_identical_json(name, kwargs):
    a = certify.certify(games.get_game(name), **kwargs).to_json()
    b = certify.certify(games.get_game(name), **kwargs).to_json()
    assert a == b


def test_different_seed_changes_sampled_bounds():
    a = certify.certify(games.get_game("tanh-sin"), bounds=certify.bounds.Sampled(n_samples=64, seed=1))
    b = certify.certify(games.get_game("tanh-sin"), bounds=certify.bounds.Sampled(n_samples=64, seed=2))
    assert a.to_json() != b.to_json()


def test_floats_read_back_exactly():
    cert = certify.certify(games.get_game("tanh-sin"), bounds=certify.bounds.Sampled(n_samples=64, seed=3))
    back = certify.Certificate.from_json(cert.to_json())
    for field in ("bounds.mu", "bounds.coupling", "weights.values", "margin", "bounds.weighted_lipschitz",
                  "steps.euler_step", "weights.band"):
        assert back.value(field) == cert.value(field), field  # == on floats: bit for bit
    assert back.margin.hex() == cert.margin.hex()
    assert back.to_json() == cert.to_json()


def test_nan_fields_round_trip_as_strings():
    import jax.numpy as jnp
    import numpy as np

    g = games.from_pseudo_gradient(lambda x: x * jnp.nan, (1, 1), region=games.Region([-1, -1], [1, 1]))
    cert = certify.certify(g)
    text = cert.to_json()
    assert '"nan"' in text
    back = certify.Certificate.from_json(text)
    assert np.isnan(back.margin)
    assert back.to_json() == text
