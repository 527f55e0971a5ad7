"""Inferring a publication date from French article text."""

import re
from datetime import date

MONTH_NAMES = tuple(
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
)
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}
_DATE = re.compile(rf"\b(\d{{1,2}})(?:er)? ({'|'.join(MONTHS)}) (\d{{4}})\b", re.IGNORECASE)


def infer_published(text: str) -> date | None:
    """The latest full date (« 22 novembre 2023 ») written in the text, if any."""
    found = []
    for day, month, year in _DATE.findall(text):
        try:
            found.append(date(int(year), MONTHS[month.lower()], int(day)))
        except ValueError:
            continue
    return max(found, default=None)
