"""Bad input across every command (issue 15): each case runs ``emigre`` in-process and must exit non-zero with
one clear message (no traceback), before any work, leaving nothing in ``--out``. Valid controls still pass.

Special files (FIFOs, /dev/zero, /dev/urandom, symlink loops) would block or fill memory if read; a SIGALRM guard
turns such a hang into a failure instead of a stuck test run.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from emigre import cli as emigre_cli
from emigre.errors import EmigreError
from emigre.observe.ranges import check_params, check_posterior_frame, obs_ranges
from emigre.scenario.ranges import model_ranges

PKG = Path(emigre_cli.__file__).resolve().parent.parent  # src/emigre (emigre.cli is a package)
SCENARIO = PKG / "data" / "russia-2022"
MALI = PKG / "data" / "flee" / "mali2012"
POSTERIOR = SCENARIO / "posterior.parquet"
OBSERVATIONS = PKG / "data" / "evidence" / "observations.csv"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SIM = ["--scale", "2000", "--end", "2022-03-10"]


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def fx(tmp_path_factory) -> Path:
    """Bad files of every kind, made once."""
    d = tmp_path_factory.mktemp("bad")
    os.mkfifo(d / "fifo")
    (d / "afile").write_text("x\n")
    (d / "dir").mkdir()
    os.symlink(d / "loop1", d / "loop2")
    os.symlink(d / "loop2", d / "loop1")
    ro = d / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    (d / "binary.csv").write_bytes(b"id,quantity\x00\x01\x02\n")
    (d / "empty.csv").write_text("")
    (d / "latin1.csv").write_bytes("id,quantity\nOBS1,caf\xe9\n".encode("latin-1"))
    lines = OBSERVATIONS.read_text(encoding="utf-8").splitlines()
    header, row = lines[0], next(r for r in lines[1:] if ",cumulative_outflow_total," in r)
    oid, qty = row.split(",")[:2]
    assert qty.isdigit(), row

    def obs(name: str, new: str) -> None:
        (d / name).write_text(header + "\n" + row.replace(f"{oid},{qty},", new, 1) + "\n", encoding="utf-8")

    obs("neg.csv", f"{oid},-300000,")
    obs("big.csv", f"{oid},{'9' * 400},")
    obs("nan.csv", f"{oid},nan,")
    obs("inf.csv", f"{oid},inf,")
    obs("neg_low.csv", f"{oid},,-5,")  # a range with a negative low (high follows in the row)
    obs("sep.csv", f"{oid},\"300,000\",")
    obs("float.csv", f"{oid},3.5,")
    obs("exp.csv", f"{oid},3e5,")
    # posterior files with a value out of range
    post = pd.read_parquet(POSTERIOR)
    for name, col, value in (("post_share", "regularise_share", 5.0),
                             ("post_decay", "push_mobilization_decay_days", -10.0),
                             ("post_obs", "travel_level_2022", -1.0),
                             ("post_inf", "push_mobilization_intensity", np.inf),
                             ("post_huge", "push_mobilization_intensity", 1e300)):
        q = post.copy()
        q.loc[3, col] = value
        q.to_parquet(d / f"{name}.parquet")
    # scenario copies with a broken params.yaml
    for name, edit in (("scen_value", ("value: 0.3\n    prior: {dist: beta, a: 3, b: 7}",
                                       "value: 5\n    prior: {dist: beta, a: 3, b: 7}")),
                       ("scen_range", ("range: [0, 1]", "range: [1, 0]")),
                       ("scen_range_text", ("range: [0, 1]", "range: zero to one"))):
        s = d / name
        shutil.copytree(SCENARIO, s)
        text = (s / "params.yaml").read_text()
        assert edit[0] in text, name
        (s / "params.yaml").write_text(text.replace(edit[0], edit[1], 1))
    for name, how in (("scen_pfifo", "fifo"), ("scen_pdir", "dir"), ("scen_pzero", "zero")):
        s = d / name
        shutil.copytree(SCENARIO, s)
        p = s / "params.yaml"
        p.unlink()
        _special(p, how)
    # Flee scenario copies with one input that is not a regular file
    for name, rel, how in (("clo_dir", "closures.csv", "dir"), ("clo_loop", "closures.csv", "loop"),
                           ("clo_zero", "closures.csv", "zero"), ("clo_fifo", "closures.csv", "fifo"),
                           ("loc_zero", "locations.csv", "urandom"), ("rou_dir", "routes.csv", "dir"),
                           ("con_fifo", "conflicts.csv", "fifo"), ("reg_zero", "registration_corrections.csv", "zero"),
                           ("per_loop", "sim_period.csv", "loop")):
        s = d / name
        shutil.copytree(MALI, s)
        p = s / "input_csv" / rel
        p.unlink()
        _special(p, how)
    s = d / "series_zero"
    shutil.copytree(MALI, s)
    (s / "source_data" / "bf-bobo.csv").unlink()
    os.symlink("/dev/zero", s / "source_data" / "bf-bobo.csv")
    yield d
    ro.chmod(0o755)


def _special(p: Path, how: str) -> None:
    if how == "fifo":
        os.mkfifo(p)
    elif how == "dir":
        p.mkdir()
    elif how == "zero":
        os.symlink("/dev/zero", p)
    elif how == "urandom":
        os.symlink("/dev/urandom", p)
    elif how == "loop":
        other = p.with_name(p.name + ".loop")
        os.symlink(other, p)
        os.symlink(p, other)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A small complete store (2 runs at 2000 persons per traveller) for estimate's bad options."""
    from emigre.ensemble import run_ensemble
    from emigre.results import ResultStore

    d = tmp_path_factory.mktemp("store")
    summaries = run_ensemble("russia-2022", d, runs=2, scale=2000, workers=1)
    s = ResultStore(d)
    s.write_runs_table(pd.DataFrame(summaries))
    s.write_manifest()
    return d


