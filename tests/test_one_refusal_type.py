"""One refusal type (issue 13 item 11): every deliberate refusal is a SymstrideError; the CLI catches only those."""

import pathlib
import re

import pytest

from symstride.cli import main
from symstride.core.errors import SymstrideError, SymstrideTypeError

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "symstride"

#: Bare ValueError/TypeError raises that are not refusals of user input: (file, text on the line).
ALLOWED = {
    ("render/structure.py", "cited but not in references.bib"),  # a template cites an unknown key: a bug in symstride's templates
}


def test_every_refusal_in_the_package_is_a_symstride_error():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"raise (ValueError|TypeError)\(", line):
                where = path.relative_to(PACKAGE).as_posix()
                if not any(where == f and text in line for f, text in ALLOWED):
                    found.append(f"{where}:{number}: {line.strip()}")
    assert found == [], "raise SymstrideError / SymstrideTypeError instead:\n" + "\n".join(found)


def test_the_allow_list_names_lines_that_exist():
    for where, text in ALLOWED:
        assert text in (PACKAGE / where).read_text(encoding="utf-8"), (where, text)


def test_a_type_refusal_is_still_a_type_error():
    from symstride import Conv

    with pytest.raises(TypeError) as info:
        Conv(kernel=3.5)
    assert isinstance(info.value, SymstrideTypeError) and isinstance(info.value, SymstrideError)
    with pytest.raises(SymstrideError):
        Conv(kernel=0)


@pytest.mark.parametrize("bug", [RuntimeError, ValueError, TypeError, KeyError])
def test_an_internal_bug_is_not_turned_into_a_one_line_error(monkeypatch, bug):
    import symstride.cli.derive as derive

    def broken(args):
        raise bug("an internal bug")

    monkeypatch.setattr(derive, "build", broken)
    with pytest.raises(bug, match="an internal bug"):
        main(["derive", "--kernel", "3", "--stride", "2"])


def test_a_refusal_is_still_one_line(capsys):
    assert main(["derive", "--kernel", "0", "--stride", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "kernel" in err
