"""The HTTP API of ``emigre serve`` over the real main job's store (conftest ``main_job``: 2 runs at 50 persons per
traveller): the same JSON as the CLI, bands in order, downloads that cite, paired what-ifs with common random
numbers, bounds refused with a 4xx and a message, a missing or incomplete store answered with a 503.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time

import numpy as np
import pandas as pd
import pytest

fastapi = pytest.importorskip("fastapi", reason="pip install -e '.[dev]'")
from fastapi.testclient import TestClient  # noqa: E402

from emigre.cli import main  # noqa: E402
from emigre.serve import create_app  # noqa: E402

SEPT = "2022-09-30"


def cli_json(args: list[str]):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        rc = main(args)
    assert rc == 0, buf.getvalue()
    return json.loads(buf.getvalue())


@pytest.fixture(scope="module")
def store(main_job):
    return main_job[0]


@pytest.fixture(scope="module")
def client(store):
    with TestClient(create_app(store)) as c:
        yield c


def wait_job(client, job_id: str, timeout: float = 300.0) -> dict:
    t0 = time.time()
    while time.time() - t0 < timeout:
        j = client.get(f"/api/scenarios/{job_id}").json()
        if j["status"] in ("done", "failed"):
            return j
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {j['status']} after {timeout} s")


class LiveServer:
    """uvicorn on 127.0.0.1 in a thread (for the browser and the property-based tests)."""

    def __init__(self, app) -> None:
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        t0 = time.time()
        while not self.server.started:
            if time.time() - t0 > 30:
                raise RuntimeError("uvicorn did not start in 30 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


# ------------------------------------------------------------------------------------------- reading
def test_health_and_openapi(client):
    assert client.get("/api/health").json() == {"status": "ok"}
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/estimate", "/api/series", "/api/evidence", "/api/evidence/{record_id}", "/api/scenarios",
              "/api/scenarios/{job_id}", "/api/scenario/{name}/day/{date}", "/api/scenario/{name}/routes",
              "/api/download/{table}.{fmt}"):
        assert p in paths, p


@pytest.mark.parametrize("args", [
    ["departed"],
    ["departed", "--at", SEPT],
    ["present", "--destination", "GEO", "--by", "reason"],
    ["crossings", "--from", "2022-09-21", "--to", "2022-10-31"],
    ["share", "--by", "age", "--at", "2022-12-31"],
])
def test_estimate_is_the_cli_json(client, store, args):
    expected = cli_json(["estimate", *args, "--store", str(store), "--json"])
    names = {"--at": "at", "--from": "from", "--to": "to", "--destination": "destination", "--by": "by"}
    query = {"quantity": args[0]} | {names[args[i]]: args[i + 1] for i in range(1, len(args), 2)}
    r = client.get("/api/estimate", params=query)
    assert r.status_code == 200, r.text
    assert r.json() == expected
    assert all(e["lo90"] <= e["lo50"] <= e["median"] <= e["hi50"] <= e["hi90"] for e in expected)


def test_series_bands_match_the_store(client, store):
    from emigre.results import ResultStore

    s = ResultStore(store)
    daily = client.get("/api/series", params={"measure": "departures"}).json()
    ref = s.bands("departures")
    assert len(daily["rows"]) == len(ref) == (s.end - s.start).days + 1
    assert np.allclose([r["median"] for r in daily["rows"]], ref["median"].to_numpy())
    for r in daily["rows"]:
        assert r["q05"] <= r["q25"] <= r["median"] <= r["q75"] <= r["q95"]
    # weekly: each run's departures summed over the week, then the quantiles; total over weeks = total over days
    weekly = client.get("/api/series", params={"measure": "departures", "step": "week"}).json()
    per_run = s.series("departures")
    assert len(weekly["rows"]) < len(daily["rows"]) / 6
    assert abs(sum(r["q05"] for r in weekly["rows"]) - per_run.weekly("sum").bands()["q05"].sum()) < 1e-6
    present = client.get("/api/series", params={"measure": "present", "place": "GEO"}).json()
    assert present["kind"] == "stock" and present["rows"][-1]["median"] == pytest.approx(
        float(np.median(s.final("present", "GEO"))))


def test_scenario_day_and_routes_are_the_cli_json(client):
    expected = cli_json(["scenario", "show", "russia-2022", "--date", "2022-09-25", "--json"])
    assert client.get("/api/scenario/russia-2022/day/2022-09-25").json() == expected
    routes = cli_json(["scenario", "routes", "russia-2022", "--from", "RUS:Moscow", "--to", "GEO", "--date",
                       "2022-09-25", "--json"])
    got = client.get("/api/scenario/russia-2022/routes",
                     params={"from": "RUS:Moscow", "to": "GEO", "date": "2022-09-25"}).json()
    assert got == routes and got["total_routes"] > 0
    assert client.get("/api/scenario/other/day/2022-09-25").status_code == 404
    assert client.get("/api/scenario/russia-2022/day/2022-13-45").status_code in (400, 422)


def test_evidence_filters_and_model_band(client):
    rows = client.get("/api/evidence", params={"kind": "stock_in_destination"}).json()
    assert rows and {r["kind"] for r in rows} == {"stock_in_destination"}
    geo = client.get("/api/evidence", params={"destination": "GEO"}).json()
    assert geo and {r["destination"] for r in geo} == {"GEO"}
    everything = client.get("/api/evidence").json()
    compared = [r for r in everything if r["model"]]
    assert len(compared) >= 10  # the report compares at least these like for like
    m = compared[0]["model"]
    assert m["q05"] <= m["median"] <= m["q95"] and m["verdict"]
    one = client.get(f"/api/evidence/{everything[0]['id']}").json()
    assert one["id"] == everything[0]["id"] and one["url"] == everything[0]["url"]
    r = client.get("/api/evidence/OBS99999")
    assert r.status_code == 404 and "OBS99999" in r.json()["detail"]
    r = client.get("/api/evidence", params={"kind": "nonsense"})
    assert r.status_code == 400 and "kind" in r.json()["detail"]


def test_map_has_countries_and_exit_flows(client, store):
    from emigre.results import ResultStore

    m = client.get("/api/map", params={"date": "2022-12-31", "from": "2022-09-21"}).json()
    assert len(m["countries"]) >= 15 and len(m["links"]) >= 10
    medians = [c["median"] for c in m["countries"]]
    assert medians == sorted(medians, reverse=True)  # sorted by value (the country selector)
    geo = next(c for c in m["countries"] if c["iso3"] == "GEO")
    assert geo["median"] == pytest.approx(float(np.median(ResultStore(store).series("present", "GEO").at("2022-12-31"))))
    assert all(-180 <= x["lon"] <= 180 and -90 <= x["lat"] <= 90 for x in m["links"])
    assert client.get("/api/map", params={"date": "2030-01-01"}).status_code == 400


def test_downloads_carry_a_citation(client):
    r = client.get("/api/download/series.csv", params={"measure": "departures"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    first, rest = r.text.split("\n", 1)
    assert first.startswith("# emigre ") and "russia-2022" in first and "OBS0" in first and "may be revised" in first
    df = pd.read_csv(io.StringIO(rest))
    series = client.get("/api/series", params={"measure": "departures"}).json()["rows"]
    assert len(df) == len(series) and np.allclose(df["median"], [x["median"] for x in series])
    import pyarrow.parquet as pq

    r = client.get("/api/download/evidence.parquet")
    table = pq.read_table(io.BytesIO(r.content))
    assert b"citation" in table.schema.metadata and table.num_rows == len(client.get("/api/evidence").json())
    assert client.get("/api/download/secrets.csv").status_code == 422
    assert client.get("/api/download/series.csv").status_code == 400


# ------------------------------------------------------------------------------------------- what-ifs
def test_whatif_pairs_runs_with_the_baseline(client, store):
    from emigre.results import ResultStore

    r = client.post("/api/scenarios", json={"params": {"push_mobilization_intensity": 0}, "runs": 2, "scale": 400})
    assert r.status_code == 202, r.text
    j = wait_job(client, r.json()["id"])
    assert j["status"] == "done" and j["progress"] == 1.0, j
    res = j["result"]
    seeds = ResultStore(store).runs()["seed"].tolist()[:2]
    assert [p["seed"] for p in res["pairs"]] == seeds  # run i pairs with the store's run i (seed and draw)
    head = {h["quantity"]: h for h in res["headlines"]}
    d = head["departed_2022"]["difference"]
    # no mobilization: the autumn 2022 wave (about a million people in the model) does not happen
    assert d["hi90"] < -300_000, d
    diffs = [p["scenario_departed_2022"] - p["baseline_departed_2022"] for p in res["pairs"]]
    assert d["median"] == pytest.approx(float(np.median(diffs)))
    assert "paired runs" in res["summary"]


def test_whatif_common_random_numbers(client):
    """A closure from the last simulated day on cannot change anything before it: with common random numbers
    every run's 2022 departures are equal to the baseline's, to the person."""
    r = client.post("/api/scenarios", json={"closures": [{"link": "road:Upper-Lars-Tbilisi", "from": "2023-12-31"}],
                                            "runs": 1, "scale": 1000})
    assert r.status_code == 202, r.text
    j = wait_job(client, r.json()["id"])
    assert j["status"] == "done", j
    pair = j["result"]["pairs"][0]
    assert pair["scenario_departed_2022"] == pair["baseline_departed_2022"] > 100_000
    assert all(abs(x["median"]) < 1e-9 for x in j["result"]["difference_series"][:-1])


@pytest.mark.parametrize("body,status,words", [
    ({"params": {"push_mobilization_intensity": 0}, "runs": 21}, 422, "less than or equal to 20"),
    ({"params": {"push_mobilization_intensity": 0}, "scale": 1}, 422, "greater than or equal to 20"),
    ({"params": {"no_such_parameter": 1.0}}, 400, "unknown parameter"),
    ({"params": {"push_mobilization_intensity": 1e300}}, 400, "push_mobilization_intensity"),
    ({"params": {"air_speed_kmh": 100.0}}, 400, "outside the valid range [320, 1700]"),
    ({"params": {}}, 400, "nothing to change"),
    ({"closures": [{"link": "road:Nowhere", "from": "2022-09-22"}]}, 400, "not an international link"),
    ({"closures": [{"link": "road:Upper-Lars-Tbilisi", "from": "2022-10-01", "to": "2022-09-01"}]}, 400, "before"),
    ({"params": {"push_mobilization_intensity": 0}, "extra": 1}, 422, "extra"),
    ({"params": {"push_mobilization_intensity": 0}, "runs": 3}, 400, "ensemble has 2 runs"),
])
def test_whatif_bounds_are_refused_with_a_message(client, body, status, words):
    r = client.post("/api/scenarios", json=body)
    assert r.status_code == status, r.text
    assert words in json.dumps(r.json()["detail"]), r.text


def test_whatif_queue_is_bounded(store):
    with TestClient(create_app(store, max_queued=1)) as c:
        a = c.post("/api/scenarios", json={"params": {"push_mobilization_intensity": 0}, "runs": 2, "scale": 200})
        assert a.status_code == 202
        b = c.post("/api/scenarios", json={"params": {"push_mobilization_intensity": 0}, "runs": 1, "scale": 5000})
        assert b.status_code == 429 and "at most 1" in b.json()["detail"]
        assert wait_job(c, a.json()["id"])["status"] == "done"
        assert c.get("/api/scenarios/0123456789abcdef").status_code == 404


# ------------------------------------------------------------------------------------------- refusals
def test_path_traversal_and_oversized_inputs_are_refused(client):
    for url in ("/static/../../../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
                "/api/evidence/..%2F..%2Fetc%2Fpasswd", "/api/series?measure=../../etc/passwd",
                "/static/..%5c..%5cpyproject.toml"):
        r = client.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code)
        assert "[build-system]" not in r.text and "root:" not in r.text
    assert client.get("/api/series", params={"measure": "x" * 5000}).status_code == 414
    assert client.get("/api/series", params={"measure": "x" * 100}).status_code == 422
    r = client.post("/api/scenarios", content=b"{" + b" " * 100_000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger" in r.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"params": {' + b" " * 20_000
        yield b"}}"

    r = client.post("/api/scenarios", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "larger" in r.json()["detail"]
    r = client.get("/api/estimate", params={"quantity": "departed", "at": "2022-02-30"})
    assert r.status_code == 400 and "calendar date" in r.json()["detail"]


def test_missing_and_incomplete_store_is_a_503_with_the_reason(tmp_path, store):
    with TestClient(create_app(tmp_path / "nothing")) as c:
        assert c.get("/api/health").status_code == 200  # the server is up, its data is not
        r = c.get("/api/estimate", params={"quantity": "departed"})
        assert r.status_code == 503 and "emigre run russia-2022" in r.json()["detail"]
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(store, broken)
    manifest = broken / "manifest.json"
    if not manifest.exists():
        pytest.skip("this store has no manifest (older store format)")
    manifest.unlink()
    with TestClient(create_app(broken)) as c:
        r = c.get("/api/series", params={"measure": "departures"})
        assert r.status_code == 503 and "incomplete" in r.json()["detail"], r.text


def test_dashboard_and_assets_are_served(client):
    html = client.get("/").text
    assert "<title>" in html and "/static/app.js" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    for asset in ("app.js", "app.css", "vendor/vega.min.js", "vendor/maplibre-gl.js", "vendor/LICENSE-maplibre-gl"):
        assert client.get(f"/static/{asset}").status_code == 200, asset
    geo = client.get("/basemap.geojson").json()
    assert len(geo["features"]) > 150


def test_serve_command_refuses_an_incomplete_store_in_one_line(tmp_path, store, capsys):
    import shutil

    assert main(["serve", "--help"]) == 0
    assert "--store" in capsys.readouterr().out
    broken = tmp_path / "no-manifest"
    shutil.copytree(store, broken)
    if not (broken / "manifest.json").exists():
        pytest.skip("this store has no manifest (older store format)")
    (broken / "manifest.json").unlink()
    assert main(["serve", "--store", str(broken), "--port", "1"]) == 2  # fails before listening
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "incomplete" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------ predicted parts
def test_evidence_predicted_parts_add_up_and_are_the_runs_own(client, store):
    """Every figure with an operator carries the main job's prediction over its runs, split into parts whose
    values add up to the median; the stored numbers are the operator's on each run's own simulation with the
    observation parameters of that run's posterior draw."""
    import pyarrow.parquet as pq

    rows = client.get("/api/evidence").json()
    pred = {r["id"]: r["predicted"] for r in rows if r["predicted"]}
    assert len(pred) >= 100  # 141 figures have an operator inside the simulated period
    for oid, p in pred.items():
        assert p["runs"] == 2 and p["q05"] <= p["q25"] <= p["median"] <= p["q75"] <= p["q95"], oid
        assert p["parts"][0]["part"] == "wave", oid
        split = sum(x["of_median"] for x in p["parts"])
        assert split == pytest.approx(p["median"], rel=1e-9, abs=1e-6), oid
    # the API's median is the median over the runs of the stored parts' sums
    frame = pd.concat([pq.read_table(f).to_pandas() for f in sorted((store / "runs").glob("pred-*.parquet"))])
    totals = frame.groupby(["id", "run"])["value"].sum()
    for oid in ("OBS003", "OBS010"):
        assert pred[oid]["median"] == pytest.approx(float(np.median(totals[oid].to_numpy())), rel=1e-12)
    assert len(pred["OBS010"]["parts"]) >= 2  # counted at the borders: the wave plus ordinary trips
    one = client.get("/api/evidence/OBS010").json()["predicted"]
    assert one["definition"].startswith("Predicted:") and all(x["doc"] for x in one["parts"])
    # run 1 again, by hand: its seed, its draw's model and observation parameters, the same scale
    from emigre.behaviour.exodus import simulate
    from emigre.jobs.main_job import observe_run, posterior_ensemble

    draws, thetas, _ = posterior_ensemble("default")
    man = json.loads((store / "manifest.json").read_text())
    r1 = next(r for r in man["runs"] if r["run"] == 1)
    params = draws[r1["draw"]] if draws else None
    theta = thetas[r1["draw"]] if thetas else None
    want = observe_run("russia-2022", simulate("russia-2022", seed=r1["seed"], params=params, scale=50.0), theta)
    got = frame[frame["run"] == 1].set_index(["id", "part"])["value"]
    want = want.set_index(["id", "part"])["value"]
    assert sorted(got.index) == sorted(want.index)
    assert np.allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-12, atol=0)


