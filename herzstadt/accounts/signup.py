"""Sign-up takes the same time for a known e-mail address as for a new one (issue 8, finding 10).

allauth does not tell a visitor that an address is registered (``ACCOUNT_PREVENT_ENUMERATION``): both
get the same page, and the owner of a known address gets an e-mail. But only a new address had its
password hashed (hundreds of milliseconds with PBKDF2), so the answer's timing told the two apart
(37 ms against 704 ms). The form below hashes the password of a known address too; both then send one
e-mail and write to the database, so the expensive steps are the same.
"""

from __future__ import annotations

from allauth.account.forms import SignupForm as AllauthSignupForm
from django.contrib.auth.hashers import make_password


class SignupForm(AllauthSignupForm):
    def try_save(self, request):
        if self.account_already_exists:
            # the work a new account costs: hash the password (and throw the hash away)
            make_password(self.cleaned_data.get("password1") or "")
        return super().try_save(request)
