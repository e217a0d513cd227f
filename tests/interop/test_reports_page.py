"""The Signed reports page offers the chosen report as a FHIR bundle and as a PDF (AppTest); a failure
to build them is one line on the page."""

from __future__ import annotations

from _app_fixtures import copilot_fixture, new_app, talking_model_fixture  # noqa: F401  (fixtures)

GOOD = "1. Normal left ventricular size and systolic function, LVEF 60 %."


def _signed(copilot) -> None:
    d = copilot.db.save_draft(copilot.doc, "S-NORMAL", GOOD, "m@1", None, None, None)
    rep = copilot.db.approve(copilot.doc, d.id, d.version, confirm=True)
    copilot.db.sign(copilot.doc, rep.id, rep.version)


def test_signed_report_downloads(copilot, monkeypatch):
    _signed(copilot)
    at = new_app(copilot.doc2).run().switch_page("views/reports_page.py").run()
    assert not at.exception, at.exception
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert set(buttons) == {"Download FHIR bundle (JSON)", "Download printable report (PDF)"}
    assert not at.warning

    from echogpt.interop import fhir

    def broken(*_args):
        raise ValueError("the bundle could not be built")

    monkeypatch.setattr(fhir, "bundle_json", broken)
    at = new_app(copilot.doc2).run().switch_page("views/reports_page.py").run()
    assert [w.value for w in at.warning] == ["Downloads unavailable: the bundle could not be built"]
    assert not at.get("download_button") and GOOD in at.code[0].value  # the report itself still shows
