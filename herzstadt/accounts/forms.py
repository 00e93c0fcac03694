"""Forms of the person's own pages, and the display name that sign-up asks for.

``SignupExtraForm`` is allauth's ``ACCOUNT_SIGNUP_FORM_CLASS``: allauth's sign-up form inherits its fields
and calls :meth:`SignupExtraForm.signup` once the account exists (a signal has already given it a
profile with a neutral name).
"""

from __future__ import annotations

import logging
import re

from django import forms
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts import reserved_names
from herzstadt.accounts.models import Profile

log = logging.getLogger(__name__)

DISPLAY_NAME_MIN = 3
DISPLAY_NAME_MAX = Profile._meta.get_field("display_name").max_length
#: Names the platform itself uses: the neutral name new accounts get (see signals.py), and the label of
#: anonymised contributions. Nobody may pick them, so no one can pass as someone else.
RESERVED = re.compile(
    r"^(person-\d+|deleted account|gelöschtes konto|participant \d+|teilnehm\S* \d+)$"
)


def clean_display_name(value: str, *, user=None) -> str:
    """Trim and check a display name: a pseudonym is fine, an e-mail address is not, and no two
    people share a name (case does not count)."""
    name = " ".join(value.split())
    if len(name) < DISPLAY_NAME_MIN:
        raise forms.ValidationError(
            gettext("Please use at least %(n)d characters.") % {"n": DISPLAY_NAME_MIN},
            code="too_short",
        )
    if "@" in name:
        raise forms.ValidationError(
            gettext("Please do not use an e-mail address: the name is shown publicly."),
            code="email",
        )
    if RESERVED.match(name.lower()):
        raise forms.ValidationError(
            gettext("This name is reserved. Please choose another one."), code="reserved"
        )
    if reserved_names.is_reserved(name):
        raise forms.ValidationError(
            gettext(
                "This name could be mistaken for the city, one of its offices or its team. "
                "Please choose another one."
            ),
            code="imitates_city",
        )
    taken = Profile.objects.filter(display_name__iexact=name)
    if user is not None and user.pk:
        taken = taken.exclude(user_id=user.pk)
    if taken.exists():
        raise forms.ValidationError(
            gettext("Someone already uses the name “%(name)s”. Please choose another one.")
            % {"name": name},
            code="taken",
        )
    return name


def _display_name_field() -> forms.CharField:
    return forms.CharField(
        label=_("Display name"),
        max_length=DISPLAY_NAME_MAX,
        help_text=_(
            "Shown with your ideas and comments. A pseudonym is fine; we never show your real name "
            "or e-mail address."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )


class SignupExtraForm(forms.Form):
    """What allauth's sign-up form adds for herzstadt: the public display name."""

    field_order = ["display_name", "email", "password1", "password2"]

    display_name = _display_name_field()

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data["display_name"])

    def signup(self, request, user) -> None:
        """Store the chosen name and the city the person registered in."""
        city = getattr(request, "city", None)
        profile, _created = Profile.objects.get_or_create(
            user=user, defaults={"display_name": f"person-{user.pk}"}
        )
        profile.city_id = city.pk if city else None
        profile.display_name = self.cleaned_data["display_name"]
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError:
            # Someone took the same name a moment ago: keep the neutral name, changeable on the
            # profile page, rather than failing the whole sign-up.
            log.info("display name taken during sign-up of user %s; kept the neutral name", user.pk)
            profile.display_name = f"person-{user.pk}"
            profile.save()


class ProfileForm(forms.ModelForm):
    display_name = _display_name_field()

    class Meta:
        model = Profile
        fields = ["display_name", "email_digest"]
        labels = {"email_digest": _("Send me a daily e-mail with my new notifications")}
        help_texts = {
            "email_digest": _(
                "At most one e-mail a day, only when something happened in what you follow."
            )
        }

    def clean_display_name(self) -> str:
        return clean_display_name(self.cleaned_data["display_name"], user=self.instance.user)


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To make sure it is really you."),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(gettext("This password is not correct."), code="wrong")
        return password
