"""The fact check: facts from prose and from fields, their comparison, the check of an impression
against its study, highlighting, and the injected-error benchmark."""
