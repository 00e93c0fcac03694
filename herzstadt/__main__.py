import sys

from herzstadt.cli import main

sys.exit(main())