class _HangError(Exception):
    pass


def _alarm(signum, frame):
    raise _HangError("the command did not return within 60 s (a special file read, or a run that never ends)")


def emigre(argv: list[str], capsys) -> tuple[int, str, str]:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(60)
    try:
        rc = emigre_cli.main([str(a) for a in argv])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out = capsys.readouterr()
    return rc, out.out, out.err


def assert_refused(argv, capsys, out: Path | None, match: str | None = None) -> str:
    rc, stdout, stderr = emigre(argv, capsys)
    assert rc != 0, f"exit 0 for {argv}: {stdout[-300:]}"
    assert "Traceback" not in stderr + stdout
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.lower().startswith("error")]
    assert len(errors) == 1, f"expected one error line, got: {stderr!r}"
    if errors[0].startswith("error: "):  # emigre's own errors are the only line
        assert len(lines) == 1, stderr
    if match is not None:
        assert match.lower() in errors[0].lower(), errors[0]
    if out is not None:
        left = list(out.rglob("*")) if out.is_dir() else []
        assert not left, f"files left in --out: {left[:5]}"
    return errors[0]


# -------------------------------------------------------------------------------------------------- simulate
BAD_PARAMS = [
    ("push_mobilization_decay_days=-10", "outside its valid range [0.4, 360]"),
    ("regularise_share=5", "outside its valid range [0, 1]"),
    ("adult_population=0", "outside its valid range"),
    ("push_mobilization_intensity=1e300", "outside its valid range [0, 270000]"),
    ("regularise_share=-0.1", "regularise_share = -0.1"),
    ("air_speed_kmh=0", "air_speed_kmh"),
    ("patience_days=-1", "patience_days"),
    ("give_up_days=0", "give_up_days"),
    ("return_per_year=-1", "return_per_year"),
    ("choice_hours=1e300", "choice_hours"),
    ("special_grounds_share=2", "special_grounds_share"),
    ("origin_share_moscow=1.5", "origin_share_moscow"),
    ("push_invasion_intensity=-5", "push_invasion_intensity"),
    ("air_seats_per_link_per_day=-1", "air_seats_per_link_per_day"),
    ("baseline_emigration_per_year=1e200", "baseline_emigration_per_year"),
    ("kor_visa_free_days=-3", "kor_visa_free_days"),
    ("unknown_stay_limit_days=0", "unknown_stay_limit_days"),
    ("assumed_hub_links=7", "assumed_hub_links"),
    ("choice_route_scale=0", "choice_route_scale"),
    ("air_route_factor=0.5", "air_route_factor"),
    ("onward_share_at_limit=nan", "finite"),
    ("onward_share_at_limit=inf", "finite"),
    ("regularise_share=abc", "expected a number"),
    ("regularise_share=0x10", "expected a number"),
    ("regularis_share=0.3", "did you mean regularise_share"),
    ("travel_level_2022=0.5", "unknown parameter"),  # an observation parameter is not a scenario --param
    ("=3", "NAME=VALUE"),
    ("regularise_share", "NAME=VALUE"),
]


@pytest.mark.parametrize("param,match", BAD_PARAMS, ids=[p for p, _ in BAD_PARAMS])
def test_simulate_refuses_bad_param(param, match, tmp_path, capsys):
    out = tmp_path / "out"
    assert_refused(["simulate", *SIM, "--out", out, "--param", param], capsys, out, match)


BAD_SCALES = ["inf", "-inf", "nan", "0", "-1", "1e9", "1e-6", "1e308", "0.001", "100001", "abc", ""]


@pytest.mark.parametrize("scale", BAD_SCALES)
def test_simulate_refuses_bad_scale(scale, tmp_path, capsys):
    out = tmp_path / "out"
    assert_refused(["simulate", "--end", "2022-03-10", "--scale", scale, "--out", out], capsys, out)


@pytest.mark.parametrize("seed", ["-1", str(2**63), str(2**64), str(2**70), "abc", "1.5"])
def test_simulate_refuses_bad_seed(seed, tmp_path, capsys):
    out = tmp_path / "out"
    assert_refused(["simulate", *SIM[:2], "--seed", seed, "--out", out], capsys, out)


