"""The derivations book: every chapter checks, renders and compiles; ``symstride book``."""

from __future__ import annotations

import pytest

from symstride import Conv, destride
from symstride import book as book_module
from symstride.book import Chapter, chapters, write_book
from symstride.cli import main
from symstride.render.pdf import compile_pdf
from symstride.render.templates import render_template

EXPECTED = ["notation", "stride_as_subsampling", "polyphase_1d", "resnet_downsampling", "stem_7x7", "dilation", "layouts"]


@pytest.fixture(scope="module")
def all_chapters():
    return chapters()


def test_the_book_has_the_required_chapters_in_order(all_chapters):
    assert [c.name for c in all_chapters][: len(EXPECTED)] == EXPECTED


def test_every_derivation_of_the_book_checks(all_chapters):
    for chapter in all_chapters:
        for part, report in chapter.check():
            assert report, f"{chapter.name}: {getattr(report, 'failure', report)}"


def test_the_resnet_layer_has_the_structural_zeros_of_the_design_notes(all_chapters):
    (derivation,) = next(c for c in all_chapters if c.name == "resnet_downsampling").parts
    bank = derivation.blocks[0]
    assert [p.live for p in bank.phases] == [4, 2, 2, 1] and bank.zeros == 7


def test_the_whole_book_compiles(all_chapters, tmp_path):
    appendix = [section for c in all_chapters for section in c.evidence("section")]
    tex = render_template("book.tex", chapters=[(c, c.body()) for c in all_chapters], appendix=appendix)
    assert tex.count("\\chapter{") == len(all_chapters) + 1  # and the appendix "Evidence"
    assert appendix and tex.count("\\ref{ev:") == len(appendix) == tex.split("\\appendix")[1].count("\\label{ev:")
    assert compile_pdf(tex, tmp_path / "book.pdf").read_bytes().startswith(b"%PDF")


def test_symstride_book_writes_tex_and_pdf_per_chapter_and_the_book(capsys, tmp_path):
    status = main(["book", "-o", str(tmp_path), "--only", "polyphase_1d"])
    out = capsys.readouterr().out.split()
    assert status == 0
    names = sorted(p.rsplit("/", 1)[-1] for p in out)
    assert names == ["book.pdf", "book.tex", "polyphase_1d.pdf", "polyphase_1d.tex"]
    assert (tmp_path / "polyphase_1d.pdf").read_bytes().startswith(b"%PDF")
    assert "\\tableofcontents" in (tmp_path / "book.tex").read_text()


def test_symstride_book_lists_its_chapters_name_first(capsys):
    assert main(["book", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines][: len(EXPECTED)] == EXPECTED


def test_symstride_book_rejects_unknown_chapters_and_a_missing_directory(capsys, tmp_path):
    assert main(["book", "-o", str(tmp_path), "--only", "nope"]) == 2
    assert "no chapter named 'nope'; the chapters are: notation, stride_as_subsampling" in capsys.readouterr().err
    assert main(["book"]) == 2
    assert capsys.readouterr().err == "symstride book: error: the book needs an output directory: -o DIR\n"


def test_a_failing_chapter_makes_the_book_exit_1_and_says_so(capsys, tmp_path, monkeypatch):
    d = destride(Conv(kernel=3, stride=2)).derivation
    broken = d.with_step(3, d.steps[2].expr.func(d.steps[2].expr.function, (d.steps[2].expr.limits[0][0], 0, 1), *d.steps[2].expr.limits[1:]))
    monkeypatch.setattr(book_module, "chapters", lambda names=None: [Chapter("broken", "A broken chapter", "", [broken])])
    assert main(["book", "-o", str(tmp_path), "--no-pdf"]) == 1
    assert "checks failed in: broken" in capsys.readouterr().err
    assert "Evidence --- FAILED" in (tmp_path / "broken.tex").read_text()


def test_write_book_without_pdflatex_fails_before_writing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    from symstride.render.pdf import PdflatexMissing

    with pytest.raises(PdflatexMissing, match="pdflatex is not on PATH"):
        write_book(tmp_path / "out", ["polyphase_1d"])
    assert not (tmp_path / "out").exists()
