"""Sending a run's emails: from a claimed group of Attempt rows to their results.

The walk from "Send now" (services.send_now) to an Attempt row's result:
open_run writes one pending Attempt per recipient -> send_run loads the run's
email once (services.RunJob) -> _pump claims groups ahead and hands each over
as a connection frees up, recording results and claiming the next group while
the connections send (outbox.exchange, under the consumer's lease, see
mailing.leases) -> SenderPool hands each group to a transport in a sender thread:

- `delivery.deliver`: one email per recipient. Where the backend takes bytes
  (`smtp.EmailBackend`, ours, on smtplib), `mime.RunWire` writes each email and
  `pipelining` sends them one round trip each (`replies` reads the server's
  replies, the only module that leans on smtplib's insides), reconnecting before
  the server's error limit; any other backend (an ESP without batches) gets one
  API call per email;
- `esp.EspBatches`: an Anymail ESP with batch sending, up to the ESP's recipient
  limit per API call, each recipient's status read from the ESP's answer. Its
  connections are the configured backend made by `anymail_batch`, which builds
  the payload from our validated addresses and values without Anymail parsing
  each again (and sends Mailgun's form as multipart); the only module that leans
  on how Anymail builds payloads.

`mime` is the one MIME builder: every header of a mailing email (`mailing_headers`)
and the envelope sender (`envelope_sender`) are chosen there; Django's undocumented
address and header encoders it shares are reached only through `django_mail`.
`capabilities` says what the configured backend accepts (probed once, from
Anymail itself), so an email never carries a feature the backend refuses; `policy`
turns each answer or exception into the row's result, its text storable; the
outbox records the results with the next exchange. `checks` warns at start-up
about settings that would lose mail.
"""
