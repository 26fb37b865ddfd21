"""`python -m microseg.bench <step> ...`: one measured step in its own process."""

import sys

from microseg.bench.run import main

sys.exit(main())
