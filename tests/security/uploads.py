"""Hostile files for every <input type="file"> the project shows, and their judge.

Each upload is posted alone into one file field of a discovered form (its other
fields as the page gave them, text ones filled with a harmless value). The answer
must not be a 5xx, even on the page a redirect leads to; a refusal must say why (a
form error, a JSON error message, or a plain-text reason), and a refused upload
must leave no row and no file behind; an accepted one must be whole (its file on
disk, inside MEDIA_ROOT).
"""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from accounts.models import User
from mailing.imports import stash_dir
from mailing.models import Client
from tests.security.forms import Form, shows_an_error


@dataclass(frozen=True)
class Upload:
    label: str
    name: str
    content: bytes
    content_type: str = "application/octet-stream"

    def file(self) -> SimpleUploadedFile:
        return SimpleUploadedFile(self.name, self.content, self.content_type)


def png(width: int, height: int, noise: bool = False) -> bytes:
    pixels = os.urandom(width * height * 3) if noise else None
    image = PILImage.frombytes("RGB", (width, height), pixels) if noise else None
    image = image or PILImage.new("RGB", (width, height), "white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels in a few bytes (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def upload_corpus() -> list[Upload]:
    tiny = png(8, 8)
    # Larger than every upload limit of the project (Wagtail images 10 MB, avatars
    # 2 MB, the client import CLIENT_IMPORT_MAX_BYTES), and a real image: the size
    # check, not the image check, has to refuse it.
    oversized = png(1900, 1900, noise=True)
    assert len(oversized) > max(
        settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE, settings.CLIENT_IMPORT_MAX_BYTES
    )
    return [
        Upload("empty file", "empty.png", b"", "image/png"),
        Upload("text as image", "notes.png", b"plain text, no image\n", "image/png"),
        Upload(
            "HTML as image",
            "photo.jpg",
            b"<html><script>alert(1)</script></html>",
            "image/jpeg",
        ),
        Upload(
            "SVG with script",
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "image/svg+xml",
        ),
        Upload(
            "executable as image", "cat.gif", b"MZ\x90\x00" + b"\x00" * 60, "image/gif"
        ),
        Upload("truncated PNG", "cut.png", tiny[:40], "image/png"),
        Upload("pixel bomb", "bomb.png", png_header_only(40_000, 40_000), "image/png"),
        Upload("oversized image", "huge.png", oversized, "image/png"),
        Upload("image as CSV", "clients.csv", tiny, "text/csv"),
        Upload(
            "CSV with NUL and CR",
            "clients.csv",
            b"a@x.example,\x00A\rB\n\xff\xfe",
            "text/csv",
        ),
        Upload("traversal name", "../../../../etc/passwd.png", tiny, "image/png"),
        Upload("valid image", "fine.png", tiny, "image/png"),
    ]


def media_files() -> set[Path]:
    found = set()
    for root in (Path(settings.MEDIA_ROOT), stash_dir()):
        if root.exists():
            found |= {path for path in root.rglob("*") if path.is_file()}
    return found


def saved_state(user: User | None) -> dict:
    avatar = User.objects.get(pk=user.pk).avatar.name if user else ""
    return {
        "images": get_image_model().objects.count(),
        "documents": get_document_model().objects.count(),
        "clients": Client.objects.count(),
        "avatar": avatar,
        "files": media_files(),
    }


def refusal_reason(response) -> str | None:
    """Why the server refused, or None if it accepted (a redirect, JSON success)."""
    kind = response.get("Content-Type", "")
    body = response.content.decode(errors="replace")
    if response.status_code in (301, 302, 303):
        return None
    if "json" in kind:
        data = json.loads(body)
        if data.get("success", True):
            return None
        return data.get("error_message") or ""
    if "html" in kind:
        return "form error" if shows_an_error(body) else ""
    return body.strip()


class Uploader:
    """Posts uploads to the file fields of one form and judges each answer."""

    def __init__(self, http, role: str, user, page: str, form: Form):
        self.http, self.role, self.user, self.page, self.form = (
            http, role, user, page, form,
        )  # fmt: skip
        self.tried = self.refused = 0
        self.failures: list[str] = []

    def post(self, upload: Upload) -> None:
        for name, _accept in self.form.files:
            self.http.get(self.page)  # a fresh CSRF token, as a browser would have
            data = self.form.data(
                dict.fromkeys(self.form.text_fields(), "upload probe")
            )
            before = saved_state(self.user)
            response = self.http.post(self.form.action, {**data, name: upload.file()})
            self.tried += 1
            self.judge(f"{self.role} {self.form.action} {name} <- {upload.label}",
                       response, before)  # fmt: skip

    def judge(self, where: str, response, before: dict) -> None:
        if response.status_code >= 500:
            self.failures.append(f"{where}: {response.status_code}")
            return
        reason = refusal_reason(response)
        after = saved_state(self.user)
        if reason is None:
            self.check_accepted(where, response, before, after)
            return
        self.refused += 1
        if not reason:
            self.failures.append(f"{where}: refused without saying why")
        if after != before:
            changed = [key for key in after if after[key] != before[key]]
            self.failures.append(f"{where}: refused but saved {changed}")

    def check_accepted(self, where: str, response, before: dict, after: dict) -> None:
        if response.status_code in (301, 302, 303):
            landing = self.http.get(response["Location"])
            if landing.status_code >= 500:
                self.failures.append(
                    f"{where}: the next page is a {landing.status_code}"
                )
        media = Path(settings.MEDIA_ROOT).resolve()
        for path in after["files"] - before["files"]:
            inside = path.resolve().is_relative_to(
                media
            ) or path.resolve().is_relative_to(stash_dir().resolve())
            if not inside:
                self.failures.append(f"{where}: wrote {path} outside MEDIA_ROOT")
        for key, model in (("images", get_image_model()),
                           ("documents", get_document_model())):  # fmt: skip
            if after[key] > before[key]:
                newest = model.objects.order_by("-pk").first()
                if not newest.file.storage.exists(newest.file.name):
                    self.failures.append(f"{where}: {key} row without its file")
