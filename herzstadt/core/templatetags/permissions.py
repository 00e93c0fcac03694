"""``{% allowed "perm.name" obj as var %}``: ask a named permission (see core.permissions) for the
person viewing the page, the same way views and use cases ask it."""

from django import template

from herzstadt.core import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def allowed(context, name: str, obj=None) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return permissions.allowed(user, name, obj)
