"""Wagtail's image form, refusing a file Pillow cannot read with a message, not a 500.

Wagtail 8's image field accepts a file by its magic bytes (Willow), then has Pillow
read it for the pixel-count check and lets Pillow's error through: a truncated PNG
made the image add, edit and multiple-upload views answer 500. Installed with
WAGTAILIMAGES_IMAGE_FORM_BASE, so every image form of the admin gets it.
"""

from django.core.exceptions import ValidationError
from wagtail.images.fields import WagtailImageField
from wagtail.images.forms import BaseImageForm


class ReadableImageField(WagtailImageField):
    def check_image_pixel_size(self, f):
        try:
            super().check_image_pixel_size(f)
        except (OSError, SyntaxError, ValueError) as error:
            # PIL.UnidentifiedImageError is an OSError; broken chunks raise the others.
            raise ValidationError(
                self.error_messages["invalid_image"], code="invalid_image"
            ) from error


class ImageForm(BaseImageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if field := self.fields.get("file"):
            self.fields["file"] = ReadableImageField(
                label=field.label,
                required=field.required,
                widget=field.widget,
                max_length=field.max_length,
            )
