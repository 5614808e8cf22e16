"""``python -m nn`` runs the ``valuegrad`` command."""

import sys

from nn.cli import main

sys.exit(main())