@pytest.mark.parametrize("end", ["2021-01-01", "2030-01-01", "abc", "2022-02-30", "2022-02-23", "99999-01-01",
                                 "2024-01-01", "2022-13-01"])
def test_simulate_refuses_bad_end(end, tmp_path, capsys):
    out = tmp_path / "out"
    assert_refused(["simulate", "--scale", "2000", "--end", end, "--out", out], capsys, out)


def _outs(fx: Path) -> list[tuple[str, Path, str]]:
    cases = [("existing file", fx / "afile", "not a directory"),
             ("file as parent", fx / "afile" / "x", "is a file"),
             ("proc", Path("/proc/emigre-test"), "/proc"),
             ("sys", Path("/sys/emigre-test"), "/sys"),
             ("dev null", Path("/dev/null"), "/dev"),
             ("dev dir", Path("/dev/emigre-test"), "/dev"),
             ("symlink loop", fx / "loop1", ""),
             ("symlink loop as parent", fx / "loop1" / "x", "")]
    if not IS_ROOT:  # root writes into a 0555 directory
        cases.append(("read-only dir", fx / "ro" / "x", "cannot write"))
    return cases


OUT_KINDS = ["existing file", "file as parent", "proc", "sys", "dev null", "dev dir", "symlink loop",
             "symlink loop as parent", "read-only dir"]


@pytest.mark.parametrize("kind", OUT_KINDS)
def test_simulate_refuses_bad_out_before_the_work(kind, fx, capsys, monkeypatch):
    case = {k: (p, m) for k, p, m in _outs(fx)}
    if kind not in case:
        pytest.skip("running as root: permissions do not stop writes")
    out, match = case[kind]
    import emigre.behaviour.exodus as exodus

    def never(*a, **k):  # the check must come before the simulation
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(exodus, "simulate", never)
    assert_refused(["simulate", *SIM, "--out", out], capsys, None, match or None)


@pytest.mark.parametrize("name", ["/nonexistent-scenario", "afile", "fifo", "dir", "/dev/zero", "nosuch",
                                  "scen_value", "scen_range", "scen_range_text", "scen_pfifo", "scen_pdir",
                                  "scen_pzero"])
def test_simulate_refuses_bad_scenario(name, fx, tmp_path, capsys):
    scen = name if name.startswith("/") or name == "nosuch" else str(fx / name)
    out = tmp_path / "out"
    assert_refused(["simulate", scen, *SIM, "--out", out], capsys, out)


# ------------------------------------------------------------------------------------------------------- run
RUN_BAD = [
    ["--runs", "0"], ["--runs", "-1"], ["--runs", "100000000"], ["--scale", "inf"], ["--scale", "0"],
    ["--scale", "1e9"], ["--scale", "1e-6"], ["--seed", str(2**64)], ["--seed", "-1"],
    ["--seed", str(2**63 - 1), "--runs", "2"], ["--workers", "-1"], ["--workers", "100000"],
    ["--param", "regularise_share=5"], ["--param", "push_mobilization_decay_days=-10"],
]


@pytest.mark.parametrize("args", RUN_BAD, ids=["_".join(a) for a in RUN_BAD])
def test_run_refuses_bad_option(args, tmp_path, capsys):
    out = tmp_path / "out"
    assert_refused(["run", "--runs", "1", "--scale", "2000", "--workers", "1", "--out", out, *args], capsys, out)


POSTERIORS = ["post_share", "post_decay", "post_obs", "post_inf", "post_huge", "fifo", "/dev/zero", "loop1",
              "afile", "dir", "/nonexistent/posterior.parquet"]


@pytest.mark.parametrize("name", POSTERIORS)
def test_run_refuses_bad_posterior(name, fx, tmp_path, capsys):
    path = name if name.startswith("/") else str(fx / (f"{name}.parquet" if name.startswith("post_") else name))
    out = tmp_path / "out"
    line = assert_refused(["run", "--runs", "1", "--scale", "2000", "--workers", "1", "--out", out,
                           "--posterior", path], capsys, out)
    if name.startswith("post_"):
        assert "row 4" in line and "valid range" in line  # file, row (draw) and the range


# -------------------------------------------------------------------------------------------------- estimate
EST_BAD = [
    ["present", "--destination", "USA"], ["present", "--destination", "XXX"], ["present", "--destination", "RUS"],
    ["present", "--destination", "ALL"], ["present"], ["departed", "--at", "2030-01-01"], ["departed", "--at", "abc"],
    ["nosuch"], ["departed", "--by", "nosuch"], ["departed", "--from", "2023-01-01", "--to", "2022-01-01"],
    ["departed", "--destination", "GEO"], ["share", "--by", "age=200"],
]


@pytest.mark.parametrize("args", EST_BAD, ids=["_".join(a) for a in EST_BAD])
def test_estimate_refuses_bad_option(args, store, capsys):
    line = assert_refused(["estimate", *args, "--store", store], capsys, None)
    if args[:3] == ["present", "--destination", "USA"]:
        assert "has no results for USA" in line and "GEO" in line  # names the places the store has


