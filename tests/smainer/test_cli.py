"""The CLI's argument types, through the real parser: errors name the flag they are about."""

import pytest

from smainer.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["provider", "--poll-interval", "-1"],
        ["provider", "--heartbeat-interval", "0"],
        ["scheduler", "--interval", "-2.5"],
        ["up", "--demo-interval", "nan"],
        ["devnet", "--block-time", "0"],
    ],
)
def test_a_non_positive_duration_names_its_own_flag(argv, capsys):
    command, flag, value = argv
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == f"smainer {command}: error: argument {flag}: must be positive, got {value}"
    assert "block time" not in last


def test_a_duration_that_is_no_number_says_so(capsys):
    with pytest.raises(SystemExit):
        main(["provider", "--poll-interval", "soon"])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.endswith("argument --poll-interval: not a number of seconds: 'soon'")
