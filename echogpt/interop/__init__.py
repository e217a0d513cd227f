"""Signed reports out to hospital systems: FHIR R4 Bundles and printable PDF reports."""
