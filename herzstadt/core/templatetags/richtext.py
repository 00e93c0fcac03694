"""``{% load richtext %}{{ text|markdown }}``: safe Markdown for texts the city writes
(``herzstadt.core.richtext``)."""

from django import template

from herzstadt.core import richtext

register = template.Library()

register.filter("markdown", richtext.render, is_safe=True)
