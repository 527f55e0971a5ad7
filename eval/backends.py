"""Where answers come from during evaluation: the in-process pipeline or a running service."""

import json
import urllib.request
from dataclasses import asdict
from typing import Any, Protocol

from index.query import Mode
from service.answering import QuestionAnswerer


class Backend(Protocol):
    label: str

    def search(self, query: str, k: int, mode: Mode) -> dict[str, Any]: ...

    def document(self, doc_id: str) -> str: ...


class InProcess:
    """Calls the question-answering core directly (no HTTP)."""

    def __init__(self, answerer: QuestionAnswerer, label: str) -> None:
        self.answerer = answerer
        self.label = label

    def search(self, query: str, k: int, mode: Mode) -> dict[str, Any]:
        return asdict(self.answerer.ask(query, k, mode))

    def document(self, doc_id: str) -> str:
        article = self.answerer.snapshot.articles.get(doc_id)
        return article.text if article else ""


class Remote:
    """Calls a running depeche service's HTTP API."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.label = self.url
        self.timeout = timeout
        self._documents: dict[str, str] = {}

    def search(self, query: str, k: int, mode: Mode) -> dict[str, Any]:
        body = json.dumps({"query": query, "k": k, "mode": mode.value}).encode()
        request = urllib.request.Request(
            f"{self.url}/search", body, {"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            result: dict[str, Any] = json.load(response)
            return result

    def document(self, doc_id: str) -> str:
        if doc_id not in self._documents:
            with urllib.request.urlopen(
                f"{self.url}/documents/{doc_id}", timeout=self.timeout
            ) as r:
                self._documents[doc_id] = json.load(r)["text"]
        return self._documents[doc_id]
