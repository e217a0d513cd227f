"""EchoGPT: drafts, checks and evaluates the impression section of echocardiography reports.

    from echogpt.schemas import Study
    study = Study.model_validate_json(line)

Importing the package is light: torch, transformers and peft load only inside the functions
that need them.
"""

__version__ = "0.1.0"
