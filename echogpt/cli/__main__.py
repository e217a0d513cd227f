"""``python -m echogpt.cli`` runs the command line (as ``python -m echogpt`` and ``echogpt`` do).

    python -m echogpt.cli --help
"""

import sys

from echogpt.cli import main

sys.exit(main())
