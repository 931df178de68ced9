from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageBlock


class CodeBlock(blocks.StructBlock):
    language = blocks.CharBlock(label=_("language"), max_length=30, required=False)
    code = blocks.TextBlock(label=_("code"))

    class Meta:
        icon = "code"
        label = _("Code")
        template = "blog/blocks/code.html"


class PostBodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        label=_("Text"),
        features=["h2", "h3", "bold", "italic", "link", "ol", "ul"],
    )
    image = ImageBlock(label=_("Image"), template="blog/blocks/image.html")
    quote = blocks.BlockQuoteBlock(label=_("Quote"))
    code = CodeBlock()
