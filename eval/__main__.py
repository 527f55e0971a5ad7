import sys

from eval.runner import main

sys.exit(main())
