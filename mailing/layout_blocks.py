"""The blocks owners build email layouts from.

Each block renders email-safe markup (tables, widths, absolute links) from a
trusted template; user values reach it only through Django's autoescaping or, for
rich text, through the email sanitiser. The mandatory footer (unsubscribe link,
postal address, "view in browser") is not a block: the layout template always
renders it after the blocks, so no editor, form or crafted POST can remove it.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images.blocks import ImageChooserBlock

from .models.ownership import single_line

# Rich text in a layout: what mail clients render alike (no embeds, no tables).
TEXT_FEATURES = ["h2", "h3", "bold", "italic", "ol", "ul", "link", "document-link"]


class HeaderBlock(blocks.StructBlock):
    logo = ImageChooserBlock(label=_("logo"), required=False)
    title = blocks.CharBlock(
        label=_("title"), required=False, max_length=120, validators=[single_line]
    )
    tagline = blocks.CharBlock(
        label=_("tagline"), required=False, max_length=200, validators=[single_line]
    )

    class Meta:
        icon = "title"
        label = _("Header with logo")
        template = "mailing/email/blocks/header.html"


class TextBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        super().__init__(features=TEXT_FEATURES, **kwargs)

    class Meta:
        icon = "pilcrow"
        label = _("Text")
        template = "mailing/email/blocks/text.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("image"))
    alt = blocks.CharBlock(
        label=_("alternative text"),
        max_length=200,
        validators=[single_line],
        help_text=_("Shown where the image is blocked; read aloud by screen readers."),
    )
    link = blocks.URLBlock(label=_("link"), required=False)

    class Meta:
        icon = "image"
        label = _("Image")
        template = "mailing/email/blocks/image.html"


class ButtonBlock(blocks.StructBlock):
    label = blocks.CharBlock(label=_("label"), max_length=60, validators=[single_line])
    page = blocks.PageChooserBlock(label=_("page"), required=False)
    url = blocks.URLBlock(label=_("address"), required=False)

    class Meta:
        icon = "link"
        label = _("Button")
        template = "mailing/email/blocks/button.html"

    def clean(self, value):
        value = super().clean(value)
        if bool(value.get("page")) == bool(value.get("url")):
            raise StructBlockValidationError(
                block_errors={
                    "url": ValidationError(_("Choose a page or enter an address.")),
                }
            )
        return value


class DividerBlock(blocks.StaticBlock):
    class Meta:
        icon = "horizontalrule"
        label = _("Divider")
        admin_text = _("A horizontal line.")
        template = "mailing/email/blocks/divider.html"


class MessageBodyBlock(blocks.StaticBlock):
    class Meta:
        icon = "doc-full"
        label = _("Message body")
        admin_text = _(
            "The message goes here. Without this block it follows the header."
        )
        template = "mailing/email/blocks/message_body.html"


class FooterBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("text"), max_length=1000)

    class Meta:
        icon = "placeholder"
        label = _("Footer")
        help_text = _(
            "Your own words above the footer. The unsubscribe link, your postal "
            "address and the web version link are always added."
        )
        template = "mailing/email/blocks/footer.html"


class LayoutBlock(blocks.StreamBlock):
    header = HeaderBlock()
    message_body = MessageBodyBlock()
    text = TextBlock()
    image = ImageBlock()
    button = ButtonBlock()
    divider = DividerBlock()
    footer = FooterBlock()

    class Meta:
        block_counts = {"message_body": {"max_num": 1}}