@pytest.mark.parametrize("name", ["/nonexistent", "afile", "dir", "/dev/zero", "fifo", "loop1"])
def test_estimate_refuses_bad_store(name, fx, capsys):
    path = name if name.startswith("/") else str(fx / name)
    assert_refused(["estimate", "departed", "--store", path], capsys, None)


# -------------------------------------------------------------------------------------------------- validate
VAL_FILES = ["neg.csv", "big.csv", "nan.csv", "fifo", "/dev/zero", "/dev/urandom", "dir", "loop1", "afile",
             "/nonexistent.csv", "binary.csv", "empty.csv", "latin1.csv"]


@pytest.mark.parametrize("name", VAL_FILES)
def test_validate_refuses_bad_holdout(name, fx, capsys):
    path = name if name.startswith("/") else str(fx / name)
    assert_refused(["validate", "--draws", "1", "--scale", "2000", "--holdout", path], capsys, None)


VAL_OPTS = [["--draws", "0"], ["--draws", "1000000"], ["--scale", "inf"], ["--scale", "0"], ["--scale", "1e-6"],
            ["--workers", "-1"], ["--workers", "100000"]]


@pytest.mark.parametrize("args", VAL_OPTS, ids=["_".join(a) for a in VAL_OPTS])
def test_validate_refuses_bad_option(args, capsys):
    assert_refused(["validate", "--draws", "1", "--scale", "2000", "--holdout", OBSERVATIONS, *args], capsys, None)


@pytest.mark.parametrize("name", ["post_share", "post_obs", "fifo", "/dev/zero"])
def test_validate_refuses_bad_posterior(name, fx, capsys):
    path = name if name.startswith("/") else str(fx / (f"{name}.parquet" if name.startswith("post_") else name))
    assert_refused(["validate", "--draws", "1", "--scale", "2000", "--holdout", OBSERVATIONS,
                    "--posterior", path], capsys, None)


# -------------------------------------------------------------------------------------------------- evidence
EV_FILES = [("neg.csv", "negative quantity"), ("big.csv", "400 digits"), ("nan.csv", "not an integer"),
            ("inf.csv", "not an integer"), ("neg_low.csv", ""), ("sep.csv", "not an integer"),
            ("float.csv", "not an integer"), ("exp.csv", "not an integer"), ("fifo", "FIFO"),
            ("/dev/zero", "character device"), ("/dev/urandom", "character device"), ("dir", "directory"),
            ("loop1", "symbolic link loop"), ("/nonexistent.csv", "not found"), ("/dev/null", "character device"),
            ("afile", "header"), ("binary.csv", "binary"), ("empty.csv", "empty"), ("latin1.csv", "UTF-8")]


@pytest.mark.parametrize("name,match", EV_FILES, ids=[n for n, _ in EV_FILES])
def test_evidence_load_refuses_bad_file(name, match, fx, capsys):
    path = name if name.startswith("/") else str(fx / name)
    line = assert_refused(["evidence", "load", path], capsys, None, match or None)
    assert path in line
    if name in ("neg.csv", "big.csv"):
        assert "line 2, column quantity" in line


EV_ARGS = [["list", "--from", "abc"], ["list", "--from", "2023-01", "--to", "2022-01"], ["show", "NOPE"],
           ["list", "--kind", "nosuch"], ["list", "--destination", "ZZZ"]]


@pytest.mark.parametrize("args", EV_ARGS, ids=["_".join(a) for a in EV_ARGS])
def test_evidence_refuses_bad_query(args, capsys):
    assert_refused(["evidence", *args], capsys, None)


# -------------------------------------------------------------------------------------------------- scenario
SC_ARGS = [["show", "--date", "abc"], ["show", "/dev/zero", "--date", "2022-03-01"], ["show", "--date", "2022-02-30"],
           ["routes", "--date", "abc"], ["check", "/nonexistent"], ["show", "--date", "1900-01-01"],
           ["routes", "--from", "RUS:Moscow", "--to", "GEO", "--date", "2030-01-01"]]


@pytest.mark.parametrize("args", SC_ARGS, ids=["_".join(a) for a in SC_ARGS])
def test_scenario_refuses_bad_args(args, capsys):
    rc, stdout, stderr = emigre(["scenario", *args], capsys)
    assert rc != 0 and "Traceback" not in stdout + stderr


@pytest.mark.parametrize("name,param", [("scen_value", "regularise_share"), ("scen_range", "special_grounds_share"),
                                        ("scen_range_text", "special_grounds_share")])
def test_scenario_check_names_the_bad_range(name, param, fx, capsys):
    rc, stdout, stderr = emigre(["scenario", "check", fx / name], capsys)
    assert rc == 2 and "Traceback" not in stdout + stderr
    assert param in stdout + stderr and "range" in stdout + stderr


