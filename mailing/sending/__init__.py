"""Sending a run's emails: from the outbox of Attempt rows to each row's result.

What to send to whom is decided outside: mailing.services opens and closes runs
(send_now, open_run, finish_run, the sweeper), mailing.audiences picks the
recipients. From the outbox on, everything is here, and `pipeline`'s docstring
walks it in one file, from "Send now" to the Attempt row: read that first.

The modules, in the order an email meets them:

- `outbox_writing`: one pending Attempt per recipient, chunk by chunk;
- `pipeline`: RunJob (the run's email, loaded once), send_run and the pump that
  keeps every connection busy with one group;
- `outbox`: claims a group (FOR UPDATE SKIP LOCKED, re-checking run, mailing,
  owner and client) and settles results, each exchange one committed statement;
- `leases`: the consumer's lease, the fencing token on every row it holds, and
  what a dead consumer leaves behind (reap);
- `delivery`: SenderPool (one thread and one connection each) and the
  transports, which never touch the database:
  - `delivery.deliver`: one email per recipient. Where the backend takes bytes
    (`smtp.EmailBackend`, ours, on smtplib), `mime.RunWire` writes each email and
    `pipelining` sends them one round trip each (`replies` reads the server's
    replies, the only module that leans on smtplib's insides), reconnecting
    before the server's error limit; any other backend (an ESP without batches)
    gets one API call per email;
  - `esp.EspBatches`: an Anymail ESP with batch sending, up to the ESP's
    recipient limit per API call, each recipient's status read from the ESP's
    answer. Its connections are the configured backend made by `anymail_batch`,
    which builds the payload from our validated addresses and values without
    Anymail parsing each again (and sends Mailgun's form as multipart); the only
    module that leans on how Anymail builds payloads.

`mime` is the one MIME builder: every header of a mailing email (`mailing_headers`)
and the envelope sender (`envelope_sender`) are chosen there; Django's undocumented
address and header encoders it shares are reached only through `django_mail`.
`capabilities` says what the configured backend accepts (probed once, from
Anymail itself), so an email never carries a feature the backend refuses; the
service never asks what class a backend is. `policy` turns each answer or
exception into the row's result (`outcome`), its text storable; the outbox records
the results with the next exchange. `checks` warns at start-up about settings that
would lose mail.
"""
