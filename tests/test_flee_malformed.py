"""A corpus of malformed Flee inputs: each is mali2012 with one thing broken, and each must fail with one
InputError naming the file, the line and the column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emigre.errors import InputError
from emigre.flee.reader import find_settings, read_scenario, read_settings

MALI = Path(__file__).resolve().parents[2] / "shared" / "flee" / "scenarios" / "mali2012"
if not MALI.is_dir():  # the shared folder sits beside the checkout on the development machines
    MALI = Path("/work/shared/flee/scenarios/mali2012")
pytestmark = pytest.mark.skipif(not MALI.is_dir(), reason="Flee scenarios not available")

LOC = "input_csv/locations.csv"
ROU = "input_csv/routes.csv"
CLO = "input_csv/closures.csv"
CON = "input_csv/conflicts.csv"
PER = "input_csv/sim_period.csv"
REG = "input_csv/registration_corrections.csv"
LAY = "source_data/data_layout.csv"
BOBO = "source_data/bf-bobo.csv"
KIDAL = "Kidal,Kidal,Mali,18.444305,1.401523,conflict_zone,0,25617"


def set_line(rel: str, line: int, text: str):
    def edit(root: Path) -> None:
        p = root / rel
        lines = p.read_text().splitlines()
        lines[line - 1] = text
        p.write_text("\n".join(lines) + "\n")

    return edit


def append(rel: str, text: str):
    def edit(root: Path) -> None:
        p = root / rel
        p.write_text(p.read_text().rstrip("\n") + "\n" + text + "\n")

    return edit


def write(rel: str, data: str | bytes):
    def edit(root: Path) -> None:
        p = root / rel
        p.write_bytes(data if isinstance(data, bytes) else data.encode())

    return edit


def delete(rel: str):
    return lambda root: (root / rel).unlink()


# (id, edit, file name in the message, line, column)
CASES = [
    ("locations-missing", delete(LOC), "locations.csv", None, None),
    ("locations-empty", write(LOC, ""), "locations.csv", None, None),
    ("locations-binary", write(LOC, b"\x00\x01\x02PK"), "locations.csv", None, None),
    ("locations-header-only", write(LOC, "#name,region,country\n"), "locations.csv", None, None),
    (
        "locations-short-row",
        set_line(LOC, 2, "Kidal,Kidal,Mali,18.4,1.4,conflict_zone"),
        "locations.csv",
        2,
        "conflict_date",
    ),
    (
        "population-text",
        set_line(LOC, 3, "Timbuktu,Timbuktu,Mali,16.7,-3.0,conflict_zone,0,many"),
        "locations.csv",
        3,
        "population",
    ),
    (
        "population-negative",
        set_line(LOC, 3, "Timbuktu,Timbuktu,Mali,16.7,-3.0,conflict_zone,0,-5"),
        "locations.csv",
        3,
        "population",
    ),
    ("latitude-range", set_line(LOC, 2, KIDAL.replace("18.444305", "98.4")), "locations.csv", 2, "latitude"),
    ("longitude-range", set_line(LOC, 2, KIDAL.replace("1.401523", "-181")), "locations.csv", 2, "longitude"),
    ("latitude-text", set_line(LOC, 2, KIDAL.replace("18.444305", "north")), "locations.csv", 2, "latitude"),
    (
        "location-type",
        set_line(LOC, 2, KIDAL.replace("conflict_zone", "city")),
        "locations.csv",
        2,
        "location_type",
    ),
    (
        "conflict-date-text",
        set_line(LOC, 2, KIDAL.replace(",0,", ",soon,")),
        "locations.csv",
        2,
        "conflict_date",
    ),
    ("duplicate-location", set_line(LOC, 3, KIDAL), "locations.csv", 3, "name"),
    ("routes-missing", delete(ROU), "routes.csv", None, None),
    ("route-unknown", set_line(ROU, 2, "Douentza,Atlantis,487,0"), "routes.csv", 2, "name2"),
    ("route-self", set_line(ROU, 2, "Mentao,Mentao,487,0"), "routes.csv", 2, "name2"),
    ("route-zero", set_line(ROU, 2, "Douentza,Mentao,0,0"), "routes.csv", 2, "distance"),
    ("route-negative", set_line(ROU, 3, "Mopti,Mentao,-360,0"), "routes.csv", 3, "distance"),
    ("route-text", set_line(ROU, 3, "Mopti,Mentao,far,0"), "routes.csv", 3, "distance"),
    ("route-short", set_line(ROU, 3, "Mopti,Mentao"), "routes.csv", 3, "distance"),
    ("closure-type", set_line(CLO, 2, "border,Mali,Burkina_Faso,0,22"), "closures.csv", 2, "closure_type"),
    ("closure-country", set_line(CLO, 2, "country,Mali,France,0,22"), "closures.csv", 2, "name2"),
    ("closure-location", set_line(CLO, 2, "location,Atlantis,,0,22"), "closures.csv", 2, "name1"),
    ("closure-link", set_line(CLO, 2, "link,Mopti,Atlantis,0,22"), "closures.csv", 2, "name2"),
    (
        "closure-reversed",
        set_line(CLO, 2, "country,Mali,Burkina_Faso,30,22"),
        "closures.csv",
        2,
        "closure_end",
    ),
    (
        "closure-negative-start",
        set_line(CLO, 3, "country,Mali,Niger,-1,33"),
        "closures.csv",
        3,
        "closure_start",
    ),
    (
        "closure-end-below-minus-one",
        set_line(CLO, 3, "country,Mali,Niger,0,-2"),
        "closures.csv",
        3,
        "closure_end",
    ),
    ("closure-short", set_line(CLO, 3, "country,Mali,Niger,0"), "closures.csv", 3, "closure_end"),
    ("conflict-unknown-column", set_line(CON, 1, "#Day, Kidal, Atlantis"), "conflicts.csv", 1, "Atlantis"),
    ("conflict-intensity", set_line(CON, 3, "1, 1.5" + ", 0" * 22), "conflicts.csv", 3, "Kidal"),
    ("conflict-text", set_line(CON, 4, "2, 1, x" + ", 0" * 21), "conflicts.csv", 4, "Gao"),
    ("conflict-short-row", set_line(CON, 5, "3, 1, 0"), "conflicts.csv", 5, "Timbuktu"),
    ("conflict-too-few-days", write(CON, "#Day, Kidal\n0, 1\n1, 1\n"), "conflicts.csv", 3, None),
    ("period-missing", delete(PER), "sim_period.csv", None, None),
    ("period-bad-date", set_line(PER, 1, "StartDate,2012-02-30"), "sim_period.csv", 1, 2),
    ("period-date-format", set_line(PER, 1, "StartDate,29/02/2012"), "sim_period.csv", 1, 2),
    ("period-zero-length", set_line(PER, 2, "Length,0"), "sim_period.csv", 2, 2),
    ("period-length-text", set_line(PER, 2, "Length,long"), "sim_period.csv", 2, 2),
    ("layout-missing", delete(LAY), "data_layout.csv", None, None),
    ("layout-file-missing", set_line(LAY, 2, "Bobo-Dioulasso,bf-nowhere.csv"), "data_layout.csv", 2, 2),
    ("layout-misspelt-camp", set_line(LAY, 2, "bobo-dioulasso,bf-bobo.csv"), "data_layout.csv", 2, "1"),
    ("layout-no-total", set_line(LAY, 1, "Mentao,bf-mentao.csv"), "data_layout.csv", 1, 1),
    ("layout-duplicate", append(LAY, "Mentao,bf-mentao.csv"), "data_layout.csv", 9, 1),
    ("series-negative", set_line(BOBO, 3, "2012-03-24,-950"), "bf-bobo.csv", 3, "count"),
    ("series-text", set_line(BOBO, 3, "2012-03-24,lots"), "bf-bobo.csv", 3, "count"),
    ("series-bad-date", set_line(BOBO, 3, "2012-13-24,950"), "bf-bobo.csv", 3, "date"),
    ("series-no-count", set_line(BOBO, 3, "2012-03-24"), "bf-bobo.csv", 3, "count"),
    ("series-empty", write(BOBO, "date,count\n"), "bf-bobo.csv", None, None),
    (
        "correction-unknown-camp",
        set_line(REG, 1, "Atlantis,2012-12-31,normalize"),
        "registration_corrections.csv",
        1,
        "camp",
    ),
    (
        "correction-bad-date",
        set_line(REG, 2, "Mentao,2012-10-32,normalize"),
        "registration_corrections.csv",
        2,
        "date",
    ),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mali") / "mali2012"
    shutil.copytree(MALI, root)
    return root


@pytest.mark.parametrize(
    ("edit", "file", "line", "column"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_malformed_scenario_fails_clearly(pristine: Path, tmp_path: Path, edit, file, line, column) -> None:
    root = tmp_path / "mali2012"
    shutil.copytree(pristine, root)
    edit(root)
    with pytest.raises(InputError) as info:
        read_scenario(root)
    err = info.value
    text = str(err)
    assert Path(err.file).name == file and file in text
    assert err.line == line
    if line is not None:
        assert f"line {line}" in text
    if column is not None:
        assert err.column == column and f"column {column}" in text
    assert "\n" not in text  # one clear message


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 35


SETTINGS_CASES = [
    ("move_rules:\n  max_move_speed: fast\n", 2, "move_rules.max_move_speed", "a number"),
    ("move_rules:\n  max_move_speed: -4\n", 2, "move_rules.max_move_speed", "> 0"),
    ("move_rules:\n  avoid_short_stints: [1]\n", 2, "move_rules.avoid_short_stints", "true or false"),
    (
        "move_rules:\n  avoid_short_stints: 'yes please'\n",
        2,
        "move_rules.avoid_short_stints",
        "true or false",
    ),
    ("move_rules:\n  softening: 1\n  awareness_level: 0\n", 3, "move_rules.awareness_level", ">= 1"),
    ("move_rules:\n  awareness_level: 1.5\n", 2, "move_rules.awareness_level", "an integer"),
    ("move_rules:\n  default_movechance: 1.2\n", 2, "move_rules.default_movechance", "[0, 1]"),
    ("move_rules:\n  camp_movechance: -0.1\n", 2, "move_rules.camp_movechance", "[0, 1]"),
    ("optimisations:\n  hasten: 0\n", 2, "optimisations.hasten", ">= 1"),
    ("optimisations:\n  hasten: '10'\n", 2, "optimisations.hasten", "an integer"),
    ("spawn_rules:\n  conflict_spawn_decay: 0.5\n", 2, "spawn_rules.conflict_spawn_decay", "a list"),
    ("spawn_rules:\n  conflict_spawn_decay: [1.0, x]\n", 2, "spawn_rules.conflict_spawn_decay", "numbers"),
    ("spawn_rules:\n  insert_day0: 1\n", 2, "spawn_rules.insert_day0", "true or false"),
    ("move_rules:\n  softening: 1\n  softening: 2\n", 3, "move_rules.softening", "once"),
    ("move_rules: 3\n", 1, "move_rules", "indented"),
]


@pytest.mark.parametrize(("text", "line", "column", "expected"), SETTINGS_CASES)
def test_settings_of_wrong_type(tmp_path: Path, text: str, line: int, column: str, expected: str) -> None:
    p = tmp_path / "simsetting.yml"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        read_settings(p)
    err = info.value
    assert err.file == str(p) and err.line == line and err.column == column
    assert expected in (err.expected or "") + err.detail


@pytest.mark.parametrize(
    ("text", "line"),
    [("move_rules:\n  a: [1, 2\n", 3), ("move_rules:\n\tx: 1\n", 2), ("a: b: c\n", 1)],
)
def test_malformed_yaml_names_line(tmp_path: Path, text: str, line: int) -> None:
    p = tmp_path / "simsetting.yml"
    p.write_text(text)
    with pytest.raises(InputError) as info:
        read_settings(p)
    assert info.value.line == line and "malformed YAML" in str(info.value)


@pytest.mark.parametrize("content", ["", b"\x00\xff\x00", "- just\n- a list\n"])
def test_settings_empty_binary_or_not_a_mapping(tmp_path: Path, content: str | bytes) -> None:
    p = tmp_path / "simsetting.yml"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError):
        read_settings(p)


def test_find_settings_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    with pytest.raises(InputError, match="simsetting.yml"):
        find_settings(tmp_path / "a" / "b" / "c")
    with pytest.raises(InputError, match="not found"):
        find_settings(tmp_path, tmp_path / "nope.yml")


def test_missing_scenario_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_scenario(tmp_path / "nowhere")
