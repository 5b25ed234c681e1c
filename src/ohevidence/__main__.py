import sys

from ohevidence.cli import main

sys.exit(main())
