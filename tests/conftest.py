"""Shared test helpers: where ../shared is, and tiny Flee-format scenarios written on the fly."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (_ROOT.parent / "shared", Path("/work/shared")) if p.is_dir()), _ROOT.parent / "shared")
FLEE_DIR = SHARED / "flee"


def require_shared() -> None:
    """Skip when ../shared is absent on a developer's machine; in CI its absence is an error."""
    if not FLEE_DIR.is_dir():
        if os.environ.get("CI"):
            raise RuntimeError(f"CI needs the shared folder beside the checkout: {SHARED}")
        pytest.skip("shared/ not available")


def write_flee_scenario(
    root: Path,
    *,
    locations: list[str],
    routes: list[str],
    closures: list[str] = (),
    conflicts: dict[str, list[float]] | None = None,
    length: int = 20,
    start: str = "2020-01-01",
    camps: dict[str, list[tuple[str, float]]] | None = None,
    corrections: list[str] = (),
) -> Path:
    """Write a small scenario in Flee's format. ``locations`` rows are
    ``name,region,country,lat,lon,type,conflict_date,population``; ``camps`` maps a camp to its series."""
    inp = root / "input_csv"
    src = root / "source_data"
    inp.mkdir(parents=True, exist_ok=True)
    src.mkdir(parents=True, exist_ok=True)
    (inp / "locations.csv").write_text(
        "#name,region,country,latitude,longitude,location_type,conflict_date,population\n" + "\n".join(locations) + "\n"
    )
    (inp / "routes.csv").write_text("#name1,name2,distance,forced_redirection\n" + "\n".join(routes) + "\n")
    (inp / "closures.csv").write_text("#closure_type,name1,name2,closure_start,closure_end\n"
                                      + "".join(c + "\n" for c in closures))
    names = list((conflicts or {}).keys())
    rows = ["#Day," + ",".join(names)]
    for d in range(length):
        rows.append(str(d) + "".join(f",{conflicts[n][min(d, len(conflicts[n]) - 1)]}" for n in names))
    (inp / "conflicts.csv").write_text("\n".join(rows) + "\n")
    (inp / "sim_period.csv").write_text(f"StartDate,{start}\nLength,{length}\n")
    (inp / "registration_corrections.csv").write_text("".join(c + "\n" for c in corrections))
    camps = camps or {}
    layout = ["total,refugees.csv"]
    total: dict[str, float] = {}
    for camp, series in camps.items():
        fname = f"{camp.lower()}.csv"
        (src / fname).write_text("".join(f"{d},{v}\n" for d, v in series))
        layout.append(f"{camp},{fname}")
        for d, v in series:
            total[d] = total.get(d, 0.0) + v
    (src / "refugees.csv").write_text("".join(f"{d},{v}\n" for d, v in sorted(total.items())) or f"{start},0\n")
    (src / "data_layout.csv").write_text("\n".join(layout) + "\n")
    return root


SETTINGS = """\
spawn_rules:
  sum_from_camps: True
  conflict_spawn_decay: [1.0, 1.0, 1.0, 0.5, 0.1]
  insert_day0: True
move_rules:
  max_move_speed: 400.0
  softening: 50.0
  default_movechance: 0.5
  avoid_short_stints: True
  capacity_scaling: 1.25
  distance_power: 0.75
  awareness_level: {awareness}
  camp_movechance: 0.001
  conflict_movechance: 1.0
  conflict_weight: 0.25
optimisations:
  hasten: 1
"""


def write_settings(path: Path, awareness: int = 1) -> Path:
    path.write_text(SETTINGS.format(awareness=awareness))
    return path


@pytest.fixture(scope="session")
def flee_mali():
    require_shared()
    from emigre.flee.reader import read_scenario, read_settings

    return read_scenario(FLEE_DIR / "scenarios" / "mali2012"), read_settings(FLEE_DIR / "simsetting.yml")


@pytest.fixture(scope="session")
def main_job(tmp_path_factory):
    """The real main job (``emigre run russia-2022``), small: 2 runs at 50 persons per traveller, one worker.
    Returns (output directory, captured stdout)."""
    import contextlib
    import io

    from emigre.cli import main

    out = tmp_path_factory.mktemp("main-job")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["run", "russia-2022", "--runs", "2", "--scale", "50", "--workers", "1", "--out", str(out)])
    assert rc == 0, buf.getvalue()
    return out, buf.getvalue()


CHROMIUM = Path("/usr/bin/chromium")
#: flags every browser test starts Debian's chromium with (this machine's closed network refuses the rest)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@contextlib.contextmanager
def chromium(*extra_args: str):
    """Debian's chromium driven by Playwright (Playwright's own browser downloads are not used); the browser
    tests must run in CI, so a missing browser or package fails rather than skips."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package (apt-get install -y chromium); the browser "
                    "tests must run in CI, and Playwright's own browser downloads are not used")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: pip install -e '.[dev]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield b
        finally:
            b.close()
