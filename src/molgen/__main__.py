import sys

from molgen.cli.main import main

sys.exit(main())
