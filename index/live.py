"""Where an index directory's live generation is (`CURRENT` names it, under `generations/`),
and verifying its files ahead: the server starts hashing them before it imports the rest of
itself and loads the model, so that a cold start reads the index while it does. Light on
purpose (no index module but the manifest)."""

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from index.checked import CheckedFiles
from index.manifest import IndexUnusableError, Manifest

CURRENT_FILE = "CURRENT"
GENERATIONS_DIR = "generations"


def live_generation(root: Path) -> Path | None:
    """The live generation folder under `root`, or None when nothing was published."""
    try:
        name = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return root / GENERATIONS_DIR / name if name else None


def verify_ahead(root: Path) -> Future[CheckedFiles]:
    """Start hashing the files of the live generation under `root` on other threads. The
    result knows the files that hold their manifest's checksum, which loading then does not
    hash again (`IndexDirectory(root, checked=...)`); whatever is missing, unreadable or
    changed, loading verifies and reports as it always does."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="verify")
    future = pool.submit(_verified, root)
    pool.shutdown(wait=False)
    return future


def _verified(root: Path) -> CheckedFiles:
    checked = CheckedFiles()
    try:
        folder = live_generation(root)
        if folder is not None:
            checked.remember(folder, Manifest.read(folder).verified_files(folder))
    except (OSError, IndexUnusableError):
        pass  # loading verifies the files itself and says what is wrong
    return checked
