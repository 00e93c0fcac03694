"""Forms of the citizen pages. Validation at the edge; the use cases in services.py check the rest."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from herzstadt.participation import images
from herzstadt.participation.models import Category, Comment, IdeaStatus, Process
from herzstadt.participation.services import check_point

MAX_IMAGE_BYTES = 5 * 1024 * 1024


#: the error for a coordinate that is no number, with a correct example for each field
NOT_A_NUMBER = {
    "lat": _("Enter the latitude as a number, e.g. 49.4447."),
    "lon": _("Enter the longitude as a number, e.g. 7.7586."),
}


def parse_coordinate(value: str, low: float, high: float, field: str = "lat") -> float | None:
    """Accept "49.4447" and the German "49,4447"."""
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(NOT_A_NUMBER[field]) from None
    if not (low <= number <= high) or number != number:
        raise ValidationError(
            _("The number must lie between %(low)s and %(high)s.") % {"low": low, "high": high}
        )
    return number


def clean_image(upload) -> ContentFile:
    """Check type, size and pixels, then re-encode in bounded memory (participation/images.py): this
    drops EXIF data such as the GPS position of the phone that took the picture (privacy by design)
    and any payload hidden in the file."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(_("The image is larger than 5 MB."))
    return images.process_upload(upload)


class IdeaForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=140, min_length=5)
    body = forms.CharField(
        label=_("Your idea"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=5000,
        min_length=20,
        help_text=_("What should happen, and why? At least 20 characters."),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=_("– none –"),
    )
    location_text = forms.CharField(
        label=_("Place (address or description)"),
        max_length=200,
        required=False,
        help_text=_("For example: Corner of Pfaffstraße and Albert-Schweitzer-Straße."),
    )
    lat = forms.CharField(
        label=_("Latitude"), required=False, max_length=20, help_text=_("Optional, e.g. 49.4447.")
    )
    lon = forms.CharField(
        label=_("Longitude"), required=False, max_length=20, help_text=_("Optional, e.g. 7.7586.")
    )
    image = forms.FileField(
        label=_("Image"),
        required=False,
        help_text=_(
            "Optional: JPEG, PNG or WebP, at most 5 MB. Location data in the file is removed."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    image_alt = forms.CharField(
        label=_("Image description"),
        max_length=200,
        required=False,
        help_text=_("Describe the image for people who cannot see it."),
    )

    def __init__(self, process: Process, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.process = process
        self.fields["category"].queryset = process.categories.all()
        if not process.categories.exists():
            del self.fields["category"]

    def clean_lat(self):
        return parse_coordinate(self.cleaned_data.get("lat"), -90, 90, "lat")

    def clean_lon(self):
        return parse_coordinate(self.cleaned_data.get("lon"), -180, 180, "lon")

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        return clean_image(upload) if upload else None

    def clean(self):
        """Every check in one pass, so all errors show at once (also the district check, which the
        use case repeats)."""
        data = super().clean()
        if (data.get("lat") is None) != (data.get("lon") is None) and not self.errors.get("lat"):
            self.add_error("lat", _("Give both latitude and longitude, or neither."))
        elif not self.errors.get("lat") and not self.errors.get("lon"):
            try:
                check_point(self.process, data.get("lon"), data.get("lat"))
            except ValidationError as exc:
                for message in exc.message_dict.get("lat", exc.messages):
                    self.add_error("lat", message)
        if data.get("image") and not (data.get("image_alt") or "").strip():
            self.add_error(
                "image_alt", _("Please describe the image for people who cannot see it.")
            )
        return data

    def image_to_choose_again(self) -> str:
        """The name of an image that was chosen and is fine, but not stored because other fields
        have errors (browsers cannot keep a chosen file): the page asks to choose it again."""
        upload = self.files.get("image") if self.is_bound else None
        if not upload or not self.errors or "image" in self.errors:
            return ""
        return upload.name

    def note_image_to_choose_again(self) -> None:
        name = self.image_to_choose_again()
        if name and self.errors:
            self.add_error(
                None,
                _(
                    "Your image “%(name)s” has not been saved yet: please choose it again before "
                    "you send the form."
                )
                % {"name": name},
            )


class IdeaEditForm(forms.Form):
    """The author edits the title and text of their idea (place and image stay as they are)."""

    title = IdeaForm.base_fields["title"]
    body = IdeaForm.base_fields["body"]


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=3000,
        min_length=2,
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, idea=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.idea = idea

    def clean_parent(self):
        pk = self.cleaned_data.get("parent")
        if pk is None:
            return None
        parent = Comment.objects.filter(pk=pk, idea=self.idea).first()
        if parent is None:
            raise ValidationError(_("You can only reply to a comment on this idea."))
        return parent


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong with it?"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )
    comment = forms.IntegerField(required=False, widget=forms.HiddenInput)


SORTS = {
    "new": ("-created_at", _("newest")),
    "supported": ("-support_count", _("most supported")),
    "discussed": ("-comment_count", _("most discussed")),
}


class IdeaFilterForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.none(), required=False, empty_label=_("all")
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("all")), *IdeaStatus.choices]
    )
    sort = forms.ChoiceField(
        label=_("Order"), required=False, choices=[(k, label) for k, (_o, label) in SORTS.items()]
    )

    def __init__(self, process: Process, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = process.categories.all()

    def apply(self, ideas):
        if not self.is_valid():
            return ideas.order_by("-created_at", "-id")
        data = self.cleaned_data
        if data.get("category"):
            ideas = ideas.filter(category=data["category"])
        if data.get("status"):
            ideas = ideas.filter(status=data["status"])
        order = SORTS.get(data.get("sort") or "new")[0]
        return ideas.order_by(order, "-id")
