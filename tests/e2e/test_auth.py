"""Signing in and out over HTTP, and what ``me`` returns for each kind of token."""

from __future__ import annotations

from tests.e2e.accounts import (
    VISA_CREDIT,
    PatientAccount,
    add_card,
    new_email,
    new_password,
    pay_bill,
    sign_up,
)
from tests.e2e.graphql_http import GraphQLClient
from tests.e2e.graphql_ws import TRANSPORT_WS, subscribe
from tests.e2e.operations import LOG_IN, LOG_OUT, ME, PAYMENT_STATUS_CHANGED
from tests.e2e.server import GatewayServer

# The close code graphql-transport-ws servers send when connection_init is refused.
FORBIDDEN_CLOSE_CODE = 4403
# Well formed, with the gateway's token prefix, but never issued.
BOGUS_TOKEN = "bgp_" + "A" * 43


async def test_log_in_returns_working_token(graphql: GraphQLClient) -> None:
    email = new_email()
    password = new_password()
    signed_up = await sign_up(graphql, email=email, password=password)

    data = await graphql.data(LOG_IN, {"input": {"email": email, "password": password}})
    me = await graphql.data(ME, token=data["logIn"]["token"])

    payload = data["logIn"]
    assert payload["userErrors"] == []
    assert payload["token"]
    assert payload["token"] != signed_up["token"]
    assert payload["patient"]["id"] == signed_up["patient"]["id"]
    assert me["me"]["email"] == email
    assert me["me"]["id"] == signed_up["patient"]["id"]


async def test_log_in_accepts_email_in_other_case(graphql: GraphQLClient) -> None:
    email = new_email()
    password = new_password()
    await sign_up(graphql, email=email, password=password)

    data = await graphql.data(LOG_IN, {"input": {"email": email.upper(), "password": password}})

    assert data["logIn"]["userErrors"] == []
    assert data["logIn"]["patient"]["email"] == email


async def test_me_null_without_token(graphql: GraphQLClient) -> None:
    result = await graphql.execute(ME)

    assert result.get("errors") is None
    assert result["data"]["me"] is None


async def test_me_null_with_bogus_token(graphql: GraphQLClient) -> None:
    result = await graphql.execute(ME, token=BOGUS_TOKEN)

    assert result.get("errors") is None
    assert result["data"]["me"] is None


async def test_me_null_with_malformed_authorization(graphql: GraphQLClient) -> None:
    result = await graphql.execute(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert result.get("errors") is None
    assert result["data"]["me"] is None


async def test_log_out_revokes_token(graphql: GraphQLClient, patient: PatientAccount) -> None:
    before = await graphql.data(ME, token=patient.token)

    logged_out = await graphql.data(LOG_OUT, token=patient.token)
    after = await graphql.data(ME, token=patient.token)

    assert before["me"]["id"] == patient.global_id
    assert logged_out["logOut"]["loggedOut"] is True
    assert logged_out["logOut"]["userErrors"] == []
    assert after["me"] is None


async def test_log_out_keeps_other_sessions(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    second = await graphql.data(
        LOG_IN, {"input": {"email": patient.email, "password": patient.password}}
    )
    second_token = second["logIn"]["token"]

    await graphql.data(LOG_OUT, token=patient.token)
    still_signed_in = await graphql.data(ME, token=second_token)

    assert still_signed_in["me"]["id"] == patient.global_id


async def test_log_out_twice_is_unauthenticated(
    graphql: GraphQLClient, patient: PatientAccount
) -> None:
    await graphql.data(LOG_OUT, token=patient.token)

    again = await graphql.data(LOG_OUT, token=patient.token)

    assert again["logOut"]["loggedOut"] is False
    assert [error["code"] for error in again["logOut"]["userErrors"]] == ["UNAUTHENTICATED"]


async def test_revoked_token_rejected_on_websocket(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount
) -> None:
    # "Payment:1". The gateway checks the token before it looks the payment up.
    payment_id = "UGF5bWVudDox"
    await graphql.data(LOG_OUT, token=patient.token)

    result = await subscribe(
        gateway.ws_url,
        TRANSPORT_WS,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": payment_id},
        token=patient.token,
    )

    assert result.events == []
    assert result.rejected
    assert result.close_code == FORBIDDEN_CLOSE_CODE


async def test_headers_connection_params_accepted(
    graphql: GraphQLClient, gateway: GatewayServer, patient: PatientAccount
) -> None:
    method = await add_card(graphql, patient.token, VISA_CREDIT)
    payment = await pay_bill(graphql, patient.token, payment_method_id=method["id"])
    params = {"headers": {"Authorization": f"Bearer {patient.token}"}}

    result = await subscribe(
        gateway.ws_url,
        TRANSPORT_WS,
        PAYMENT_STATUS_CHANGED,
        {"paymentId": payment["id"]},
        connection_params=params,
    )

    assert result.rejected is False
    assert result.errors == []
    assert result.completed
    assert len(result.events) == 3
