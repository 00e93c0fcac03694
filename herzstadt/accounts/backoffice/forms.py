"""Forms of the back-office shell: appointing someone to a role, the reason for a block."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from herzstadt.accounts.models import Role


def find_person(text: str) -> User | None:
    """The account with this e-mail address (any of its addresses) or display name, if exactly one."""
    text = text.strip()
    if not text:
        return None
    if "@" in text:
        users = User.objects.filter(
            Q(email__iexact=text) | Q(emailaddress__email__iexact=text), is_active=True
        ).distinct()
    else:
        users = User.objects.filter(profile__display_name__iexact=text, is_active=True)
    found = list(users[:2])
    return found[0] if len(found) == 1 else None


class RoleForm(forms.Form):
    person = forms.CharField(
        label=_("E-mail address or display name"),
        max_length=254,
        help_text=_("The person needs an account on the platform."),
    )
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, choices: list[Role], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in choices]

    def clean_person(self):
        person = find_person(self.cleaned_data["person"])
        if person is None:
            raise ValidationError(
                _("No account with this e-mail address or display name was found.")
            )
        return person


class ReasonForm(forms.Form):
    """The reason for hiding content or blocking a person; required, and shown to the public for hidden
    content."""

    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
