"""sending.replies reads pipelined replies as smtplib's getreply() does, from the
buffered reader smtplib reads from. These tests fail when smtplib changes either:
how it splits replies, or where it keeps the bytes it has received."""

import io
import smtplib
import ssl

import pytest

from mailing.sending.pipelining import message_parts
from mailing.sending.replies import MAX_LINE, ReplyReader

from .smtp_servers import RecordingHandler, smtp_server
from .tls_servers import make_ca, tls_smtp_server

ODD_REPLIES = (
    b"250 2.1.0 Ok\r\n"
    b"250-first line\r\n250-  second, spaced  \r\n250 last\r\n"
    b"550 5.1.1 <a@b> No such user  \r\n"
    b"354 End data with <CR><LF>.<CR><LF>\r\n"
    b"250\r\n"  # a code alone
    b"451 bare line feed\n"
    b"25x not a number\r\n"  # getreply() ends the reply here, code -1
    b"421-4.7.0 going\r\n421 4.7.0 away\r\n"
    b"250-start\r\n2x0 broken continuation\r\n"
    b"221 2.0.0 Bye\r\n"
)


class Trickle(io.RawIOBase):
    """A connection that delivers its bytes a few at a time, as TCP may."""

    def __init__(self, data: bytes, step: int):
        self.data, self.step = data, step

    def readable(self):
        return True

    def readinto(self, buffer):
        size = min(self.step, len(buffer))
        piece, self.data = self.data[:size], self.data[size:]
        buffer[: len(piece)] = piece
        return len(piece)


def unconnected(data: bytes, step: int) -> smtplib.SMTP:
    smtp = smtplib.SMTP()
    smtp.file = io.BufferedReader(Trickle(data, step), buffer_size=16)
    return smtp


def replies_of(read, count: int) -> list:
    return [read() for _ in range(count)]


@pytest.mark.parametrize("step", [1, 7, 1000])
def test_replies_are_split_as_smtplib_getreply_splits_them(step):
    expected = replies_of(unconnected(ODD_REPLIES, step).getreply, 10)
    reader = ReplyReader(unconnected(ODD_REPLIES, step))

    assert replies_of(reader.reply, 10) == expected
    assert expected[1] == (250, b"first line\nsecond, spaced\nlast")
    assert expected[6] == (-1, b"not a number")
    assert expected[8] == (-1, b"start\nbroken continuation")
    assert not reader.left_over()
    # Three replies of 4xx or 5xx: the connection's error count (error budget).
    assert reader.smtp.errors == 3


def test_a_closed_connection_and_a_long_line_raise_as_getreply_does():
    for data, error in [
        (b"250 Ok\r\n250-and then noth", smtplib.SMTPServerDisconnected),
        (b"250 " + b"x" * MAX_LINE + b"\r\n", smtplib.SMTPResponseException),
    ]:
        smtp, ours = unconnected(data, 50), unconnected(data, 50)
        reader = ReplyReader(ours)
        if data.startswith(b"250 Ok"):
            assert smtp.getreply() == reader.reply()
        with pytest.raises(error) as theirs:
            smtp.getreply()
        with pytest.raises(error) as mine:
            reader.reply()
        assert str(mine.value) == str(theirs.value)
        assert ours.file is None  # closed, as smtplib closes it


def pipelined_noops(smtp: smtplib.SMTP) -> list:
    """Two NOOPs in one write: smtplib's getreply() reads the first, and with it
    the second into its buffer, which the reader must find there."""
    smtp.send(b"NOOP\r\nNOOP\r\n")
    first = smtp.getreply()
    reader = ReplyReader(smtp)
    second = reader.reply()
    assert not reader.left_over()
    return [first, second, smtp.noop()]  # smtplib reads on where the reader ended


def test_the_reader_reads_where_smtplib_buffers_on_a_real_connection():
    with smtp_server(RecordingHandler()) as port:
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=5)
        smtp.ehlo()
        replies = pipelined_noops(smtp)
        smtp.quit()

    assert [code for code, _text in replies] == [250, 250, 250]


def test_the_reader_reads_smtplibs_new_buffer_after_starttls(tmp_path):
    ca_files = make_ca(tmp_path)
    with tls_smtp_server(RecordingHandler(), ca_files) as (port, _counts):
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=5)
        smtp.starttls(context=ssl.create_default_context(cafile=ca_files[0]))
        assert smtp.file is None  # smtplib drops its reader with the plain socket
        smtp.ehlo()
        replies = pipelined_noops(smtp)
        smtp.quit()

    assert [code for code, _text in replies] == [250, 250, 250]


@pytest.mark.parametrize(
    ("data", "on_the_wire"),
    [
        (b"plain\r\n", b"plain\r\n.\r\n"),
        (b".first\r\nmid\r\n.x\r\n..y", b"..first\r\nmid\r\n..x\r\n...y\r\n.\r\n"),
        (b"", b"\r\n.\r\n"),
        (b"a\n.b\r.c", b"a\n..b\r.c\r\n.\r\n"),  # a lone CR starts no line
    ],
)
def test_message_parts_dot_stuff_as_smtplib(data, on_the_wire):
    assert b"".join(message_parts(data)) == on_the_wire
    stuffed = smtplib._quote_periods(data)
    ended = stuffed if stuffed.endswith(b"\r\n") else stuffed + b"\r\n"
    assert on_the_wire == ended + b".\r\n"
