import sys

from eval.runner import main
from service.logs import configure_logging

configure_logging(structured=False)
sys.exit(main())
