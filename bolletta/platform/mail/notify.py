"""E-mails to the tenant's staff and the platform operator about a job's progress."""

from __future__ import annotations

import logging
from typing import Any

from bolletta.platform.db.models.tenant import Job
from bolletta.platform.i18n import formatting
from bolletta.platform.i18n.job_states import job_state_label
from bolletta.platform.i18n.message import render
from bolletta.platform.jobs.test_batch import count_test_tickets
from bolletta.platform.mail.sender import send_mail
from bolletta.platform.runtime import Runtime
from bolletta.tenants.registry import get_tenant, tenant_config

logger = logging.getLogger(__name__)

MAX_LISTED = 50
"""Rejected, duplicate and ignored records listed in one e-mail; the backoffice lists them all."""

EVENT_SUBJECTS = {
    "opened": "nuova lavorazione ricevuta",
    "parsed": "analisi completata",
    "failed": "lavorazione non riuscita",
    "test_sent": "test di pre-produzione inviato",
    "approved": "benestare registrato",
    "test_rejected": "test di pre-produzione respinto",
    "dispatching": "inoltro ticket avviato",
    "dispatched": "inoltro ticket completato",
    "paused": "inoltro ticket sospeso",
    "resumed": "inoltro ticket ripreso",
    "cancelled": "lavorazione annullata",
}


NO_TEST_RECIPIENTS = (
    "ATTENZIONE: nessun destinatario di test configurato. Il test di pre-produzione non è stato inviato a "
    "nessuno e la lavorazione non può ricevere il benestare. L'operatore della piattaforma aggiunge i "
    "destinatari di test nell'impostazione test_recipients dell'azienda (comando: bolletta tenant settings "
    "set); poi respingi questa lavorazione, il cui test non viene inviato di nuovo, e carica di nuovo il "
    "flusso: si apre una nuova lavorazione, con il test ai nuovi destinatari.\n"
    "WARNING: no test recipients are configured. The test batch was sent to nobody and the job cannot be "
    "approved. The platform operator adds test recipients to the tenant's test_recipients setting "
    "(command: bolletta tenant settings set); then reject this job, whose test batch is not sent again, "
    "and upload the flow again: it opens a new job whose test batch goes to the new recipients."
)


def notify_job(rt: Runtime, tenant: str, job_id: int, event: str) -> int:
    """E-mail the job's ``event`` to the notification list; return how many recipients it had."""
    tenant_row = get_tenant(rt.db, tenant)
    config = tenant_config(tenant_row)
    recipients = list(config.notification_emails)
    if rt.settings.operations_email:
        recipients.append(rt.settings.operations_email)
    if not recipients:
        return 0
    with rt.db.tenant_session(tenant) as session:
        job = session.get(Job, job_id)
        if job is None:
            return 0
        text = _body(tenant_row.name, job, event)
        if event == "test_sent" and count_test_tickets(session, job) == 0:
            text += "\n\n" + NO_TEST_RECIPIENTS
    subject = f"[{tenant_row.name}] Lavorazione #{job_id} ({job.filename}): {EVENT_SUBJECTS.get(event, event)}"
    send_mail(rt.settings.smtp_url, sender=rt.settings.mail_from, to=recipients, subject=subject, text=text)
    logger.info("tenant %s: job %d %s notified to %d recipients", tenant, job_id, event, len(recipients))
    return len(recipients)


def _body(utility: str, job: Job, event: str) -> str:
    report = job.report or {}
    lines = [
        f"Azienda: {utility}",
        f"Lavorazione: #{job.id} - file {job.filename}",
        f"Stato: {job_state_label(job.state, 'it')}",
        f"Ricevuta il: {formatting.moment(job.created_at)}",
    ]
    if event == "test_rejected":
        rejection = next((item for item in reversed(job.transitions) if item.to_state == event), None)
        if rejection is not None:
            lines.append(f"Respinto da: {rejection.actor.removeprefix('user:')}, "
                         f"{formatting.moment(rejection.at)}")
        lines.append(f"Motivo del rifiuto: {job.rejection_reason or '-'}")
    if event in ("parsed", "failed"):
        lines += [
            f"Bollette accettate: {job.bills_accepted}",
            f"Record scartati: {job.bills_rejected}",
            f"Duplicati: {len(report.get('duplicates', []))}",
            f"Clienti senza recapito: {len(report.get('without_contact', []))}",
        ]
        if report.get("archive_error"):
            lines.append(f"Archivio rifiutato: {render(report['archive_error'], 'it')}")
        for item in report.get("rejected", [])[:MAX_LISTED]:
            place = " ".join(str(part) for part in (item["file"], item.get("record"), item.get("field")) if part)
            lines.append(f"- {place}: {render(item['reason'], 'it')}")
        for item in report.get("duplicates", [])[:MAX_LISTED]:
            lines.append(f"- {item.get('file')}: documento {item.get('document_number')} già importato "
                         f"nella lavorazione #{item.get('job_id')}")
        for item in report.get("ignored", [])[:MAX_LISTED]:
            lines.append(f"- {item.get('file')} ignorato: {render(item.get('reason', ''), 'it')}")
    lines.append("")
    lines.append("Il dettaglio è nel backoffice, alla voce \"Ricerca job\".")
    return "\n".join(lines)