# ------------------------------------------------------------------------------------------------------ flee
FLEE_BAD = [
    ("hasten_huge", [MALI, "--hasten", "1000000000"], "leaves no agents"),
    ("hasten_0", [MALI, "--hasten", "0"], "--hasten"),
    ("hasten_neg", [MALI, "--hasten", "-5"], "--hasten"),
    ("seed_huge", [MALI, "--seed", str(2**64), "--hasten", "50"], "--seed"),
    ("seed_neg", [MALI, "--seed", "-1"], "--seed"),
    ("clo_dir", ["clo_dir", "--hasten", "50"], "closures.csv is a directory"),
    ("clo_loop", ["clo_loop", "--hasten", "50"], "closures.csv is a symbolic link loop"),
    ("clo_zero", ["clo_zero", "--hasten", "50"], "closures.csv is a character device"),
    ("clo_fifo", ["clo_fifo", "--hasten", "50"], "closures.csv is a FIFO"),
    ("loc_zero", ["loc_zero", "--hasten", "50"], "locations.csv is a character device"),
    ("rou_dir", ["rou_dir", "--hasten", "50"], "routes.csv is a directory"),
    ("con_fifo", ["con_fifo", "--hasten", "50"], "conflicts.csv is a FIFO"),
    ("reg_zero", ["reg_zero", "--hasten", "50"], "registration_corrections.csv is a character device"),
    ("per_loop", ["per_loop", "--hasten", "50"], "symbolic link loop"),
    ("series_zero", ["series_zero", "--hasten", "50"], "character device"),
    ("settings_zero", [MALI, "--hasten", "50", "--settings", "/dev/zero"], "settings file is a character device"),
    ("settings_fifo", [MALI, "--hasten", "50", "--settings", "fifo"], "settings file is a FIFO"),
    ("settings_dir", [MALI, "--hasten", "50", "--settings", "dir"], "settings file is a directory"),
    ("settings_loop", [MALI, "--hasten", "50", "--settings", "loop1"], "symbolic link loop"),
    ("scen_fifo", ["fifo"], "not a directory"),
    ("scen_file", ["afile"], "not a directory"),
    ("scen_missing", ["/nonexistent-flee"], "not found"),
]


def _flee_args(args, fx: Path) -> list[str]:
    out = []
    for a in args:
        a = str(a)
        out.append(str(fx / a) if a in {"clo_dir", "clo_loop", "clo_zero", "clo_fifo", "loc_zero", "rou_dir",
                                        "con_fifo", "reg_zero", "per_loop", "series_zero", "fifo", "dir",
                                        "loop1", "afile"} else a)
    return out


@pytest.mark.parametrize("args,match", [(a, m) for _, a, m in FLEE_BAD], ids=[i for i, _, _ in FLEE_BAD])
def test_flee_run_refuses_bad_input(args, match, fx, tmp_path, capsys):
    out = tmp_path / "out"
    assert_refused(["flee", "run", *_flee_args(args, fx), "--out", out / "out.csv"], capsys, out, match)


@pytest.mark.parametrize("kind", OUT_KINDS)
def test_flee_run_refuses_bad_out(kind, fx, capsys):
    case = {k: (p, m) for k, p, m in _outs(fx)}
    if kind not in case:
        pytest.skip("running as root: permissions do not stop writes")
    out, _ = case[kind]
    if kind == "existing file":
        out = fx / "dir"  # for a file output, the bad existing thing is a directory
    assert_refused(["flee", "run", MALI, "--hasten", "50", "--out", out], capsys, None)


@pytest.mark.parametrize("args", [["--seeds", "0"], ["--seeds", "100000"], ["--hasten", "1000000000"]])
def test_flee_validate_refuses_bad_option(args, capsys):
    assert_refused(["flee", "validate", MALI, "--seeds", "1", *args], capsys, None)


# ------------------------------------------------------------------------------------------------- calibrate
CAL_BAD = [["--scale", "inf"], ["--scale", "0"], ["--scale", "1e-6"], ["--scale", "1e9"], ["--budget", "0"],
           ["--budget", "10000000000"], ["--particles", "5"], ["--particles", "100000000"], ["--seed", str(2**64)],
           ["--seed", "-1"], ["--workers", "-1"], ["--workers", "100000"]]


@pytest.mark.parametrize("args", CAL_BAD, ids=["_".join(a) for a in CAL_BAD])
def test_calibrate_refuses_bad_option(args, tmp_path, capsys):
    out = tmp_path / "out"
    assert_refused(["calibrate", "--budget", "2", "--particles", "10", "--scale", "2000", "--workers", "1",
                    "--out", out, *args], capsys, out)


@pytest.mark.parametrize("kind", OUT_KINDS)
def test_calibrate_refuses_bad_out(kind, fx, capsys):
    case = {k: (p, m) for k, p, m in _outs(fx)}
    if kind not in case:
        pytest.skip("running as root: permissions do not stop writes")
    out, match = case[kind]
    assert_refused(["calibrate", "--budget", "2", "--particles", "10", "--scale", "2000", "--out", out], capsys,
                   None, match or None)


