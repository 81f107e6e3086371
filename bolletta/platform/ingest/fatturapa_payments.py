"""Reading of a FatturaPA body's payment data: instalments, direct debits and pagoPA notice codes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
from lxml import etree

from bolletta.platform.i18n.message import T_, Text
from bolletta.platform.ingest.fatturapa_values import BodyError, date_value, decimal_at, decimal_value
from bolletta.platform.ingest.pagopa import normalize_notice_code, notice_code_problem
from bolletta.platform.ingest.records import Instalment
from bolletta.platform.ingest.safe_xml import children, find, first_children, stripped_text

DIRECT_DEBIT_METHODS = frozenset({"MP16", "MP17", "MP19", "MP20", "MP21"})
"""``ModalitaPagamento`` codes of bank and SEPA direct debits (domiciliazione bancaria and postale,
SEPA Direct Debit, Core and B2B). Bills paid so are not payable online."""

PAGOPA_METHOD = "MP23"


class Payment(msgspec.Struct, kw_only=True):
    """The payment fields of a bill, derived from its instalments or its total."""

    instalments: list[Instalment]
    amount_due: Decimal
    due_date: date | None
    method: str | None
    direct_debit: bool


def read_payment(body: etree._Element, total: Decimal | None, warnings: list[Text]) -> Payment:
    """Read every ``DettaglioPagamento`` of ``body`` as an instalment, ordered by due date.

    The amount due is the sum of the instalments and the due date is the earliest one. Without
    ``DatiPagamento`` the amount due is ``total`` and the due date is unknown. Without ``total``
    either, the amount due is the sum of the ``DatiRiepilogo`` taxable amounts and VAT, with a
    warning, because both blocks are optional in the schema. Problems that do not stop the bill are
    appended to ``warnings``.

    Raises:
        BodyError: an instalment has no amount, an amount is malformed, or the body has neither
            instalments, a total nor a VAT summary.
    """
    instalments = _read_instalments(body, warnings)
    if not instalments:
        if total is None:
            return _payment_from_vat_summary(body, warnings)
        warnings.append(
            T_(
                "DatiPagamento is missing, so the amount due is ImportoTotaleDocumento and the due date "
                "is unknown. Check the bill before approval."
            )
        )
        return Payment(instalments=[], amount_due=total, due_date=None, method=None, direct_debit=False)

    first = instalments[0]
    if first.due_date is None:
        warnings.append(
            T_(
                "The payment has no DataScadenzaPagamento, so the due date is unknown. "
                "Check the bill before approval."
            )
        )
    debits = [item.method in DIRECT_DEBIT_METHODS for item in instalments]
    if any(debits) and not all(debits):
        warnings.append(
            T_(
                "Some instalments are paid by direct debit and others are not, so the bill is treated as "
                "paid by direct debit and is not payable online. Check the bill before approval."
            )
        )
    return Payment(
        instalments=instalments,
        amount_due=sum((item.amount for item in instalments), Decimal(0)),
        due_date=first.due_date,
        method=first.method,
        direct_debit=any(debits),
    )


def _payment_from_vat_summary(body: etree._Element, warnings: list[Text]) -> Payment:
    summaries = list(children(find(body, "DatiBeniServizi"), "DatiRiepilogo"))
    if not summaries:
        raise BodyError(
            T_(
                "{file}, body {body} was rejected: it has neither DatiPagamento, ImportoTotaleDocumento "
                "nor DatiRiepilogo, so the amount due is unknown. Correct the billing export."
            ),
            field="DatiPagamento",
        )
    amount = Decimal(0)
    for position, summary in enumerate(summaries, start=1):
        label = f"DatiRiepilogo {position}"
        amount += decimal_at(summary, "ImponibileImporto", label=label) or Decimal(0)
        amount += decimal_at(summary, "Imposta", label=label) or Decimal(0)
    warnings.append(
        T_(
            "The file has neither DatiPagamento nor ImportoTotaleDocumento, so the amount due {amount} is "
            "the sum of the taxable amounts and VAT in DatiRiepilogo, and the due date is unknown. Check "
            "the amount before approval, because withholdings and stamp duty are not in that sum.",
            amount=str(amount),
        )
    )
    return Payment(instalments=[], amount_due=amount, due_date=None, method=None, direct_debit=False)


def _read_instalments(body: etree._Element, warnings: list[Text]) -> list[Instalment]:
    instalments: list[Instalment] = []
    for block in children(body, "DatiPagamento"):
        for detail in children(block, "DettaglioPagamento"):
            label = f"DettaglioPagamento {len(instalments) + 1}"
            fields = first_children(detail)
            amount = decimal_value(stripped_text(fields.get("ImportoPagamento")), ("ImportoPagamento",), label=label)
            if amount is None:
                raise BodyError(
                    T_(
                        "{file}, body {body} was rejected: {element} has no ImportoPagamento, so the amount "
                        "due is unknown. Correct the billing export.",
                        element=label,
                    ),
                    field="DatiPagamento/DettaglioPagamento/ImportoPagamento",
                )
            method = stripped_text(fields.get("ModalitaPagamento"))
            due_date = date_value(
                stripped_text(fields.get("DataScadenzaPagamento")), ("DataScadenzaPagamento",), label=label
            )
            instalments.append(
                Instalment(
                    amount=amount,
                    due_date=due_date,
                    method=method,
                    iban=stripped_text(fields.get("IBAN")),
                    notice_code=_notice_code(fields, label, warnings) if method == PAGOPA_METHOD else None,
                )
            )
    # Instalments without a due date go last; sorted() keeps the file order among equal dates.
    return sorted(instalments, key=lambda item: (item.due_date is None, item.due_date or date.min))


def _notice_code(fields: dict[str, etree._Element], label: str, warnings: list[Text]) -> str | None:
    """Return the valid pagoPA notice code of a ``MP23`` instalment, else ``None`` with a warning.

    ``fields`` is the instalment's ``first_children``.
    """
    raw = stripped_text(fields.get("CodicePagamento"))
    if raw is None:
        return None
    code = normalize_notice_code(raw)
    problem = notice_code_problem(code)
    if problem is None:
        return code
    warnings.append(
        T_(
            "{element}: CodicePagamento {code} is not a valid pagoPA notice code because {problem}, so the "
            "bill shows no pagoPA notice for it. Check the code in the billing system before approval.",
            element=label,
            code=repr(raw),
            problem=problem,
        )
    )
    return None
