"""Contacts CSV reader on the hard cases utilities send."""

from __future__ import annotations

import csv

import pytest

from bolletta.platform.i18n.message import render
from bolletta.platform.ingest.contacts import read_contacts
from bolletta.platform.ingest.errors import ContactsFileRejected


def addresses(data: bytes) -> list[tuple[str, str, str]]:
    contacts, _ = read_contacts(data, "contacts.csv")
    return [(contact.customer_code, contact.channel, contact.address) for contact in contacts]


def test_semicolon_with_bom_and_crlf() -> None:
    data = "\ufeffCodice Cliente;Cellulare;E-mail\r\nC001;333 123 4567;Mario.Rossi@Example.IT\r\n;;\r\n\r\n"
    contacts, rejected = read_contacts(data.encode("utf-8"), "contacts.csv")
    assert rejected == []
    assert [(c.customer_code, c.channel, c.address, c.row) for c in contacts] == [
        ("C001", "sms", "+393331234567", 2),
        ("C001", "email", "Mario.Rossi@example.it", 2),
    ]


def test_windows_1252_accents() -> None:
    data = "codice_anagrafico;cellulare;lingua\nCÀ01;+39 347 765 4321;IT\n".encode("cp1252")
    contacts, rejected = read_contacts(data, "contacts.csv")
    assert rejected == []
    assert contacts[0].customer_code == "CÀ01"
    assert contacts[0].address == "+393477654321"
    assert contacts[0].language == "it"


def test_comma_and_tab_delimiters() -> None:
    assert addresses(b"customer_code,mobile\nC1,3331234567\n") == [("C1", "sms", "+393331234567")]
    assert addresses(b"customer_code\tmobile\nC1\t0039 3331234567\n") == [("C1", "sms", "+393331234567")]


def test_several_numbers_in_one_cell() -> None:
    data = b'codice cliente;cell.;canale\nC1;"333-1234567/347 7654321, 393201112222";WhatsApp\n'
    assert addresses(data) == [
        ("C1", "whatsapp", "+393331234567"),
        ("C1", "whatsapp", "+393477654321"),
        ("C1", "whatsapp", "+393201112222"),
    ]


def test_landline_rejected_with_row() -> None:
    data = b"codice_anagrafico;telefono\nC1;3331234567\nC2;06 1234 5678\n"
    contacts, rejected = read_contacts(data, "contacts.csv")
    assert [contact.customer_code for contact in contacts] == ["C1"]
    assert len(rejected) == 1
    assert rejected[0].record == "3"
    assert rejected[0].field == "phone"
    assert render(rejected[0].reason) == (
        "contacts.csv, riga 3: il numero di telefono '06 1234 5678' è un fisso o comunque non è un "
        "cellulare, quindi non può ricevere SMS o messaggi WhatsApp. Indica un numero di cellulare."
    )


def test_invalid_number_and_email_rejected() -> None:
    data = b"codice_anagrafico;cellulare;email\nC1;12;not-an-address\nC2;;ok@example.com\n"
    contacts, rejected = read_contacts(data, "contacts.csv")
    assert [(contact.customer_code, contact.address) for contact in contacts] == [("C2", "ok@example.com")]
    assert [(item.record, item.field) for item in rejected] == [("2", "phone"), ("2", "email")]
    assert render(rejected[0].reason).startswith(
        "contacts.csv, riga 2: il numero di telefono '12' non è valido. Correggilo"
    )
    assert render(rejected[1].reason).startswith(
        "contacts.csv, riga 2: l'indirizzo e-mail 'not-an-address' non è valido ("
    )


def test_quoted_newline_ragged_rows() -> None:
    data = b'codice_anagrafico;cellulare;note\n"C1";"3331234567";"two\nlines"\nC2;3477654321\n'
    contacts, rejected = read_contacts(data, "contacts.csv")
    assert rejected == []
    assert [(contact.customer_code, contact.row) for contact in contacts] == [("C1", 2), ("C2", 3)]


def test_missing_customer_code_cell_rejected() -> None:
    _, rejected = read_contacts(b"codice_anagrafico;cellulare\n;3331234567\n", "contacts.csv")
    assert rejected[0].field == "customer_code"
    assert rejected[0].record == "2"
    assert render(rejected[0].reason) == (
        "contacts.csv, riga 2: il codice cliente è vuoto. Compilalo o elimina la riga."
    )


def test_missing_customer_code_column_raises() -> None:
    with pytest.raises(ContactsFileRejected) as raised:
        read_contacts(b"nome;cellulare\nMario;3331234567\n", "contacts.csv")
    assert render(raised.value.text) == (
        "contacts.csv non ha una colonna con il codice cliente. Chiama una colonna codice_anagrafico, "
        "codice cliente o customer_code. L'intestazione trovata è ['nome', 'cellulare']."
    )


def test_oversized_cell_raises() -> None:
    data = b"codice_anagrafico;note\nC1;" + b"x" * 200_000 + b"\n"
    with pytest.raises(ContactsFileRejected) as raised:
        read_contacts(data, "contacts.csv")
    reason = render(raised.value.text)
    assert reason.startswith("contacts.csv non si può leggere come CSV vicino alla riga ")
    assert f"tieni ogni cella sotto i {csv.field_size_limit()} caratteri" in reason


def test_undecodable_file_raises() -> None:
    with pytest.raises(ContactsFileRejected) as raised:
        read_contacts(b"codice_anagrafico\n\x81\x8d\n", "contacts.csv")
    assert render(raised.value.text) == (
        "contacts.csv non è testo né UTF-8 né windows-1252 (byte 18). Salvalo come CSV UTF-8."
    )