@pytest.mark.parametrize("name", ["/dev/zero", "fifo", "dir", "loop1", "/nonexistent.csv", "binary.csv"])
def test_calibrate_refuses_bad_exclude(name, fx, tmp_path, capsys):
    path = name if name.startswith("/") else str(fx / name)
    out = tmp_path / "out"
    assert_refused(["calibrate", "--budget", "2", "--particles", "10", "--scale", "2000", "--out", out,
                    "--exclude", path], capsys, out)


# ---------------------------------------------------------------------------------------- ranges, directly
@pytest.mark.parametrize("values,match", [
    ({"push_mobilization_decay_days": -10}, "push_mobilization_decay_days = -10 is outside its valid range [0.4, 360]"),
    ({"regularise_share": 5}, "regularise_share = 5 is outside its valid range [0, 1]"),
    ({"adult_population": 0}, "adult_population = 0 is outside its valid range [100000, 1.5e+08]"),
    ({"push_mobilization_intensity": 1e300}, "push_mobilization_intensity = 1e+300 is outside"),
    ({"travel_level_eu": -1}, "travel_level_eu = -1 is outside its valid range [0, 10]"),
    ({"permits_background_share": 1.0}, "permits_background_share = 1 is outside"),
    ({"regularise_share": True}, "must be a number"),
    ({"regularise_share": "0.3"}, None),  # a number as text (a JSON body may carry one) is fine
])
def test_check_params_names_parameter_value_and_range(values, match):
    if match is None:
        check_params(values)
        return
    with pytest.raises(EmigreError, match=match.replace("[", r"\[").replace("]", r"\]").replace("+", r"\+")):
        check_params(values)


def test_every_parameter_declares_a_range_that_admits_its_value_prior_and_posterior():
    import yaml

    doc = yaml.safe_load((SCENARIO / "params.yaml").read_text())
    ranges = model_ranges("russia-2022")
    post = pd.read_parquet(POSTERIOR)
    z = statistics.NormalDist().inv_cdf(1 - 1e-6)  # the prior's support up to one in a million either side
    for name, spec in doc["params"].items():
        assert "range" in spec, f"{name} declares no range"
        r = ranges[name]
        assert r.source == "params.yaml" and r.low <= spec["value"] <= r.high, name
        p = spec["prior"]
        if p["dist"] == "uniform":
            assert r.low <= p["low"] and p["high"] <= r.high, name
        elif p["dist"] == "beta":
            assert r.low <= 0 and r.high >= 1, name
        elif p["dist"] == "normal":
            assert r.low <= p["mean"] - z * p["sd"] and p["mean"] + z * p["sd"] <= r.high, name
        elif p["dist"] == "lognormal":
            assert r.low <= p["median"] * np.exp(-z * p["sigma"]), name
            assert p["median"] * np.exp(z * p["sigma"]) <= r.high, name
        if name in post.columns:
            assert r.low <= post[name].min() and post[name].max() <= r.high, name
    from emigre.observe.params import OBS_PARAMS

    for name, op in OBS_PARAMS.items():
        r = obs_ranges()[name]
        assert r.low <= op.default <= r.high
        if op.prior == "lognormal":
            assert r.low <= op.args[0] * np.exp(-z * op.args[1]) and op.args[0] * np.exp(z * op.args[1]) <= r.high
        else:  # uniform (low, high) or truncated normal (mean, sd, low, high): the support's bounds
            assert r.low <= op.args[-2] and op.args[-1] <= r.high, name
        if name in post.columns:  # a parameter newer than the packaged posterior takes its default
            assert r.low <= post[name].min() and post[name].max() <= r.high, name
    check_posterior_frame(post, POSTERIOR)  # the packaged posterior passes its own reader's check


def test_memory_estimate_refuses_a_run_that_would_not_fit(monkeypatch):
    import emigre.limits as limits

    monkeypatch.setattr(limits, "available_memory", lambda: 4 * 2**30)
    limits.check_scale(20.0)  # ~0.6 GiB
    with pytest.raises(EmigreError, match=r"--scale 0.5: a run at this scale would need about 6.\d GiB of memory, 4.0 GiB are available"):
        limits.check_scale(0.5)
    with pytest.raises(EmigreError, match="8 runs .* or fewer --workers"):
        limits.check_scale(2.0, parallel=8)


# ----------------------------------------------------------------------------------------------------- serve
@pytest.fixture
def no_serving(monkeypatch):
    """Serving, or making the store with the main job, means a bad input got through: fail at once, not after
    the 60 s hang guard. Returns (address, socket) of what uvicorn would have served on (the valid control's)."""
    import uvicorn

    import emigre.jobs.main_job as main_job

    served = []

    def never(*a, **k):
        raise AssertionError("ran the main job despite a bad input")

    monkeypatch.setattr(main_job, "run_main_job", never)
    monkeypatch.setattr(uvicorn.Server, "run",
                        lambda self, sockets=None: served.extend((s.getsockname()[:2], s) for s in sockets or []))
    return served