SET_ASIDE = (
    " Il file è stato spostato nella cartella scartati/ dell'area SFTP, dove puoi controllarlo e poi "
    "cancellarlo: finché resta lì occupa spazio della quota."
)

UPLOAD_PROBLEMS = {
    "incomplete": (
        "file incompleto",
        "Il file {filename} è arrivato incompleto o danneggiato e non è stato elaborato. "
        "Caricalo di nuovo con lo stesso nome." + SET_ASIDE,
    ),
    "empty": (
        "file vuoto",
        "Il file {filename} è arrivato vuoto (0 byte) e non è stato elaborato. Controlla l'esportazione "
        "e caricalo di nuovo." + SET_ASIDE,
    ),
    "unsupported": (
        "tipo di file non gestito",
        "Il file {filename} non è un flusso di bollette (sono accettati file .zip, .xml, .p7m e .jsonl; "
        "i recapiti vanno nella cartella contatti/) e non è stato elaborato." + SET_ASIDE,
    ),
    "duplicate": (
        "file già ricevuto",
        "Il file {filename} è identico a quello della lavorazione #{job_id}: non è stata aperta una nuova "
        "lavorazione. Se volevi inviare un flusso diverso, controlla l'esportazione.",
    ),
}


def notify_upload(rt: Runtime, tenant: str, filename: str, problem: str, job_id: int | None = None) -> int:
    """E-mail an upload that opened no job (empty, unsupported, incomplete, or the same archive again).

    Return how many recipients the e-mail had.
    """
    tenant_row = get_tenant(rt.db, tenant)
    recipients = list(tenant_config(tenant_row).notification_emails)
    if rt.settings.operations_email:
        recipients.append(rt.settings.operations_email)
    if not recipients or problem not in UPLOAD_PROBLEMS:
        return 0
    title, template = UPLOAD_PROBLEMS[problem]
    text = template.format(filename=filename, job_id=job_id or "")
    subject = f"[{tenant_row.name}] {filename}: {title}"
    send_mail(rt.settings.smtp_url, sender=rt.settings.mail_from, to=recipients, subject=subject, text=text)
    logger.info("tenant %s: upload problem %s notified to %d recipients", tenant, problem, len(recipients))
    return len(recipients)


CONTACTS_ORIGINS = {"sftp": "SFTP, cartella contatti/", "office": "backoffice", "api": "API"}


def notify_contacts_import(rt: Runtime, tenant: str, report: dict[str, Any]) -> int:
    """E-mail the report of a contacts directory import (``ImportReport.to_json``); return recipients."""
    tenant_row = get_tenant(rt.db, tenant)
    recipients = list(tenant_config(tenant_row).notification_emails)
    if rt.settings.operations_email:
        recipients.append(rt.settings.operations_email)
    if not recipients:
        return 0
    filename = report["filename"]

    lines = [
        f"Azienda: {tenant_row.name}",
        f"File di recapiti: {filename} (da {CONTACTS_ORIGINS.get(report['origin'], report['origin'])})",
    ]
    if report.get("file_error") is not None:
        title = "file di recapiti rifiutato"
        lines += [f"File rifiutato, nessun recapito salvato: {render(report['file_error'], 'it')}"]
    else:
        title = "recapiti importati"
        lines += [
            f"Righe lette: {report['rows_read']}",
            f"Recapiti salvati: {report['contacts_stored']} (clienti: {report['customers']})",
            f"Valori scartati: {report['rejected_count']}",
        ]
        lines += [f"- {render(item['reason'], 'it')}" for item in report["rejected"]]
        unlisted = report["rejected_count"] - len(report["rejected"])
        if unlisted > 0:
            lines.append(f"... e altri {unlisted} valori scartati, non elencati qui.")

    lines += ["", "I recapiti salvati valgono per le bollette il cui flusso e il cui file di recapiti non ne "
                  "hanno per quel cliente."]
    subject = f"[{tenant_row.name}] {filename}: {title}"
    send_mail(rt.settings.smtp_url, sender=rt.settings.mail_from, to=recipients, subject=subject,
              text="\n".join(lines))
    logger.info("tenant %s: contacts import of %s notified to %d recipients", tenant, filename, len(recipients))
    return len(recipients)
