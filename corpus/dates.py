"""Inferring a publication date from French article text."""

import re
from datetime import date

MONTHS = {
    name: number
    for number, name in enumerate(
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
        start=1,
    )
}
_DATE = re.compile(r"\b(\d{1,2})(?:er)? (%s) (\d{4})\b" % "|".join(MONTHS), re.IGNORECASE)


def infer_published(text: str) -> date | None:
    """The latest full date (« 22 novembre 2023 ») written in the text, if any."""
    found = []
    for day, month, year in _DATE.findall(text):
        try:
            found.append(date(int(year), MONTHS[month.lower()], int(day)))
        except ValueError:
            continue
    return max(found, default=None)
