"""Reading each recipient's status out of an ESP's answer to a batch."""

from anymail.message import AnymailRecipientStatus

from mailing.sending.esp import _StatusOf


class CountingDict(dict):
    folds = 0

    def items(self):
        self.folds += 1
        return super().items()


def test_addresses_the_esp_reports_in_its_own_case_are_folded_once_a_batch():
    statuses = CountingDict(
        {
            f"Reader{n}@Example.ORG": AnymailRecipientStatus(f"id{n}", "queued")
            for n in range(1000)
        }
    )
    status_of = _StatusOf(statuses)

    found = [status_of(f"reader{n}@example.org") for n in range(1000)]

    assert [status.message_id for status in found] == [f"id{n}" for n in range(1000)]
    assert statuses.folds == 1  # not once per row: a 1,000-row batch stays linear
    assert status_of("nobody@example.org") is None
