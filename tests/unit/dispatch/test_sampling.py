"""The test batch sample covers every channel, service and language, then fills up to N."""

from __future__ import annotations

from bolletta.platform.dispatch.sampling import choose_sample


def features(service: str, language: str, *channels: str) -> set[tuple[str, str]]:
    return {("service", service), ("language", language), *(("channel", c) for c in channels)}


def test_rare_service_language_and_channel_are_included() -> None:
    bills = {n: features("electricity", "it", "email") for n in range(1, 21)}
    bills[14] = features("gas", "it", "email")
    bills[17] = features("electricity", "de", "sms")
    bills[19] = features("water", "it", "whatsapp")

    sample = choose_sample(bills, 5)

    assert len(sample) == 5
    assert {14, 17, 19} <= set(sample)
    covered = set().union(*(bills[n] for n in sample))
    assert covered == set().union(*bills.values())


def test_size_caps_the_sample() -> None:
    bills = {n: features(f"s{n}", "it", "email") for n in range(1, 8)}
    assert choose_sample(bills, 3) == [1, 2, 3]


def test_small_job_takes_every_bill() -> None:
    bills = {1: features("gas", "it", "sms"), 2: features("gas", "it", "sms")}
    assert choose_sample(bills, 5) == [1, 2]


def test_empty_job() -> None:
    assert choose_sample({}, 5) == []