SERVE_BAD = [
    (["--port", "-1"], "--port"), (["--port", "0"], "--port"), (["--port", "65536"], "--port"),
    (["--port", "70000"], "--port"), (["--port", "abc"], "--port"), (["--port", "1.5"], "--port"),
    (["--port", ""], "--port"), (["--host", ""], "--host is empty"), (["--host", " "], "--host is empty"),
    (["--host", "not..valid"], "not a valid host name"), (["--host", "x" * 300], "not a valid host name"),
    (["--host", "192.0.2.1"], "not an address of this machine"),  # TEST-NET-1: never a local address
    (["--cluster", "foo"], "--cluster"), (["--cluster", "tcp://127.0.0.1:99999"], "out of range"),
    (["--cluster", "local:abc"], "--cluster"), (["--runs", "0"], "--runs"), (["--runs", "-1"], "--runs"),
    (["--runs", "100000"], "--runs must be between"), (["--scale", "inf"], "finite"), (["--scale", "nan"], "finite"),
    (["--scale", "0"], "--scale must be between"), (["--scale", "-1"], "--scale must be between"),
    (["--scale", "1e9"], "--scale must be between"), (["--scale", "abc"], "--scale"),
]


@pytest.mark.parametrize("args,match", SERVE_BAD, ids=["_".join(a)[:40] for a, _ in SERVE_BAD])
def test_serve_refuses_bad_option(args, match, store, no_serving, capsys):
    assert_refused(["serve", "--store", store, "--port", "18765", *args], capsys, None, match)
    assert not no_serving


@pytest.mark.parametrize("args", [["--scale", "inf"], ["--runs", "0"], ["--cluster", "foo"], ["--host", "192.0.2.1"]],
                         ids=["scale", "runs", "cluster", "host"])
def test_serve_refuses_bad_option_before_making_the_store(args, tmp_path, no_serving, capsys):
    # a missing store is made by the main job first: a bad option must be refused before it, leaving nothing
    out = tmp_path / "new-store"
    assert_refused(["serve", "--store", out, "--port", "18765", *args], capsys, None)
    assert not out.exists()


