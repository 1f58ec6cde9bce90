"""R5.14 use case: a Notification of Change corrects the vaulted account, whichever bank reported it.

The sandbox and the NACHA gateway both record NOCs as bank reports with sealed corrected data; this is the one
place that applies them: new ciphertext under the same token, so the next debit uses the corrected account,
then `BankAccountChanged` with only the token and the last four. A NOC that cannot be applied is logged for
staff (payment, token and change code; never the corrected data) and publishes nothing.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import asyncpg
from premiums_contracts.events import BankAccountChanged

from premiums_payments import repository as repo
from premiums_payments.adapters.vault import Vault, correction_context
from premiums_payments.domain.bank_account import BankAccount
from premiums_payments.domain.corrections import VAULT_CHANGES, UnusableCorrection, corrected_account, describe

log = logging.getLogger(__name__)


async def apply_notification_of_change(
    con: asyncpg.Connection, vault: Vault, notice: Any, business_date: date
) -> BankAccountChanged | None:
    token, code = notice["instrument_token"], notice["change_code"]
    about = {"payment_id": notice["payment_id"], "instrument_token": token, "change_code": code}
    stored = await repo.vault_row_for_update(con, token)
    if code not in VAULT_CHANGES or notice["corrected_data"] is None or stored is None:
        reason = describe(code) if code not in VAULT_CHANGES else "no corrected data or no vaulted account"
        log.warning("notification of change left for staff", extra={**about, "reason": reason})
        return None
    current = BankAccount(
        stored["routing_number"],
        vault.decrypt(stored["key_id"], stored["account_ciphertext"], token=token),
        stored["account_type"],
        stored["holder_name"],
    )
    sealed_with, sealed = notice["corrected_key_id"], notice["corrected_data"]
    try:
        corrected = corrected_account(
            current, code, vault.decrypt(sealed_with, sealed, token=correction_context(notice["payment_id"]))
        )
    except UnusableCorrection as exc:
        log.warning("notification of change left for staff", extra={**about, "reason": str(exc)})
        return None
    key_id, ciphertext = vault.encrypt(corrected.account_number, token=token)
    await repo.correct_bank_account(
        con,
        token,
        {
            "routing_number": corrected.routing_number,
            "account_ciphertext": ciphertext,
            "key_id": key_id,
            "account_last4": corrected.last4,
            "account_type": corrected.account_type,
            "holder_name": corrected.holder_name,
            "corrected_by": code,
            "corrected_on": business_date,
        },
    )
    log.info("notification of change applied", extra=about)
    return BankAccountChanged(
        instrument_token=token,
        enrollment_id=notice["enrollment_id"],
        change_code=code,
        account_last4=corrected.last4,
        account_type=corrected.account_type,
    )
