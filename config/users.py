"""The project's user model as a type, and the signed-in user of an admin request.

`AuthUser` is the model `settings.AUTH_USER_MODEL` names (Django's own `User`): django-stubs types
the foreign keys to it (`Lead.owner`, `Contact.staff_user`...) as that model, so a service that
stores a user takes an `AuthUser`. A custom user model would be named here, once.
"""

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

AuthUser: TypeAlias = User


def admin_request_user(request: HttpRequest) -> AuthUser:
    """The user of a request the admin site let through, typed as the user model.

    The admin only serves active staff (`AdminSite.has_permission`, checked by `admin_view`), so
    in a ModelAdmin method, action or admin view `request.user` is never anonymous. No side
    effects. Raises PermissionDenied for an anonymous user all the same, should a view be wired
    outside `admin_view`.
    """
    user = request.user
    if isinstance(user, AnonymousUser):
        raise PermissionDenied
    return user
