"""The summary's key facts as natural sentences in the page language, for the voice and the browser.

Who bills, which period, how much and by when, how to pay, and whether earlier payments are
regular. Each sentence is a whole message in the catalogs, so translators can order the words as
their language needs; dates are spoken in Babel's long format ("19 settembre 2031").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from babel.lists import format_list

from bolletta.platform.i18n import formatting
from bolletta.platform.i18n.catalog import translations
from bolletta.platform.i18n.dynamic_ids import N_
from bolletta.platform.portal.page import PageContext

OPENINGS = {
    "electricity": N_("This is your electricity bill from {utility}."),
    "gas": N_("This is your gas bill from {utility}."),
    "water": N_("This is your water bill from {utility}."),
}


def spoken_date(value: date, language: str) -> str:
    """A date as it is read out, such as ``19 settembre 2031``."""
    return formatting.long_day(value, language)


def compose(context: PageContext, utility: str) -> str:
    """The text read aloud for the page's bill, in the page's language."""
    _ = translations(context.language).gettext
    language = context.language
    page = context.page
    bill = page.bill
    sentences: list[str] = []

    if bill.is_credit_note:
        sentences.append(_("This is a credit note from {utility}: no payment is due.").format(utility=utility))
    else:
        sentences.append(_(OPENINGS.get(bill.service, OPENINGS["electricity"])).format(utility=utility))
    if bill.period_from and bill.period_to:
        sentences.append(_("It covers the period from {start} to {end}.").format(
            start=spoken_date(bill.period_from, language), end=spoken_date(bill.period_to, language)))

    def money(value: object) -> str:
        return formatting.money(value, bill.currency, language)  # type: ignore[arg-type]

    sentences.extend(_payment_sentences(context, money))
    if page.previous_payments is not None:
        regular = page.previous_payments.regular
        sentences.append(_("Your previous payments are regular.") if regular
                         else _("Some previous bills are still unpaid."))
    return " ".join(sentences)


def _payment_sentences(context: PageContext, money: Callable[[object], str]) -> list[str]:
    _ = translations(context.language).gettext
    summary = context.page.summary
    if summary.state == "credit_note":
        return []
    if summary.state == "paid":
        return [_("This bill has already been paid: you need to do nothing.")]

    amount = money(summary.amount_due)
    if summary.due_date is not None:
        due = spoken_date(summary.due_date, context.language)
        sentences = [_("The amount to pay is {amount}, by {due}.").format(amount=amount, due=due)]
    else:
        sentences = [_("The amount to pay is {amount}.").format(amount=amount)]
    if summary.state == "direct_debit":
        sentences.append(_("It will be paid by direct debit, so you need to do nothing."))
        return sentences
    if summary.overdue:
        sentences.append(_("The due date has passed: please pay as soon as you can."))

    methods = [_(method) for method in context.page.payment_methods]
    listed = format_list(methods, style="or", locale=context.language) if methods else ""
    if summary.gateways and methods:
        sentences.append(_("You can pay online from this page, or by {methods}.").format(methods=listed))
    elif summary.gateways:
        sentences.append(_("You can pay online from this page."))
    elif methods:
        sentences.append(_("You can pay by {methods}.").format(methods=listed))
    return sentences
