"""How people appear on pages: by their display name, never by e-mail address."""

from django import template

from herzstadt.accounts import people

register = template.Library()

register.filter("display_name", people.display_name)
