from emigre.cli import main
from emigre.errors import InputError


def test_help_lists_verbs(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for verb in ("evidence", "scenario", "flee"):
        assert verb in out


def test_input_error_names_file_line_column():
    err = InputError("routes.csv", "negative distance", line=7, column="distance_km", expected="a number >= 0", got="-3")
    text = str(err)
    assert text.startswith("routes.csv, line 7, column distance_km: negative distance")
    assert "expected a number >= 0" in text and "'-3'" in text
