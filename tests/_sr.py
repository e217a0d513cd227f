"""Echo Structured Reports built with highdicom for the tests (no downloaded data).

    path = sr_file(tmp_path / "a.dcm", tid5300(pre=[num("LN:80007-8", "LVIDd 2D", 52, "mm")]))
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
from highdicom.sr import (
    CodeContentItem,
    CodedConcept,
    ContainerContentItem,
    ContentSequence,
    NumContentItem,
    RelationshipTypeValues,
    TextContentItem,
)
from pydicom.dataset import Dataset

CONTAINS = RelationshipTypeValues.CONTAINS
MOD = RelationshipTypeValues.HAS_CONCEPT_MOD
PROPS = RelationshipTypeValues.HAS_PROPERTIES
STUDY_UID = "1.2.826.0.1.3680043.8.498.1001"

SITE = ("SCT:363698007", "Finding Site")
METHOD = ("SCT:370129005", "Measurement Method")
PHASE = ("SCT:272518008", "Cardiac Cycle Point")
FLOW = ("SCT:260674002", "Direction of flow")
SELECTION = ("DCM:121404", "Selection Status")
PROPERTY = ("DCM:125307", "Measured Property")
DERIVATION = ("DCM:121401", "Derivation")


def concept(code: str, meaning: str) -> CodedConcept:
    scheme, value = code.split(":", 1)
    return CodedConcept(value, scheme, meaning)


def modifier(role: tuple[str, str], code: str, meaning: str, rel=MOD) -> CodeContentItem:
    return CodeContentItem(name=concept(*role), value=concept(code, meaning), relationship_type=rel)


def num(code: str, meaning: str, value: float, unit: str, *mods, label: str | None = None) -> NumContentItem:
    """A NUM item with modifiers (``modifier(...)`` items) and an optional Short Label."""
    item = NumContentItem(name=concept(code, meaning), value=value, unit=CodedConcept(unit, "UCUM", unit),
                          relationship_type=CONTAINS)
    children = list(mods)
    if label:
        children.append(TextContentItem(name=concept("DCM:125309", "Short Label"), value=label,
                                        relationship_type=PROPS))
    if children:
        item.ContentSequence = ContentSequence(children)
    return item


def container(code: str, meaning: str, children: list, template: str | None = None,
              rel=CONTAINS) -> ContainerContentItem:
    item = ContainerContentItem(name=concept(code, meaning), relationship_type=rel, template_id=template)
    item.ContentSequence = ContentSequence(children)
    return item


def patient(age: float = 64, sex: str = "F", height_cm: float = 165,
            weight_kg: float = 70) -> ContainerContentItem:
    """TID 5201 Patient Characteristics."""
    return container("DCM:121118", "Patient Characteristics", [
        num("DCM:121033", "Subject Age", age, "a"),
        CodeContentItem(name=concept("DCM:121032", "Subject Sex"), value=concept(f"DCM:{sex}", sex),
                        relationship_type=CONTAINS),
        num("LN:8302-2", "Body height", height_cm, "cm"),
        num("LN:29463-7", "Body weight", weight_kg, "kg"),
    ])


def tid5200(sections: list, with_patient: bool = True) -> ContainerContentItem:
    """An Adult Echocardiography Procedure Report root holding ``sections``."""
    return container("DCM:125200", "Adult Echocardiography Procedure Report",
                     ([patient()] if with_patient else []) + sections, template="5200", rel=None)


def section(site_code: str, site: str, items: list) -> ContainerContentItem:
    """A TID 5202 section whose Finding Site the measurements inherit."""
    return container(site_code, site, [modifier(SITE, site_code, site)] + items)


def tid5300(pre: list = (), post: list = (), adhoc: list = (), with_patient: bool = True,
            **patient_args: float | str) -> ContainerContentItem:
    """A Simplified Echo Procedure Report root with its three measurement containers."""
    children = [patient(**patient_args)] if with_patient else []
    for code, meaning, items in (("DCM:125301", "Pre-coordinated Measurements", pre),
                                 ("DCM:125302", "Post-coordinated Measurements", post),
                                 ("DCM:125303", "Adhoc Measurements", adhoc)):
        if items:
            children.append(container(code, meaning, list(items)))
    return container("DCM:125200", "Adult Echocardiography Procedure Report", children, template="5300",
                     rel=None)


def sr_file(path: Path, root: ContainerContentItem, study_uid: str = STUDY_UID,
            patient_id: str = "PAT-1", study_date: str = "20250102") -> Path:
    """Write ``root`` as a Comprehensive SR file whose evidence is a stub echo image header."""
    ev = Dataset()
    ev.StudyInstanceUID, ev.SeriesInstanceUID, ev.SOPInstanceUID = study_uid, hd.UID(), hd.UID()
    ev.SOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"  # Ultrasound Image Storage
    ev.PatientID, ev.PatientName, ev.PatientBirthDate, ev.PatientSex = patient_id, "Test^Echo", "", ""
    ev.AccessionNumber, ev.StudyID, ev.StudyDate, ev.StudyTime = "ACC1", "1", study_date, "101500"
    ev.ReferringPhysicianName, ev.Modality = "", "US"
    sr = hd.sr.ComprehensiveSR(evidence=[ev], content=root, series_instance_uid=hd.UID(), series_number=1,
                               sop_instance_uid=hd.UID(), instance_number=1, manufacturer="EchoGPT tests")
    sr.save_as(path)
    return path
