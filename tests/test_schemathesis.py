"""Schemathesis against the app's own OpenAPI schema, in process (ASGI), offline: generated
requests to every operation, the write endpoints included (with the admin token), must get
no 5xx, responses that conform to the schema (status codes, content types, bodies), and every
schema-valid request accepted: the schema states what the server checks."""

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

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
    response = case.call_and_validate()  # every check, positive data acceptance included
    assert response.status_code < 500
    statuses[f"{case.operation.label} {response.status_code}"] += 1


def test_cases_were_generated_for_every_operation(capsys: pytest.CaptureFixture[str]) -> None:
    operations = sorted(set(generated))
    with capsys.disabled():
        print(f"\nschemathesis: {len(generated)} generated cases over {len(operations)} operations")
        print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())))
    assert len(operations) >= 8, operations
    assert len(generated) >= 8 * 10
    for write in ("POST /documents", "PUT /documents/{doc_id}", "DELETE /documents/{doc_id}"):
        assert any(k.startswith(write) and k[-3] == "2" for k in statuses), f"no {write} succeeded"
