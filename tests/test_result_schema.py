"""Firm results: the versioned JSON schema of certificates.json and --json, objects keyed by short
identifiers with labels kept apart, claims with their native value and margin, artifacts that are
never serialized, and the classification as a view of a certificate."""
import json
import pathlib
import warnings

import jsonschema
import pytest

from verify.cli import main
from verify.core.claims import compare
from verify.core.classify import classify
from verify.core.results import SCHEMA_VERSION, Certificate
from verify.ctx import get_context
from verify.objectives import zoo
from verify.report.build import Report, Section

SCHEMA = json.loads((pathlib.Path(__file__).resolve().parents[1] / "verify" / "report"
                     / "certificate.schema.json").read_text())


def validator(definition: str):
    """A validator of one ``$defs`` entry of the schema (the whole schema as its resolution base)."""
    schema = dict(SCHEMA, **{"anyOf": [{"$ref": f"#/$defs/{definition}"}]})
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def small_certificate(ctx) -> Certificate:
    cert = Certificate("Thm X", "a title", "an example", context=ctx.name,
                       precision=ctx.precision_label)
    cert.hypothesis("h", "a hypothesis", True, "because")
    cert.add_object("eta_bound", ctx.scalar("0.5"), label="exact eta bound (contraction iff ...)")
    cert.add_object("x", ctx.to_list(ctx.vector([ctx.scalar(1), ctx.scalar("0.25")])))
    cert.add(compare("bound", "holds", ctx.scalar("0.1") * 3, "<=", ctx.scalar("0.3"), ctx,
                     tier="rounding"))
    cert.finding("Paper, Lemma 9", "fails here", "value 3.5", evidence_level="sampled")
    cert.artifacts["run"] = object()  # not serializable, and never serialized
    return cert.finish()


@pytest.mark.parametrize("kind", ["float64", "mpmath", "arb", "torch"])
def test_certificate_json_follows_the_schema_in_every_context(kind):
    ctx = get_context(kind, dps=40, device="cpu")
    d = json.loads(small_certificate(ctx).to_json())
    validator("certificate").validate(d)
    assert d["schema_version"] == SCHEMA_VERSION and "artifacts" not in d and "run" not in json.dumps(d)
    assert d["objects"]["eta_bound"] and d["object_labels"] == {
        "eta_bound": "exact eta bound (contraction iff ...)"}


def test_report_json_follows_the_schema():
    ctx = get_context("float64")
    sec = Section("thm_x", "thm_x", "Thm X", "a title", 1.0, "statement",
                  certificates=[small_certificate(ctx).to_dict()])
    d = json.loads(json.dumps(Report([sec], {"versions": {}}).to_dict()))
    validator("report").validate(d)
    jsonschema.Draft202012Validator(SCHEMA).validate(d)  # the top level accepts it too


@pytest.mark.parametrize("tamper,what", [
    (lambda d: d.pop("schema_version"), "schema_version"),
    (lambda d: d["claims"][0].update(value=0.30000000000000004), "a number not as a string"),
    (lambda d: d["claims"][0].update(verdict="maybe"), "an unknown verdict"),
    (lambda d: d["objects"].update(eta_bound=0.5), "an object number not as a string"),
    (lambda d: d["objects"].update({"exact eta bound": "0.5"}), "a prose object key"),
    (lambda d: d["object_labels"].update({"x+": "x+"}), "a prose key among the labels"),
    (lambda d: d.update(schema_version="2.0"), "a later major version"),
])
def test_schema_rejects_a_broken_certificate(tamper, what):
    """Negative controls: each breaks one rule of the format, and validation fails."""
    d = json.loads(small_certificate(get_context("float64")).to_json())
    tamper(d)
    with pytest.raises(jsonschema.ValidationError):
        validator("certificate").validate(d)


def test_cli_json_follows_the_schema(capsys):
    assert main(["classify", "--f", "zoo:appendix_d", "--x", "1.25,0", "--rho", "2.8", "--json"]) == 0
    validator("classification").validate(json.loads(capsys.readouterr().out))
    assert main(["construct", "--f", "(x**2+y**2-1)**2", "--vars", "x,y", "--x-star", "1,0",
                 "--x-max", "0,0", "--json"]) == 0
    validator("certificate").validate(json.loads(capsys.readouterr().out))


# -- objects, claims, artifacts ---------------------------------------------------------------------
def test_objects_by_identifier_and_old_labels_for_one_release():
    cert = small_certificate(get_context("float64"))
    assert cert.objects["eta_bound"] == 0.5
    with pytest.warns(DeprecationWarning, match="use 'eta_bound'"):
        assert cert.objects["exact eta bound (contraction iff ...)"] == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cert.objects.get("eta_bound") == 0.5 and "x" in cert.objects
    assert "nosuch" not in cert.objects and cert.objects.get("nosuch", 7) == 7
    with pytest.raises(KeyError):
        cert.objects["nosuch"]
    assert "exact eta bound (contraction iff ...)" in str(cert)  # readers see the label


def test_attached_attributes_are_artifacts():
    cert = small_certificate(get_context("float64"))
    with pytest.warns(DeprecationWarning, match=r"cert.artifacts\['run'\]"):
        assert cert.run is cert.artifacts["run"]
    with pytest.raises(AttributeError):
        cert.hset


@pytest.mark.parametrize("kind", ["float64", "mpmath", "arb"])
def test_claim_keeps_native_value_and_margin(kind):
    ctx = get_context(kind, dps=40)
    holds = compare("c", "s", ctx.scalar("0.25"), "<=", ctx.scalar("0.5"), ctx)
    fails = compare("c", "s", ctx.scalar("0.75"), "<=", ctx.scalar("0.5"), ctx)
    assert ctx.is_native(holds.native_value) and ctx.is_native(holds.margin)
    assert ctx.to_float(holds.margin) == 0.25 and ctx.to_float(fails.margin) == -0.25
    assert holds.to_dict()["margin"] == ctx.to_str(holds.margin)


def test_arb_margin_is_a_ball_that_decides_like_the_claim():
    arb = get_context("arb", dps=30)
    third = arb.scalar(1) / 3
    claim = compare("c", "s", third, ">", arb.scalar("0.333"), arb)
    assert claim.verdict.value == "proved" and arb.greater(claim.margin, arb.scalar(0))
    assert claim.margin.rad() > 0  # an enclosure, not a rounded number


def test_classification_is_a_view_of_a_certificate(fp):
    r = classify(zoo.get("appendix_d").objective, ["1.25", "0"], "2.8", fp)
    cert = r.certificate()
    assert cert.objects["kind"] == r.kind == "hallucinated_minimizer"
    assert cert.objects.label("grad_ratio") == "GradRatio"
    validator("certificate").validate(json.loads(cert.to_json()))
