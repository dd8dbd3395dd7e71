"""``python -m huracan_dagster.cli``: the ``huracan`` command."""

import sys

from huracan_dagster.cli.main import main

sys.exit(main())