def _synthetic_store_with_predictions(d, *, predictions: bool = True):
    """The synthetic ensemble (3 runs) with predictions whose parts are known: OBS010 = wave 100/200/300 plus
    50 ordinary trips in every run; OBS003 = wave 1000/2000/4000."""
    from synthetic import synthetic_ensemble

    from emigre.results import ResultStore
    from emigre.scenario import load_scenario

    frame, runs = synthetic_ensemble(3, seed=11, world=load_scenario("russia-2022"), end="2023-03-31",
                                     max_destinations=14)
    s = ResultStore(d)
    for r, part in frame.groupby("run"):
        s.write_run(int(r), part.drop(columns="run"))
        if predictions:
            s.write_predictions(int(r), pd.DataFrame({
                "id": ["OBS010", "OBS010", "OBS003"], "part": ["wave", "ordinary_trips", "wave"],
                "value": [100.0 * (r + 1), 50.0, [1000.0, 2000.0, 4000.0][int(r)]]}))
    s.write_runs_table(runs)
    s.write_manifest({"command": "test"})
    return s


def test_predicted_parts_of_a_synthetic_store_are_the_known_numbers(tmp_path):
    s = _synthetic_store_with_predictions(tmp_path / "synthetic")
    with TestClient(create_app(s.directory)) as c:
        p = c.get("/api/evidence/OBS010").json()["predicted"]
        # totals 150, 250, 350: median 250, 5% 160, 95% 340 (linear quantiles over 3 runs)
        assert (p["runs"], p["median"], p["q05"], p["q25"], p["q75"], p["q95"]) == (3, 250.0, 160.0, 200.0, 300.0,
                                                                                    340.0)
        parts = {x["part"]: x for x in p["parts"]}
        assert [x["part"] for x in p["parts"]] == ["wave", "ordinary_trips"]
        assert parts["wave"]["median"] == 200.0 and parts["ordinary_trips"]["median"] == 50.0
        # the median split by the parts' means (200 and 50 of 250): 200 + 50
        assert parts["wave"]["of_median"] == pytest.approx(200.0) and parts["wave"]["share"] == pytest.approx(0.8)
        assert parts["ordinary_trips"]["of_median"] == pytest.approx(50.0)
        assert parts["ordinary_trips"]["label"] == "ordinary trips" and "FSB" in parts["ordinary_trips"]["doc"]
        rows = {r["id"]: r for r in c.get("/api/evidence").json()}
        assert rows["OBS003"]["predicted"]["median"] == 2000.0
        assert [x["of_median"] for x in rows["OBS003"]["predicted"]["parts"]] == [2000.0]
        assert rows["OBS001"]["predicted"] is None  # no prediction stored for it
        csv = c.get("/api/download/evidence.csv").text.splitlines()
        head = csv[1].split(",")
        obs10 = next(line for line in csv if line.startswith("OBS010,"))
        assert "predicted_median" in head and "wave=200; ordinary_trips=50" in obs10
    # a store written before predictions existed answers the same rows with predicted null
    old = _synthetic_store_with_predictions(tmp_path / "old", predictions=False)
    with TestClient(create_app(old.directory)) as c:
        rows = c.get("/api/evidence").json()
        assert rows and all(r["predicted"] is None for r in rows)
        assert c.get("/api/evidence/OBS010").json()["predicted"] is None
