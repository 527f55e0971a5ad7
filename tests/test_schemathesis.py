"""Schemathesis against the app's own OpenAPI schema, in process (ASGI), offline: generated
requests to every operation, the write endpoints included (with the admin token), must get
no 5xx, responses that conform to the schema (status codes, content types, bodies), and every
schema-valid request accepted: the schema states what the server checks, except that an article
whose text or HTML holds nothing once cleaned (markup or boilerplate only) gets a 422."""

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from corpus import CorpusError
from corpus.readers import article_from_record
from index.snapshot import Snapshot
from service.api import create_app
from tests.harness import AUTH, fake_settings, open_fake_service, publish

MAX_EXAMPLES = 60
generated: list[str] = []
statuses: Counter[str] = Counter()


@pytest.fixture(scope="module")
def api_schema(
    tmp_path_factory: pytest.TempPathFactory, fake_snapshot: Snapshot
) -> schemathesis.schemas.BaseSchema:
    app_settings = fake_settings(
        tmp_path_factory.mktemp("schemathesis"),
        slack_signing_secret="slack-signing-secret",  # so that the Slack routes are live too
        slack_bot_token="xoxb-test",
        slack_api_url="http://127.0.0.1:9/api/",  # never called: generated requests are unsigned
    )
    publish(app_settings, fake_snapshot)
    app = create_app(app_settings, open_fake_service)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    # Every request carries the admin token, so that writes reach the index (bad tokens: see
    # test_bad_input); read endpoints ignore it.
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = headers | AUTH
    generated.append(case.operation.label)
    response = case.call()
    # Every check, positive data acceptance included, except for the one refusal the schema
    # cannot state.
    refused = [positive_data_acceptance] if is_empty_article_refusal(case, response) else None
    case.validate_response(response, excluded_checks=refused)
    assert response.status_code < 500
    statuses[f"{case.operation.label} {response.status_code}"] += 1


def is_empty_article_refusal(case: schemathesis.Case, response: Any) -> bool:
    """A 422 saying so, for a request that does hold an article that cleans to nothing."""
    if response.status_code != 422 or "empty after cleaning" not in response.text:
        return False
    body = case.body if isinstance(case.body, dict) else {}
    records = body.get("documents", [body])
    return any(cleans_to_nothing(record) for record in records if isinstance(record, dict))


def cleans_to_nothing(record: dict[str, Any]) -> bool:
    try:
        article_from_record(record)
    except CorpusError as error:
        return "empty after cleaning" in str(error)
    return False


def test_cases_were_generated_for_every_operation(capsys: pytest.CaptureFixture[str]) -> None:
    operations = sorted(set(generated))
    with capsys.disabled():
        print(f"\nschemathesis: {len(generated)} generated cases over {len(operations)} operations")
        print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    assert len(operations) >= 8, operations
    assert len(generated) >= 8 * 10
    for write in ("POST /documents", "PUT /documents/{doc_id}", "DELETE /documents/{doc_id}"):
        assert any(k.startswith(write) and k[-3] == "2" for k in statuses), f"no {write} succeeded"
