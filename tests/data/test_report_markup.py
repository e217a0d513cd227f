"""Reports exported with their HTML markup left in: headings in tags, list items, entities in units
and identifiers, read as the plain text the export shows."""

from __future__ import annotations

from echogpt.data.report_markup import has_markup, plain_text
from echogpt.data.report_text import parse_report

EXPORT = ("<p><b>Echo report</b></p>\n"
          "MRN:&nbsp;55123<br>\n"
          "Indication: dyspnoea &amp; oedema.<br>\n"
          "<br>\n"
          "<b>Findings</b><br>\n"
          "<p>LV normal size. LVEF 58 %. LAVI 41 mL/m&sup2;. IVC 1.5 cm, &gt;50% collapse.</p>\n"
          "<br>\n"
          "<h3>Conclusions</h3>\n"
          "<ol>\n<li>Normal LV systolic function.</li>\n<li>Moderately dilated LA.</li>\n</ol>\n"
          "<p>Dr K. Osei &ndash; 02/12/2026</p>\n")


def test_plain_text_leaves_text_without_markup_alone() -> None:
    text = "Findings:\nE/e' <8 and IVC >50 % collapse.\nImpression:\nNormal study."
    assert not has_markup(text)
    assert plain_text(text) == text


def test_entities_alone_become_their_characters_line_by_line() -> None:
    text = plain_text("LAVI 30 mL/m&sup2;\nIVC &gt; 50&nbsp;% collapse")
    assert text == "LAVI 30 mL/m²\nIVC > 50 % collapse"


def test_block_tags_break_lines_and_markup_only_lines_go() -> None:
    text = plain_text(EXPORT)
    assert "<" not in text and "&" not in text.replace("dyspnoea & oedema", "")
    assert "Conclusions\n1. Normal LV systolic function.\n2. Moderately dilated LA.\nDr K. Osei" in text
    assert "\n\nFindings\n" in text  # a <br> alone is the blank line it shows


def test_table_cells_are_set_apart() -> None:
    assert plain_text("<table><tr><td>MRN</td><td>A-12</td></tr></table>") == "MRN | A-12"


def test_an_export_keeps_its_impression_units_and_identifier() -> None:
    parsed = parse_report(EXPORT)
    assert parsed.impression == "1. Normal LV systolic function.\n2. Moderately dilated LA."
    assert parsed.header["patient_id"] == "55123"
    assert parsed.indication == "dyspnoea & oedema."
    assert {r.field: r.raw for r in parsed.readings}.get("lavi") is not None
    assert "<" not in parsed.findings_text


def test_an_ampersand_heading_is_the_and_heading() -> None:
    parsed = parse_report("Findings:\nLV normal.\n\nIMPRESSION & PLAN:\n1. Normal LV.\n")
    assert parsed.impression == "1. Normal LV."
