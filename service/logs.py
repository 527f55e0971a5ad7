"""The one logging path: every module logs under the `depeche` logger tree, configured here
once by the program that starts (the server as JSON lines, the CLI and evaluation as text)."""

import json
import logging


class JsonFormatter(logging.Formatter):
    """One JSON object per log line, with the extra fields given to the logger."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "message": record.getMessage(),
        }
        entry |= {name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)}
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(structured: bool, level: int = logging.INFO) -> None:
    """Send the `depeche` logger tree (every module's logger) to stderr: one JSON object per
    line for a server (`structured`), the bare message for a person at a terminal."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if structured else logging.Formatter("%(message)s"))
    root = logging.getLogger("depeche")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
