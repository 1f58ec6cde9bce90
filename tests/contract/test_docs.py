"""The published API documents under docs/ are what the services and contracts say today."""

from premiums_cli.docs import openapi, stale


def test_the_openapi_and_asyncapi_documents_under_docs_are_up_to_date() -> None:
    assert stale() == [], "run `premiums docs`"


def test_each_openapi_document_names_its_money_moving_endpoints() -> None:
    paths = openapi("payments")["paths"]
    assert {"/v1/payments", "/v1/payments/preview", "/v1/bank-accounts"} <= set(paths)
    assert "/v1/enrollments/{enrollment_id}" in openapi("coverage")["paths"]
