"""One replica of tests/test_cluster.py: `python -m tests.replica PORT` serves the app as
`depeche serve` builds it, with the fake embedder, on 127.0.0.1:PORT; every setting comes
from the environment (DEPECHE_REDIS_URL, DEPECHE_DATA_DIR, Slack, ...). It logs as the
server does, on stderr."""

import sys

import uvicorn

from service.api import create_app
from service.logs import configure_logging
from service.settings import Settings
from tests.harness import open_fake_service


def main(port: int) -> int:
    configure_logging(structured=True)
    app = create_app(Settings(), open_fake_service)
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
