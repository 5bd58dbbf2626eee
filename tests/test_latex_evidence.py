"""The check evidence of a document: a short paragraph in the body, the details in an appendix.

In every document (``derive``/``prove --format latex``, a book chapter, the book) each derivation's
body says in two sentences what was proved for all values and what was evaluated on which grid,
and refers (``\\ref``) to an appendix section holding the step-by-step details; every reference
resolves when compiled.  A fragment to paste (``--fragment``) has no appendix: its details follow
the short paragraph.  Failing twins: a broken derivation says FAILED in both places, a forged step
says "Not proved", and a reference to a missing appendix section is reported by the log reader.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from symstride import Conv, destride
from symstride.book import Chapter, write_book
from symstride.proof.proofs import prove
from symstride.render.latex_log import read_log
from symstride.render.pdf import compile_document
from symstride.render.templates import render_template


def sentences(tex: str) -> int:
    """Sentences of LaTeX prose: full stops ending a sentence (not inside numbers such as 1.1e-16)."""
    return len(re.findall(r"\.(?=\s|$)", tex.strip()))


def check_paragraphs(body: str) -> list[str]:
    """Each derivation's check part of ``body``: from "Proved."/"Not proved."/"Evidence" to the next
    paragraph or section that is not one of them."""
    found = []
    for m in re.finditer(r"\\paragraph\{(?:Proved|Not proved)\.\}|\\paragraph\{Evidence(?: --- FAILED)?\.\}", body):
        if found and m.start() < found[-1][1]:
            continue
        end = re.search(r"\\paragraph\{(?!Evidence)(?!Proved)(?!Not proved)|\\section|\\chapter|\\begin\{(?:named|theorem|lemma)|\\appendix|$",
                        body[m.end():])
        found.append((m.start(), m.end() + end.start()))
    return [body[a:b] for a, b in found]


def body_and_appendix(tex: str) -> tuple[str, str]:
    body, _, appendix = tex.partition("\\appendix")
    return body, appendix


@pytest.fixture(scope="module")
def d1():
    return destride(Conv(kernel=3, stride=2)).derivation


def test_a_derive_document_has_a_short_check_paragraph_and_the_details_in_its_appendix(d1, tmp_path):
    tex = d1.document()
    body, appendix = body_and_appendix(tex)
    [paragraph] = check_paragraphs(body)
    assert sentences(paragraph) == 2, paragraph
    assert "itemize" not in body and "Evidence in detail" not in body
    assert "\\paragraph{Proved.}\nFor all values of $N$" in paragraph and "evaluated exactly on 5 instances" in paragraph
    assert "tolerance 1e-12" in paragraph and "Appendix~\\ref{ev:derivation}" in paragraph
    # the appendix: one section "Evidence", the derivation's details under the label the body cites
    assert appendix.count("\\section{Evidence}") == 1 and "\\label{ev:derivation}" in appendix
    assert "\\begin{itemize}" in appendix and "[exhaustive]" in appendix and "9 output samples" in appendix
    for step in d1.check().steps:
        if step.claims:
            assert f"\\item ({step.number})" in appendix
    result = compile_document(tex, tmp_path / "d.pdf")
    assert read_log(result.log).problems() == []


def test_a_fragment_keeps_its_details_after_the_short_paragraph(d1):
    tex = d1.latex()
    assert "\\ref" not in tex and "\\appendix" not in tex
    short, _, details = tex.partition("\\paragraph{Evidence in detail.}")
    assert "\\begin{itemize}" in details and "\\begin{itemize}" not in short
    assert sentences(check_paragraphs(short)[0]) == 2


def test_a_proof_document_labels_every_part_and_every_reference_resolves(tmp_path):
    proof = prove("noble-identity")
    tex = proof.document()
    body, appendix = body_and_appendix(tex)
    refs = re.findall(r"\\ref\{(ev:[^}]*)\}", body)
    labels = re.findall(r"\\label\{(ev:[^}]*)\}", appendix)
    assert refs == labels == [f"ev:noble-identity:{i}" for i in range(1, len(proof.parts) + 1)]
    for paragraph in check_paragraphs(body):
        assert sentences(paragraph) <= 3 and "itemize" not in paragraph
    assert read_log(compile_document(tex, tmp_path / "p.pdf").log).problems() == []


def test_the_book_has_an_evidence_appendix_chapter_with_a_section_per_derivation(d1, tmp_path, monkeypatch):
    from symstride import book as book_module

    two = destride(Conv(kernel=(3, 3), stride=2, padding=1)).derivation
    monkeypatch.setattr(book_module, "chapters", lambda names=None: [Chapter("one", "One", "", [d1]), Chapter("two", "Two", "", [two])])
    write_book(tmp_path, pdf=False)
    book = (tmp_path / "book.tex").read_text(encoding="utf-8")
    body, appendix = body_and_appendix(book)
    assert re.findall(r"\\ref\{(ev:[^}]*)\}", body) == ["ev:one:1", "ev:two:1"]
    assert "\\chapter{Evidence}" in appendix and appendix.count("\\section{") == 2
    assert re.findall(r"\\label\{(ev:[^}]*)\}", appendix) == ["ev:one:1", "ev:two:1"]
    assert "itemize" not in body and all(sentences(p) == 2 for p in check_paragraphs(body))
    assert read_log(compile_document(book, tmp_path / "book.pdf").log).problems() == []
    # each chapter's own document carries its own appendix
    assert "\\label{ev:two:1}" in body_and_appendix((tmp_path / "two.tex").read_text(encoding="utf-8"))[1]


def test_failing_twin_a_broken_derivation_says_failed_in_the_body_and_the_appendix(d1):
    broken = d1.with_step(3, d1.steps[2].expr.func(d1.steps[2].expr.function, (d1.steps[2].expr.limits[0][0], 0, 1), *d1.steps[2].expr.limits[1:]))
    body, appendix = body_and_appendix(broken.document())
    [paragraph] = check_paragraphs(body)
    assert paragraph.startswith("\\paragraph{Evidence --- FAILED.}") and "step 3" in paragraph and "Proved" not in paragraph
    assert "FAILED: step 3" in appendix and "\\ref{ev:derivation}" in paragraph


def test_failing_twin_a_step_without_a_proof_is_not_proved_in_the_short_paragraph(d1):
    report = d1.check()
    unproved = dataclasses.replace(report, steps=(dataclasses.replace(report.steps[0], proof=None), *report.steps[1:]))
    assert unproved.ok and not unproved.proved
    [paragraph] = check_paragraphs(render_template("check_summary.tex", report=unproved, notation=d1.notation, evidence_label="ev:x"))
    assert paragraph.startswith("\\paragraph{Not proved.}") and "Proved" not in paragraph and "For all values" not in paragraph
    assert "step 0 (definition) is not proved: no symbolic check" in paragraph
    assert "Every line was evaluated exactly on 5 instances" in paragraph and sentences(paragraph) == 2


def test_failing_twin_a_reference_to_a_missing_appendix_section_is_reported(tmp_path):
    tex = render_template("document.tex", title="t", body="Details in Appendix~\\ref{ev:missing}.")
    assert any("ev:missing" in p for p in read_log(compile_document(tex, tmp_path / "m.pdf").log).problems())


def test_an_appendix_section_takes_only_a_section_or_subsection_heading(d1):
    assert d1.evidence_latex("ev:x", heading="section").startswith("\\section{")
    with pytest.raises(ValueError, match="heading must be 'section' or 'subsection', not 'chapter'"):
        d1.evidence_latex("ev:x", heading="chapter")