def test_serve_refuses_a_port_in_use(store, tmp_path, no_serving, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_refused(["serve", "--store", store, "--port", port], capsys, None, f"--port {port}: already in use")
        # also before the main job would make a missing store
        out = tmp_path / "new-store"
        assert_refused(["serve", "--store", out, "--port", port], capsys, None, "already in use")
        assert not out.exists()
    assert not no_serving


def _bad_stores(store: Path, fx: Path, tmp: Path) -> dict[str, tuple[Path, str]]:
    """Stores that are not one, or not complete: (path, what the one line must say)."""
    def copy(name: str) -> Path:
        d = tmp / name
        shutil.copytree(store, d)
        return d

    no_manifest = copy("no-manifest")
    (no_manifest / "manifest.json").unlink()
    corrupt = copy("corrupt-manifest")
    (corrupt / "manifest.json").write_text("{not json")
    shard = copy("missing-shard")
    sorted((shard / "runs").glob("run-*.parquet"))[-1].unlink()
    foreign = tmp / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not a store\n")
    return {"no manifest": (no_manifest, "incomplete store (no manifest.json"),
            "corrupt manifest": (corrupt, "unreadable store manifest"),
            "missing shard": (shard, "store"),
            "not a store": (foreign, "no ensemble results in"),
            "file": (fx / "afile", "exists and is not a directory"),
            "fifo": (fx / "fifo", "exists and is not a directory"),
            "dev zero": (Path("/dev/zero"), "special file system"),
            "proc": (Path("/proc/emigre-test"), "special file system"),
            "symlink loop": (fx / "loop1", "symbolic link loop"),
            "file as parent": (fx / "afile" / "x", "is a file")}


SERVE_STORES = ["no manifest", "corrupt manifest", "missing shard", "not a store", "file", "fifo", "dev zero", "proc",
                "symlink loop", "file as parent"]


@pytest.mark.parametrize("kind", SERVE_STORES)
def test_serve_refuses_bad_store(kind, store, fx, tmp_path, no_serving, capsys):
    path, match = _bad_stores(store, fx, tmp_path)[kind]
    assert_refused(["serve", "--store", path, "--port", "18765"], capsys, None, match)
    assert not no_serving


def test_serve_valid_options_reach_the_server_with_the_port_bound(store, tmp_path, no_serving, capsys):
    import socket

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rc, _, stderr = emigre(["serve", "--store", store, "--port", port, "--scale", "20", "--runs", "3"], capsys)
    assert rc == 0, stderr
    assert f"serving {store} on http://127.0.0.1:{port}/" in stderr.replace("\n", "")
    assert [address for address, _ in no_serving] == [("127.0.0.1", port)]
    assert all(s.fileno() == -1 for _, s in no_serving)  # closed when the server returns
    empty = tmp_path / "empty"
    empty.mkdir()  # an empty directory is made by the main job (stubbed here: it must be reached)
    with pytest.raises(AssertionError, match="ran the main job"):
        emigre(["serve", "--store", empty, "--port", port], capsys)


# ---------------------------------------------------------------------------------------------------- report
REPORT_STORES = {"no manifest": "incomplete store (no manifest.json", "corrupt manifest": "unreadable store manifest",
                 "missing shard": "store", "not a store": "no ensemble results in", "file": "no ensemble results in",
                 "fifo": "no ensemble results in", "dev zero": "no ensemble results in",
                 "proc": "no ensemble results in", "symlink loop": "no ensemble results in",
                 "file as parent": "no ensemble results in"}


@pytest.mark.parametrize("kind", [*REPORT_STORES, "empty dir", "nonexistent"])
def test_report_refuses_bad_store(kind, store, fx, tmp_path, capsys):
    stores = _bad_stores(store, fx, tmp_path) | {"empty dir": (tmp_path / "empty", ""),
                                                  "nonexistent": (tmp_path / "nosuch", "")}
    (tmp_path / "empty").mkdir()
    path, _ = stores[kind]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert_refused(["report", path], capsys, None, REPORT_STORES.get(kind, "no ensemble results in"))
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before  # nothing written, nothing touched


def _report_outs(fx: Path) -> dict[str, tuple[Path, str]]:
    cases = {"directory": (fx / "dir", "is a directory"), "fifo": (fx / "fifo", "not a regular file"),
             "dev null": (Path("/dev/null"), "/dev"), "dev zero": (Path("/dev/zero"), "/dev"),
             "proc": (Path("/proc/emigre-test.html"), "/proc"), "file as parent": (fx / "afile" / "r.html", "is a file"),
             "symlink loop": (fx / "loop1", "cannot be used"), "symlink loop as parent": (fx / "loop1" / "r.html", "")}
    if not IS_ROOT:
        cases["read-only dir"] = (fx / "ro" / "r.html", "cannot write")
    return cases


@pytest.mark.parametrize("kind", ["directory", "fifo", "dev null", "dev zero", "proc", "file as parent",
                                  "symlink loop", "symlink loop as parent", "read-only dir"])
def test_report_refuses_bad_out_before_the_work(kind, store, fx, capsys, monkeypatch):
    cases = _report_outs(fx)
    if kind not in cases:
        pytest.skip("running as root: permissions do not stop writes")
    out, match = cases[kind]
    import emigre.report

    def never(*a, **k):
        raise AssertionError("built the report before checking --out")

    monkeypatch.setattr(emigre.report, "write_report", never)
    assert_refused(["report", store, "--out", out], capsys, None, match or None)
    assert not (store / "report.html").exists()


@pytest.mark.parametrize("arguments,match", [({"scenario": "nosuch-scenario", "params": {}}, "nosuch-scenario"),
                                             ({"scenario": "russia-2022", "params": [1, 2]}, "params mapping"),
                                             ({"scenario": 5}, "scenario name")],
                         ids=["unknown scenario", "params not a mapping", "scenario not a name"])
def test_report_refuses_a_manifest_with_bad_arguments(arguments, match, store, tmp_path, capsys):
    import json

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps(manifest | {"arguments": arguments}))
    out = tmp_path / "out" / "r.html"
    assert_refused(["report", copy, "--out", out], capsys, None, match)
    assert not out.exists() and not (copy / "report.html").exists()


def test_report_refuses_a_store_another_job_is_writing(store, tmp_path, capsys):
    from emigre.results.writer import StoreWriter

    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    with StoreWriter(copy):
        assert_refused(["report", copy], capsys, None, "another emigre job is writing")
    assert not (copy / "report.html").exists()
    # a store made without `emigre run` (no arguments in its manifest): the russia-2022 scenario, no --param
    rc, stdout, stderr = emigre(["report", copy], capsys)
    assert rc == 0 and stdout.strip() == f"report: {copy / 'report.html'}", stderr
    assert (copy / "report.html").read_text().startswith("<!DOCTYPE html>")


# ------------------------------------------------------------------------------------------- valid controls
def test_controls_still_pass(fx, store, tmp_path, capsys):
    out = tmp_path / "sim"
    rc, stdout, stderr = emigre(["simulate", *SIM, "--out", out, "--param", "regularise_share=1",
                                 "--param", "push_mobilization_decay_days=1"], capsys)  # range bounds are valid
    assert rc == 0, stderr
    assert (out / "daily.parquet").is_file() and (out / "summary.json").is_file()
    rc, stdout, stderr = emigre(["flee", "run", MALI, "--hasten", "50", "--out", tmp_path / "f" / "out.csv"], capsys)
    assert rc == 0 and (tmp_path / "f" / "out.csv").is_file(), stderr
    rc, stdout, stderr = emigre(["evidence", "load", OBSERVATIONS], capsys)
    assert rc == 0 and "valid observations" in stdout
    rc, stdout, stderr = emigre(["estimate", "departed", "--store", store, "--json"], capsys)
    assert rc == 0 and '"median"' in stdout
    existing = tmp_path / "sim"  # an existing output directory is fine
    rc, _, stderr = emigre(["simulate", *SIM, "--out", existing], capsys)
    assert rc == 0, stderr
