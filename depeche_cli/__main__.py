import sys

from depeche_cli import main

sys.exit(main())
